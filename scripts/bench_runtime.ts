/**
 * Measures the proxy on each runtime with each Network implementation (docs/RUNTIME.md).
 *
 *   bun scripts/bench_runtime.ts [--rounds 5] [--duration 10] [--download-mib 1024]
 *                                [--configs deno:node_net,deno:deno_native,bun:node_net,bun:bun_native]
 *   (--duration 0 skips wrk, --download-mib 0 skips the download)
 *   bun scripts/bench_runtime.ts origin      (only the origin server; prints its port)
 *
 * Needs wrk and curl on PATH (Debian: apt-get install -y wrk curl). Runs under Deno too
 * (deno run -A scripts/bench_runtime.ts).
 *
 * For every round, in an order that changes from round to round, and for every configuration:
 * 1. start scripts/bench_runtime_proxy.ts as a child process on that runtime and implementation;
 * 2. wrk, 2 threads, 16 connections, absolute-form GETs through the proxy to an origin that answers
 *    every request with the same ~1 KiB keep-alive response (2 s warm-up, then `--duration` s);
 *    record req/s, latency p50/p99, the proxy's CPU time and peak RSS (VmHWM);
 * 3. a fresh proxy; curl downloads `--download-mib` MiB of zeros (Content-Length) through it;
 *    record the speed and the proxy's peak RSS.
 * The origin is a separate Bun process (node:net) so that it is the same for all configurations.
 * Prints every run and then a Markdown table of medians.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const self = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Origin: fixed 1 KiB response for every request; /zeros/N streams N zero bytes.

const BODY_1K = "x".repeat(1024 - 2) + "\r\n";
const RESPONSE_1K = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + BODY_1K.length +
    "\r\nConnection: keep-alive\r\n\r\n" + BODY_1K,
);
const ZEROS = new Uint8Array(256 * 1024);

function runOrigin(): void {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let pending = "";
    let streaming = false;
    const queue: number[] = [];
    const streamZeros = (n: number) => {
      streaming = true;
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${n}\r\n\r\n`,
      );
      let left = n;
      const pump = () => {
        while (left > 0) {
          const chunk = left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left);
          left -= chunk.length;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
        streaming = false;
        next();
      };
      pump();
    };
    const next = () => {
      while (!streaming && queue.length > 0) {
        const n = queue.shift()!;
        if (n < 0) socket.write(RESPONSE_1K);
        else streamZeros(n);
      }
    };
    socket.on("data", (chunk: Uint8Array) => {
      pending += new TextDecoder().decode(chunk);
      for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
        const line = pending.slice(0, pending.indexOf("\r\n"));
        pending = pending.slice(end + 4);
        const m = /\/zeros\/(\d+)/.exec(line.split(" ")[1] ?? "");
        queue.push(m ? Number(m[1]) : -1);
      }
      next();
    });
    socket.on("error", () => socket.destroy());
  });
  server.listen(0, "127.0.0.1", () => {
    console.log((server.address() as net.AddressInfo).port);
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring.

interface Config {
  runtime: "deno" | "bun";
  impl: string;
}

interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: string;
  cpuSeconds: number;
  rssMiB: number;
}

interface DownloadResult {
  mibPerSecond: number;
  bytes: number;
  rssMiB: number;
}

const label = (c: Config) => `${c.runtime}+${c.impl}`;

function spawnProxy(c: Config): Promise<{ child: ChildProcess; url: string }> {
  const script = join(root, "scripts", "bench_runtime_proxy.ts");
  const args = c.runtime === "deno" ? ["run", "-A", script, c.impl] : [script, c.impl];
  const child = spawn(bin(c.runtime), args, { stdio: ["pipe", "pipe", "inherit"], cwd: root });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const m = /^(http:\/\/\S+)\n/m.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.once("exit", (code) => reject(new Error(`${label(c)} proxy exited (${code}): ${out}`)));
  });
}

function stopProxy(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.stderr!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.once("error", reject);
    child.once(
      "exit",
      (code) => code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out}`)),
    );
  });
}

/** Peak resident set (VmHWM) of a process, in MiB. */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** User + system CPU time of a process, in seconds (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  return unit === "us" ? v / 1000 : unit === "ms" ? v : unit === "s" ? v * 1000 : NaN;
}

function wrkScript(originPort: number): string {
  const path = join(tmpdir(), `bench_runtime_${originPort}.lua`);
  writeFileSync(
    path,
    [
      `-- Absolute-form requests, as a client sends them to an HTTP proxy.`,
      `wrk.headers["Host"] = "127.0.0.1:${originPort}"`,
      `local req = wrk.format("GET", "http://127.0.0.1:${originPort}/")`,
      `request = function() return req end`,
      ``,
    ].join("\n"),
  );
  return path;
}

async function runWrk(proxyUrl: string, lua: string, seconds: number): Promise<string> {
  return await run("wrk", [
    "-t2",
    "-c16",
    `-d${seconds}s`,
    "--latency",
    "-s",
    lua,
    proxyUrl + "/",
  ]);
}

function parseWrk(out: string): Omit<WrkResult, "cpuSeconds" | "rssMiB"> {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p = (pct: string) => {
    const m = new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  const errors = [
    /Socket errors:.*$/m.exec(out)?.[0],
    /Non-2xx or 3xx responses:.*$/m.exec(out)?.[0],
  ].filter(Boolean).join("; ");
  return { rps, p50ms: p("50"), p99ms: p("99"), errors };
}

async function measureWrk(c: Config, lua: string, seconds: number): Promise<WrkResult> {
  const { child, url } = await spawnProxy(c);
  try {
    await runWrk(url, lua, 2); // warm-up (JIT, origin pool)
    const cpu0 = cpuSeconds(child.pid!);
    const out = await runWrk(url, lua, seconds);
    const cpu = cpuSeconds(child.pid!) - cpu0;
    return { ...parseWrk(out), cpuSeconds: cpu, rssMiB: peakRssMiB(child.pid!) };
  } finally {
    await stopProxy(child);
  }
}

async function measureDownload(
  c: Config,
  originPort: number,
  bytes: number,
): Promise<DownloadResult> {
  const { child, url } = await spawnProxy(c);
  try {
    const out = await run("curl", [
      "-sS",
      "-x",
      url,
      "-o",
      "/dev/null",
      "-w",
      "%{speed_download} %{size_download} %{http_code}",
      `http://127.0.0.1:${originPort}/zeros/${bytes}`,
    ]);
    const [speed, size, status] = out.trim().split(" ").map(Number);
    if (status !== 200 || size !== bytes) {
      throw new Error(`${label(c)}: download got status ${status}, ${size} of ${bytes} bytes`);
    }
    return { mibPerSecond: speed / 1048576, bytes: size, rssMiB: peakRssMiB(child.pid!) };
  } finally {
    await stopProxy(child);
  }
}

function median(xs: number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const rounds = Number(argValue("rounds", "5"));
  const seconds = Number(argValue("duration", "10"));
  const downloadBytes = Number(argValue("download-mib", "1024")) * 1048576;
  const configs: Config[] = argValue(
    "configs",
    "deno:node_net,deno:deno_native,bun:node_net,bun:bun_native",
  ).split(",").map((s) => {
    const [runtime, impl] = s.split(":");
    return { runtime: runtime as Config["runtime"], impl };
  });

  const origin = spawn(bin("bun"), [self, "origin"], { stdio: ["ignore", "pipe", "inherit"] });
  const originPort = await new Promise<number>((resolve) => {
    origin.stdout!.once("data", (d: Uint8Array) => resolve(Number(new TextDecoder().decode(d))));
  });
  const lua = wrkScript(originPort);
  console.log(`origin on 127.0.0.1:${originPort}; ${rounds} rounds; wrk ${seconds} s`);

  // Without a proxy, for scale: what the origin and load generator manage on their own.
  if (seconds > 0) {
    const direct = parseWrk(await runWrk(`http://127.0.0.1:${originPort}`, lua, seconds));
    console.log(
      `direct (no proxy): ${
        direct.rps.toFixed(0)
      } req/s, p50 ${direct.p50ms} ms, p99 ${direct.p99ms} ms`,
    );
  }
  if (downloadBytes > 0) {
    const directDl = await run("curl", [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{speed_download}",
      `http://127.0.0.1:${originPort}/zeros/${downloadBytes}`,
    ]);
    console.log(`direct (no proxy) download: ${(Number(directDl) / 1048576).toFixed(0)} MiB/s`);
  }

  const wrkResults = new Map<string, WrkResult[]>();
  const dlResults = new Map<string, DownloadResult[]>();
  for (let r = 0; r < rounds; r++) {
    // Reverse the order every other round and rotate it every two rounds, so that each
    // configuration runs early, late and next to different neighbours.
    const shift = Math.floor(r / 2);
    let order = configs.map((_, i) => configs[(i + shift) % configs.length]);
    if (r % 2 === 1) order = order.reverse();
    console.log(`round ${r + 1}: ${order.map(label).join(", ")}`);
    for (const c of order) {
      if (seconds === 0) break;
      const w = await measureWrk(c, lua, seconds);
      const list = wrkResults.get(label(c)) ?? [];
      list.push(w);
      wrkResults.set(label(c), list);
      console.log(
        `  ${label(c).padEnd(17)} ${w.rps.toFixed(0).padStart(6)} req/s  p50 ${
          w.p50ms.toFixed(2)
        } ms  p99 ${w.p99ms.toFixed(2)} ms  cpu ${w.cpuSeconds.toFixed(1)} s  rss ${
          w.rssMiB.toFixed(0)
        } MiB${w.errors ? "  " + w.errors : ""}`,
      );
    }
    for (const c of order) {
      if (downloadBytes === 0) break;
      const d = await measureDownload(c, originPort, downloadBytes);
      const list = dlResults.get(label(c)) ?? [];
      list.push(d);
      dlResults.set(label(c), list);
      console.log(
        `  ${label(c).padEnd(17)} download ${d.mibPerSecond.toFixed(0)} MiB/s  rss ${
          d.rssMiB.toFixed(0)
        } MiB`,
      );
    }
  }
  origin.kill("SIGTERM");

  console.log(
    "\n| runtime + network | req/s | p50 ms | p99 ms | proxy CPU s per 10k req " +
      "| peak RSS (wrk) MiB | 1 GiB download MiB/s | peak RSS (download) MiB |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const c of configs) {
    const w = wrkResults.get(label(c)) ?? [];
    const d = dlResults.get(label(c)) ?? [];
    const cpuPer10k = median(w.map((x) => (x.cpuSeconds / (x.rps * seconds)) * 10000));
    console.log(
      `| ${label(c)} | ${median(w.map((x) => x.rps)).toFixed(0)} | ${
        median(w.map((x) => x.p50ms)).toFixed(2)
      } | ${median(w.map((x) => x.p99ms)).toFixed(2)} | ${cpuPer10k.toFixed(2)} | ${
        median(w.map((x) => x.rssMiB)).toFixed(0)
      } | ${median(d.map((x) => x.mibPerSecond)).toFixed(0)} | ${
        median(d.map((x) => x.rssMiB)).toFixed(0)
      } |`,
    );
  }
}

if (process.argv[2] === "origin") runOrigin();
else await main();
