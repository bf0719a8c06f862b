/** Process and measurement helpers for scripts/bench.ts (Node APIs, so it runs on Deno and Bun). */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Service {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr), for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a long-running process and resolves once `ready` holds: a line matching a pattern on
 * its output, or a TCP port accepting connections.
 */
export async function startService(
  cmd: string,
  args: string[],
  ready: { line: RegExp } | { port: number; host?: string },
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Service> {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let exited: string | null = null;
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  child.on("exit", (code, signal) => (exited = `exited (${signal ?? code})`));
  child.on("error", (e) => (exited = e.message));
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) throw new Error(`${cmd} ${exited}: ${out.trim().slice(-500)}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(
        `${cmd} not ready after ${options.timeoutMs ?? 60_000} ms: ${out.slice(-500)}`,
      );
    }
    if ("line" in ready ? ready.line.test(out) : await portOpen(ready.port, ready.host)) break;
    await sleep(50);
  }
  live.add(child);
  child.once("exit", () => live.delete(child));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    stop: () => stopChild(child),
  };
}

/** Services still running, stopped by stopServicesOnSignal() if the script is interrupted. */
const live = new Set<ChildProcess>();

/** On SIGINT/SIGTERM, stop every service started here (origins, proxies), then exit 130. */
export function stopServicesOnSignal(): void {
  const stop = async () => {
    await Promise.all([...live].map(stopChild));
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Runs a command to completion; resolves with its exit code and output. */
export function run(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = options.timeoutMs
      ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs)
      : undefined;
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + e.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A port nothing listens on right now (the OS's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size now and at its peak (VmHWM), in bytes, from /proc (Linux). */
export function memoryOf(pid: number): { rss: number; peak: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rss: kb("VmRSS") * 1024, peak: kb("VmHWM") * 1024 };
  } catch {
    return null;
  }
}

/** Whether `cmd` is on the PATH. */
export async function have(cmd: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${cmd}`])).code === 0;
}

/**
 * CPU time the process has used so far (user + system), in ms, from /proc/PID/stat (Linux; clock
 * ticks of 10 ms). Fields are counted after the ")" that ends the command name.
 */
export function cpuMsOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
