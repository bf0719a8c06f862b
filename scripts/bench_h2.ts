/**
 * HTTP/2 benchmark (issue 17): h2load against each proxy in reverse mode, TLS with h2 on both
 * sides (h2load -> proxy -> nginx), side by side in one run.
 *
 *   deno run -A scripts/bench_h2.ts [--proxies mitmts-bun,mitmts-binary,mitmproxy]
 *                                   [--duration S] [--connections C] [--streams M] [--idle N]
 *
 * For each proxy: requests per second and p99 latency of GET /1k with C connections of M
 * concurrent streams each (default 4 x 25 = 100 streams), from h2load's per-request log; the
 * proxy's CPU time per request, over h2 and over HTTP/1.1 (h2load --h1, 16 connections);
 * and its RSS per idle h2 connection (N connections, one request each, then idle).
 * docs/BENCHMARKS.md, "HTTP/2", has the numbers and the command.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BUN_FLAGS } from "./bun_compile.ts";
import { PROXIES } from "./bench/proxies.ts";
import { makeOriginCert } from "./bench/origin.ts";
import {
  cpuMsOf,
  freePort,
  memoryOf,
  run,
  type Service,
  sleep,
  startService,
  stopServicesOnSignal,
} from "./bench/util.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    proxies: { type: "string", default: "mitmts-bun,mitmts-binary,mitmproxy" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "4" },
    streams: { type: "string", default: "25" },
    idle: { type: "string", default: "500" },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const streams = Number(args.streams);
const idleCount = Number(args.idle);

stopServicesOnSignal();
const ROOT = path.resolve(import.meta.dirname!, "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-bench-h2-"));
fs.chmodSync(tmp, 0o755); // nginx's unprivileged workers read below it

/** How each proxy starts in reverse mode towards `origin` on `port`. */
const STARTERS: Record<string, (port: number, origin: string, dir: string) => [string, string[]]> =
  {
    "mitmts-bun": (port, origin, dir) => [
      path.join(BIN, "bun"),
      [...BUN_FLAGS, path.join(ROOT, "cli.ts"), ...mitmArgs(port, origin, dir)],
    ],
    "mitmts-deno": (port, origin, dir) => [
      path.join(BIN, "deno"),
      ["run", "-A", path.join(ROOT, "cli.ts"), ...mitmArgs(port, origin, dir)],
    ],
    "mitmts-binary": (port, origin, dir) => [
      path.join(ROOT, "dist", "mitm-bench"),
      mitmArgs(port, origin, dir),
    ],
    mitmproxy: (port, origin, dir) => [
      "mitmdump",
      [
        "--listen-host",
        "127.0.0.1",
        "-p",
        String(port),
        "--mode",
        `reverse:${origin}`,
        "--set",
        `confdir=${dir}`,
        "--ssl-insecure",
        "-q",
      ],
    ],
  };

function mitmArgs(port: number, origin: string, dir: string): string[] {
  return [
    "-p",
    String(port),
    "--confdir",
    dir,
    "-q",
    "-k",
    "--no-web",
    "--mode",
    `reverse:${origin}`,
  ];
}

interface Result {
  key: string;
  label: string;
  version: string;
  h2: { rps: number; p99Ms: number; requests: number; failed: number; cpuUsPerRequest: number };
  h1: { rps: number; cpuUsPerRequest: number };
  idleRssKiBPerConnection: number;
}

async function main(): Promise<void> {
  const origin = await startNginxH2(tmp);
  const results: Result[] = [];
  try {
    for (const key of args.proxies!.split(",")) {
      const spec = PROXIES.find((p) => p.key === key);
      const starter = STARTERS[key];
      if (spec === undefined || starter === undefined) {
        console.error(`unknown proxy ${key}; choose from ${Object.keys(STARTERS).join(", ")}`);
        process.exit(2);
      }
      const ready = await spec.prepare();
      if ("missing" in ready) {
        console.log(`${spec.label}: skipped: ${ready.missing}`);
        continue;
      }
      console.log(`${spec.label} (${ready.version})`);
      const dir = fs.mkdtempSync(path.join(tmp, `${key}-`));
      const port = await freePort();
      const [cmd, argv] = starter(port, origin.url, dir);
      const proxy = await startService(cmd, argv, { port }, { cwd: ROOT });
      try {
        const r = await measure(proxy, port);
        results.push({ key, label: spec.label, version: ready.version, ...r });
        console.log(JSON.stringify(results.at(-1)));
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    await origin.service.stop();
  }
  printTable(results);
  const out = path.join(ROOT, ".bench", "h2.json");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
  console.log(`\nwritten: ${out}`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function measure(
  proxy: Service,
  port: number,
): Promise<Omit<Result, "key" | "label" | "version">> {
  const url = `https://127.0.0.1:${port}/1k`;
  // First, on the fresh proxy: after the load runs its heap would still be shrinking.
  const idle = await idleRss(proxy.pid, port);
  // Warm-up: JIT, the leaf certificate, origin connections.
  await h2load(["-n", "2000", "-c", String(connections), "-m", String(streams), url]);

  const log = path.join(tmp, `h2load-${port}.log`);
  const cpu0 = cpuMsOf(proxy.pid)!;
  const h2 = await h2load([
    "-D",
    String(duration),
    "--warm-up-time=2",
    "-c",
    String(connections),
    "-m",
    String(streams),
    `--log-file=${log}`,
    url,
  ]);
  const cpu1 = cpuMsOf(proxy.pid)!;
  const h2Cpu = ((cpu1 - cpu0) * 1000) / Math.max(1, h2.succeeded);
  const p99Ms = percentile(readDurationsUs(log), 0.99) / 1000;

  const cpu2 = cpuMsOf(proxy.pid)!;
  const h1 = await h2load([
    "--h1",
    "-D",
    String(duration),
    "--warm-up-time=2",
    "-c",
    "16",
    url,
  ]);
  const cpu3 = cpuMsOf(proxy.pid)!;
  const h1Cpu = ((cpu3 - cpu2) * 1000) / Math.max(1, h1.succeeded);

  return {
    h2: {
      rps: h2.rps,
      p99Ms,
      requests: h2.succeeded,
      failed: h2.failed,
      cpuUsPerRequest: h2Cpu,
    },
    h1: { rps: h1.rps, cpuUsPerRequest: h1Cpu },
    idleRssKiBPerConnection: idle,
  };
}

/** Runs h2load; req/s and request counts from its summary. */
async function h2load(argv: string[]) {
  const r = await run("h2load", argv, { timeoutMs: (duration + 120) * 1000 });
  const out = r.stdout;
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out)?.[1] ?? NaN);
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed/
    .exec(out);
  if (m === null || Number.isNaN(rps)) {
    throw new Error(`h2load ${argv.join(" ")} failed:\n${out}\n${r.stderr}`);
  }
  return { rps, succeeded: Number(m[4]), failed: Number(m[5]) };
}

/** h2load --log-file: start time, status, duration in microseconds, tab-separated. */
function readDurationsUs(file: string): number[] {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) =>
    Number(l.split("\t")[2])
  );
}

function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/**
 * RSS per idle h2 connection: `idleCount` TLS h2 connections, one GET each, then held open;
 * the growth of the proxy's RSS over the count (after a settle), in KiB. A first, smaller batch
 * of connections (20) comes before the baseline, so that first-use costs (the leaf, code paths
 * compiled, the origin connection) are not counted per connection.
 */
async function idleRss(pid: number, port: number): Promise<number> {
  const first = await startService(
    "node",
    [
      path.join(import.meta.dirname!, "bench", "h2_idle.mjs"),
      String(port),
      "20",
    ],
    { line: /READY/ },
    { timeoutMs: 120_000 },
  );
  await first.stop();
  await sleep(1000);
  const before = memoryOf(pid)!.rss;
  const holder = await startService(
    "node",
    [
      path.join(import.meta.dirname!, "bench", "h2_idle.mjs"),
      String(port),
      String(idleCount),
    ],
    { line: /READY/ },
    { timeoutMs: 120_000 },
  );
  try {
    await sleep(2000);
    const after = memoryOf(pid)!.rss;
    return (after - before) / 1024 / idleCount;
  } finally {
    await holder.stop();
  }
}

/** nginx serving /1k over TLS with h2 (and HTTP/1.1) on 127.0.0.1. */
async function startNginxH2(dir: string): Promise<{ url: string; service: Service }> {
  const { cert, key } = await makeOriginCert(dir);
  const root = path.join(dir, "www");
  fs.mkdirSync(root, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(root, "1k"), Buffer.alloc(1024, "x"), { mode: 0o644 });
  fs.mkdirSync(path.join(dir, "nginx-tmp"), { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, "nginx.conf");
  fs.writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
error_log ${dir}/nginx-error.log;
pid ${dir}/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-tmp;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  http2_max_concurrent_streams 1000;
  http2_max_requests 10000000;
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    root ${root};
  }
}
`,
  );
  const service = await startService("nginx", ["-c", conf, "-p", dir], { port });
  return { url: `https://127.0.0.1:${port}`, service };
}

function printTable(results: Result[]): void {
  const ref = results.find((r) => r.key === "mitmproxy");
  console.log(
    `\nh2load, ${connections} connections x ${streams} streams, ${duration} s, GET /1k, TLS+h2 both sides`,
  );
  console.log(
    "| proxy | req/s (h2) | vs mitmproxy | p99 (ms) | CPU/request h2 (µs) | CPU/request HTTP/1.1 (µs) | req/s (HTTP/1.1) | RSS per idle h2 connection (KiB) |",
  );
  console.log("| --- | --: | --: | --: | --: | --: | --: | --: |");
  for (const r of results) {
    const ratio = ref ? `${(r.h2.rps / ref.h2.rps).toFixed(1)}x` : "-";
    console.log(
      `| ${r.label} | ${r.h2.rps.toFixed(0)} | ${ratio} | ${r.h2.p99Ms.toFixed(1)} | ${
        r.h2.cpuUsPerRequest.toFixed(0)
      } | ${r.h1.cpuUsPerRequest.toFixed(0)} | ${r.h1.rps.toFixed(0)} | ${
        r.idleRssKiBPerConnection.toFixed(1)
      } |`,
    );
  }
}

await main();
