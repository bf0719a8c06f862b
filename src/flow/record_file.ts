/**
 * Recording files: one flow per line (JSON Lines, see serialize.ts and docs/flow-format.md).
 *
 * Each flow is written as one complete line by one synchronous write on a file opened for append,
 * so a crash or kill -9 can tear at most the line being written; every flow written before it is
 * already with the kernel and survives. Readers skip a torn last line and report it.
 *
 * ```ts
 * const rec = new FlowRecorder("flows.jsonl", { bodyLimit: 1 << 20 });
 * rec.write(flow);
 * rec.close();
 * const { flows, skipped, tornTail } = readFlows("flows.jsonl");
 * ```
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { open, readFile } from "node:fs/promises";
import type { Flow } from "./flow.ts";
import { harEntriesToFlows, isHar } from "./har.ts";
import { flowFromJson, flowToJson } from "./serialize.ts";

export interface RecorderOptions {
  /** Bodies larger than this many bytes are recorded as truncated. Default: no limit. */
  bodyLimit?: number;
  /** fsync after every flow, so flows also survive a power loss (slower). Default false. */
  fsync?: boolean;
}

const encoder = new TextEncoder();

/** Appends flows to a recording file, one line each. */
export class FlowRecorder {
  readonly path: string;
  #fd: number | null;
  #bodyLimit: number;
  #fsync: boolean;
  /** Flows written so far by this recorder. */
  count = 0;

  constructor(path: string, options: RecorderOptions = {}) {
    this.path = path;
    this.#bodyLimit = options.bodyLimit ?? Infinity;
    if (!(this.#bodyLimit >= 0)) {
      throw new RangeError(`bodyLimit must be >= 0, not ${this.#bodyLimit}`);
    }
    this.#fsync = options.fsync ?? false;
    const fd = openSync(path, "a", 0o644);
    try {
      // A torn line left by a killed writer must not swallow our first line: end it.
      if (!endsWithNewline(path, fd)) writeAll(fd, encoder.encode("\n"));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.#fd = fd;
  }

  /** Writes the flow as one line with one write; throws when closed or when the write fails. */
  write(flow: Flow): void {
    if (this.#fd === null) throw new Error(`recorder for ${this.path} is closed`);
    const line = JSON.stringify(flowToJson(flow, { bodyLimit: this.#bodyLimit })) + "\n";
    writeAll(this.#fd, encoder.encode(line));
    if (this.#fsync) fsyncSync(this.#fd);
    this.count++;
  }

  get closed(): boolean {
    return this.#fd === null;
  }

  /** Closes the file; later writes throw. Calling it again does nothing. */
  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    closeSync(fd);
  }
}

/** Whether the file is empty or its last byte is "\n". */
function endsWithNewline(path: string, fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  // The append fd is write-only: read the last byte through a second one.
  const rfd = openSync(path, "r");
  try {
    const last = new Uint8Array(1);
    return readSync(rfd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a;
  } finally {
    closeSync(rfd);
  }
}

/** One write(2) for the whole buffer in practice; loops only if the kernel takes part of it. */
function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

// ---------------------------------------------------------------------------------------------
// reading

export interface SkippedLine {
  /** 1-based line number (for a HAR file: the 1-based entry number). */
  line: number;
  reason: string;
}

export interface ReadResult {
  flows: Flow[];
  /** Lines that are not flows, with why (a torn last line is not listed: see tornTail). */
  skipped: SkippedLine[];
  /** The last line was cut short (no final newline and not valid JSON): a write was interrupted. */
  tornTail: boolean;
}

/** One line of a recording, as the streaming reader yields it. */
export type FlowLine =
  | { line: number; flow: Flow }
  | { line: number; skipped: string; torn: boolean };

const decoder = new TextDecoder();

/** Parses one line. `terminated`: the line ended with "\n" (else it is the file's last bytes). */
function parseLine(bytes: Uint8Array, line: number, terminated: boolean): FlowLine | null {
  const text = decoder.decode(bytes).trim();
  if (text === "") return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // Unterminated and not JSON: the write of this line was cut short.
    if (!terminated) {
      return { line, skipped: "torn line (cut short while being written)", torn: true };
    }
    return { line, skipped: `not JSON: ${(e as Error).message}`, torn: false };
  }
  try {
    return { line, flow: flowFromJson(json) };
  } catch (e) {
    return { line, skipped: (e as Error).message, torn: false };
  }
}

function collect(items: Iterable<FlowLine>): ReadResult {
  const out: ReadResult = { flows: [], skipped: [], tornTail: false };
  for (const item of items) {
    if ("flow" in item) out.flows.push(item.flow);
    else if (item.torn) out.tornTail = true;
    else out.skipped.push({ line: item.line, reason: item.skipped });
  }
  return out;
}

function* splitLines(data: Uint8Array): Generator<FlowLine> {
  let start = 0;
  let line = 0;
  while (start < data.length) {
    line++;
    const nl = data.indexOf(0x0a, start);
    const end = nl < 0 ? data.length : nl;
    const item = parseLine(data.subarray(start, end), line, nl >= 0);
    if (item !== null) yield item;
    start = end + 1;
  }
}

/**
 * What the first non-blank line says about the file: "har" (a one-line HAR document), "maybe" (the
 * start of a pretty-printed JSON document: "{" or '{"log": ...' alone), or "no" (JSON Lines).
 */
function harHint(firstLine: string): "har" | "maybe" | "no" {
  const text = firstLine.replace(/^\uFEFF/, "").trim();
  try {
    return isHar(JSON.parse(text)) ? "har" : "no";
  } catch {
    return /^\{\s*("log"\s*:.*)?$/.test(text) ? "maybe" : "no";
  }
}

function firstLine(data: Uint8Array): string {
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    const text = decoder.decode(data.subarray(start, nl < 0 ? data.length : nl));
    if (text.trim() !== "" || nl < 0) return text;
    start = nl + 1;
  }
}

/** The file's flows when it is a HAR document, else null. */
function readHar(data: Uint8Array): ReadResult | null {
  if (harHint(firstLine(data)) === "no") return null;
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (!isHar(json)) return null;
  const { flows, skipped } = harEntriesToFlows(json);
  return {
    flows,
    skipped: skipped.map((s) => ({ line: s.entry, reason: `HAR entry ${s.entry}: ${s.reason}` })),
    tornTail: false,
  };
}

/**
 * Reads a recording (or a HAR file) whole. Invalid lines are skipped and listed; a torn last line
 * sets tornTail.
 */
export function readFlows(path: string): ReadResult {
  const data = readFileSync(path);
  return readHar(data) ?? collect(splitLines(data));
}

/**
 * Reads a recording line by line without holding the whole file, yielding each flow or skipped
 * line in order. A HAR file is read whole (JSON cannot be parsed in parts) and its flows yielded.
 */
export async function* streamFlows(path: string, chunkSize = 1 << 20): AsyncGenerator<FlowLine> {
  const fh = await open(path, "r");
  try {
    let pending = new Uint8Array(0);
    let line = 0;
    let first = true;
    const chunk = new Uint8Array(chunkSize);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      const buf = new Uint8Array(pending.length + bytesRead);
      buf.set(pending);
      buf.set(chunk.subarray(0, bytesRead), pending.length);
      let start = 0;
      for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
        const bytes = buf.subarray(start, nl);
        start = nl + 1;
        line++;
        if (first && bytes.some((b) => b > 0x20)) {
          first = false;
          const har = await harInstead(path, bytes);
          if (har !== null) {
            for (const item of har) yield item;
            return;
          }
        }
        const item = parseLine(bytes, line, true);
        if (item !== null) yield item;
      }
      pending = buf.slice(start);
    }
    if (pending.length > 0) {
      line++;
      if (first) {
        const har = await harInstead(path, pending);
        if (har !== null) {
          for (const item of har) yield item;
          return;
        }
      }
      const item = parseLine(pending, line, false);
      if (item !== null) yield item;
    }
  } finally {
    await fh.close();
  }
}

/** The HAR's flows when the file is a HAR document (judged from its first non-blank line). */
async function harInstead(path: string, first: Uint8Array): Promise<FlowLine[] | null> {
  if (harHint(decoder.decode(first)) === "no") return null;
  const result = readHar(await readFile(path));
  if (result === null) return null;
  return [
    ...result.flows.map((flow, i) => ({ line: i + 1, flow })),
    ...result.skipped.map((s) => ({ line: s.line, skipped: s.reason, torn: false })),
  ];
}
