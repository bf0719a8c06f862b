/**
 * Standard output that may be a pipe whose reader has gone (`mitm read f.jsonl | head`): the
 * write fails with EPIPE, thrown from write() on both runtimes or emitted as an 'error' event.
 * That is the reader saying "enough", so the command ends quietly instead of printing a trace.
 */
import process from "node:process";

/** Thrown by writeStdout once standard output is closed; main ends the command with 0. */
export class StdoutClosed extends Error {
  constructor() {
    super("standard output is closed");
    this.name = "StdoutClosed";
  }
}

let closed = false;
let listening = false;

function isClosedPipe(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

function watchErrors(): void {
  if (listening) return;
  listening = true;
  process.stdout.on("error", (e: unknown) => {
    // Anything else is not ours to hide: rethrow it as the runtime would have.
    if (!isClosedPipe(e)) throw e;
    closed = true;
  });
}

/** Whether a write to standard output has failed because nobody reads it any more. */
export function stdoutClosed(): boolean {
  return closed;
}

/**
 * Writes to standard output, waiting while the pipe is full (so that memory stays flat however
 * much is printed); throws StdoutClosed when the reader has gone.
 */
export async function writeStdout(text: string | Uint8Array): Promise<void> {
  watchErrors();
  if (closed) throw new StdoutClosed();
  let ok: boolean;
  try {
    ok = process.stdout.write(text);
  } catch (e) {
    if (!isClosedPipe(e)) throw e;
    closed = true;
    throw new StdoutClosed();
  }
  if (!ok && !closed) {
    await new Promise<void>((resolve) => {
      const done = () => {
        process.stdout.off("drain", done);
        process.stdout.off("error", done);
        resolve();
      };
      process.stdout.once("drain", done);
      process.stdout.once("error", done);
    });
  }
  if (closed) throw new StdoutClosed();
}

/**
 * A synchronous writer for the live flow output: once the reader has gone it stops writing and
 * calls `onClosed` once, and the proxy carries on.
 */
export function stdoutWriter(onClosed: () => void): (text: string) => void {
  watchErrors();
  let told = false;
  return (text) => {
    if (!closed) {
      try {
        process.stdout.write(text);
        return;
      } catch (e) {
        if (!isClosedPipe(e)) throw e;
        closed = true;
      }
    }
    if (!told) {
      told = true;
      onClosed();
    }
  };
}
