/**
 * End-to-end helpers: run the real CLI as a child process on the runtime running the tests, start
 * real origin servers on 127.0.0.1, and drive real clients (curl, raw sockets).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type http from "node:http";
import net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtime } from "../../src/runtime/mod.ts";
import { testConfdir } from "../fixtures/ca.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** argv to run cli.ts with `args` on the runtime executing the tests. */
export function cliArgv(args: string[]): [string, string[]] {
  const cli = ROOT + "cli.ts";
  return runtime.name === "deno"
    ? [process.execPath, ["run", "-A", cli, ...args]]
    : [process.execPath, [cli, ...args]];
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

/** Runs a command to completion (with a safety timeout) and captures its output. */
export async function run(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const r = await execute(cmd, args, options);
  return { ...r, stdout: String(r.stdout) };
}

/** Like run(), but stdout comes back as bytes (binary output such as DER). */
export async function runBytes(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<{ code: number | null; stdout: Uint8Array; stderr: string }> {
  const r = await execute(cmd, args, options);
  return { code: r.code, stdout: new Uint8Array(r.stdout), stderr: r.stderr };
}

function execute(
  cmd: string,
  args: string[],
  options: RunOptions,
): Promise<{ code: number | null; signal: string | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        env: options.env ?? process.env,
        cwd: options.cwd,
        maxBuffer: 64 * 1024 * 1024,
        encoding: "buffer",
      },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number | string; signal?: string }) | null;
        resolve({
          code: e ? (typeof e.code === "number" ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr: String(stderr),
        });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs curl with `args`; `-sS` is added so errors are short and on stderr. */
export function curl(args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return run("curl", ["-sS", ...args], { timeoutMs });
}

export interface ProxyProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Peak resident memory of the process so far, in bytes (Linux VmHWM). */
  peakRss(): number;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `mitm` as a child process on a free port and waits until it listens. `env` is added to
 * the test process's environment.
 */
export async function startProxyProcess(
  extraArgs: string[] = [],
  options: { env?: Record<string, string> } = {},
): Promise<ProxyProcess> {
  const confdir = extraArgs.includes("--confdir") ? [] : ["--confdir", await testConfdir()];
  const [cmd, args] = cliArgv(["-p", "0", ...confdir, ...extraArgs]);
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`proxy did not start within 30 s; output:\n${output}`));
    }, 30_000);
    const onData = (d: Uint8Array) => {
      output += String(d);
      const m = /listening at (http:\/\/[^\s]+)/.exec(output);
      if (m && timer) {
        clearTimeout(timer);
        const url = m[1];
        resolve({
          url,
          port: Number(new URL(url).port),
          child,
          output: () => output,
          peakRss: () => readPeakRss(child.pid!),
          stop: (signal = "SIGTERM") => {
            // process.kill, not child.kill: Deno's child.kill() makes the exit code read null.
            if (child.exitCode === null) process.kill(child.pid!, signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code} before listening; output:\n${output}`));
    });
  });
}

export function readPeakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export interface LocalServer {
  port: number;
  /** Closes the server and the connections still open to it. */
  close(): Promise<void>;
}

/** Starts a node:http server on 127.0.0.1 at a free port. */
export async function listenLocal(server: http.Server): Promise<LocalServer> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface RawServer {
  port: number;
  /** Every connection accepted so far. */
  sockets: net.Socket[];
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 whose handler gets raw sockets: byte-exact origins. */
export function rawServer(onSocket: (socket: net.Socket) => void): Promise<RawServer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on("error", () => {});
    onSocket(s);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        sockets,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * Reads from `socket` until `done(bytesSoFar)` says the message is complete (or EOF), then
 * resolves with the bytes. Rejects after `timeoutMs` so a hang fails the test instead of
 * stalling it.
 */
export function readUntil(
  socket: net.Socket,
  done: (received: Buffer) => boolean,
  timeoutMs = 10_000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      if (error) reject(error);
      else resolve(received);
    };
    const onData = (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (done(received)) finish();
    };
    const onEnd = () => finish();
    const timer = setTimeout(
      () => finish(new Error(`timed out; received ${JSON.stringify(String(received))}`)),
      timeoutMs,
    );
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onEnd);
    if (done(received)) finish();
  });
}

/** Resolves when `buf` holds a complete request head; returns its length or -1. */
export function headLength(buf: Buffer): number {
  const i = buf.indexOf("\r\n\r\n");
  return i < 0 ? -1 : i + 4;
}

/** Opens a raw TCP connection to 127.0.0.1:port. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Sends raw bytes to the proxy and returns everything it answers until it closes. */
export async function rawExchange(port: number, bytes: string | Uint8Array): Promise<string> {
  const s = await connect(port);
  s.write(bytes);
  const out = await readUntil(s, () => false);
  s.destroy();
  return out.toString("latin1");
}
