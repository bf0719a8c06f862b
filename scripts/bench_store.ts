/**
 * The flow store's benchmark (issue 18), `deno task bench:store`:
 *
 *   deno run -A scripts/bench_store.ts [--runtimes bun,deno] [--duration S] [--rounds N]
 *                                      [--flows N] [--proxy-only] [--store-only]
 *                                      [--long-requests N] [--store-writer inline|worker]
 *
 * 1. Through the proxy: HTTP keep-alive req/s (loadgen.mjs, 16 connections, GET /1k) with the
 *    defaults (web UI and flow store on) against the same proxy with --no-web, rounds alternated,
 *    medians reported; peak RSS of each; then how many flows the store holds and whether the first
 *    one is still there. With --long-requests N, one more run with the defaults stops after N
 *    requests: its peak RSS, the flows stored and whether the first is still there.
 * 2. Through the store's API (scripts/bench/store_fill.ts in a process of its own): N flows
 *    (default 1,000,000) added and written in batches as the proxy does, peak RSS, the file's
 *    size, the first flow, and the time of indexed and full-text filter queries.
 * Prints a JSON report and a Markdown summary (docs/BENCHMARKS.md has a run).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { BUN_FLAGS } from "./bun_compile.ts";
import { startOrigins } from "./bench/origin.ts";
import { runLoadgen } from "./bench/loadgen_run.ts";
import {
  freePort,
  memoryOf,
  run,
  sleep,
  startService,
  stopServicesOnSignal,
} from "./bench/util.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    runtimes: { type: "string", default: "bun,deno" },
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    flows: { type: "string", default: "1000000" },
    connections: { type: "string", default: "16" },
    /** After the rounds, one run with the defaults of this many requests (0: none). */
    "long-requests": { type: "string", default: "0" },
    "proxy-only": { type: "boolean", default: false },
    /** flow_store_writer for the runs with the defaults (empty: the option's default). */
    "store-writer": { type: "string", default: "" },
    "store-only": { type: "boolean", default: false },
  },
});

const ROOT = path.resolve(import.meta.dirname!, "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const TOKEN = "bench-store-token";
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const runtimes = args.runtimes!.split(",");
stopServicesOnSignal();

const temp = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-bench-store-"));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function runtimeArgv(name: string, script: string): [string, string[]] {
  return name === "bun"
    ? [path.join(BIN, "bun"), [...BUN_FLAGS, script]]
    : [path.join(BIN, "deno"), ["run", "-A", script]];
}

async function startMitm(runtime: string, web: boolean) {
  const port = await freePort();
  const webPort = await freePort();
  const confdir = fs.mkdtempSync(path.join(temp, "conf-"));
  const [cmd, pre] = runtimeArgv(runtime, path.join(ROOT, "cli.ts"));
  const flags = ["-p", String(port), "--confdir", confdir, "-q", "-k"];
  if (web) flags.push("--web-port", String(webPort), "--api-token", TOKEN);
  else flags.push("--no-web");
  if (web && args["store-writer"]) flags.push("--set", `flow_store_writer=${args["store-writer"]}`);
  const s = await startService(cmd, [...pre, ...flags], { port }, { cwd: ROOT });
  return { url: `http://127.0.0.1:${port}`, pid: s.pid, stop: () => s.stop(), webPort };
}

async function api(webPort: number, query: string) {
  const r = await fetch(`http://127.0.0.1:${webPort}/api/flows${query}`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  return await r.json();
}

/** What the store of a proxy run with the defaults holds, and whether its first flow is there. */
async function storeState(proxy: { webPort: number }) {
  await sleep(500); // the last batch
  const newest = await api(proxy.webPort, "?limit=1");
  let oldest = newest;
  while (oldest.more) {
    oldest = await api(proxy.webPort, `?limit=1000&before=${oldest.cursor}`);
  }
  return {
    stored: newest.count,
    dropped: newest.dropped,
    store_bytes: newest.bytes,
    first_flow_there: oldest.flows.length > 0 && oldest.more === false && newest.dropped === 0,
  };
}

/** One run with the defaults of `requests` requests: peak RSS and what the store kept. */
async function longRun(runtime: string, target: string, requests: number) {
  const proxy = await startMitm(runtime, true);
  try {
    const started = performance.now();
    const r = await runLoadgen(
      path.join(BIN, "bun"),
      proxy,
      target,
      // --requests ends the run; --duration would end it first otherwise.
      [
        "--mode",
        "keepalive",
        "--connections",
        args.connections!,
        "--requests",
        String(requests),
        "--duration",
        "86400",
      ],
      6 * 3600_000,
    );
    const peak = memoryOf(proxy.pid)?.peak ?? 0;
    return {
      requests: r.answered,
      seconds: Math.round((performance.now() - started) / 1000),
      rps: r.rps,
      cpu_ms_per_request: r.cpuMsPerRequest ?? null,
      peak_rss_mb: Math.round(peak / 2 ** 20),
      ...await storeState(proxy),
      peak_rss_mb_after_queries: Math.round((memoryOf(proxy.pid)?.peak ?? 0) / 2 ** 20),
    };
  } finally {
    await proxy.stop();
  }
}

async function throughProxy(runtime: string, target: string) {
  const rps: Record<"defaults" | "noWeb", number[]> = { defaults: [], noWeb: [] };
  // The proxy's CPU time per request: less at the mercy of other jobs on the machine than req/s.
  const cpu: Record<"defaults" | "noWeb", number[]> = { defaults: [], noWeb: [] };
  const rss: Record<"defaults" | "noWeb", number[]> = { defaults: [], noWeb: [] };
  let stored: Record<string, unknown> = {};
  for (let round = 0; round < rounds; round++) {
    for (
      const kind of round % 2 === 0
        ? ["defaults", "noWeb"] as const
        : ["noWeb", "defaults"] as const
    ) {
      const proxy = await startMitm(runtime, kind === "defaults");
      try {
        const r = await runLoadgen(
          path.join(BIN, "bun"),
          proxy,
          target,
          [
            "--mode",
            "keepalive",
            "--connections",
            args.connections!,
            "--duration",
            String(duration),
          ],
          (duration + 60) * 1000,
        );
        rps[kind].push(r.rps);
        if (r.cpuMsPerRequest !== undefined) cpu[kind].push(r.cpuMsPerRequest);
        // Before the API queries below, which are not the proxy's traffic.
        rss[kind].push(memoryOf(proxy.pid)?.peak ?? 0);
        if (kind === "defaults") stored = { answered: r.answered, ...await storeState(proxy) };
      } finally {
        await proxy.stop();
      }
      console.error(`  ${runtime} ${kind} round ${round + 1}: ${rps[kind].at(-1)} req/s`);
    }
  }
  const d = median(rps.defaults), n = median(rps.noWeb);
  return {
    rps_defaults: d,
    rps_no_web: n,
    ratio: Number((d / n).toFixed(2)),
    rps_rounds: rps,
    cpu_ms_per_request_defaults: cpu.defaults.length ? median(cpu.defaults) : null,
    cpu_ms_per_request_no_web: cpu.noWeb.length ? median(cpu.noWeb) : null,
    cpu_ratio: cpu.defaults.length && cpu.noWeb.length
      ? Number((median(cpu.noWeb) / median(cpu.defaults)).toFixed(2))
      : null,
    cpu_rounds: cpu,
    peak_rss_mb_defaults: Math.round(Math.max(...rss.defaults) / 2 ** 20),
    peak_rss_mb_no_web: Math.round(Math.max(...rss.noWeb) / 2 ** 20),
    last_defaults_run: stored,
  };
}

async function throughStore(runtime: string) {
  const [cmd, pre] = runtimeArgv(runtime, path.join(ROOT, "scripts", "bench", "store_fill.ts"));
  const dir = fs.mkdtempSync(path.join(temp, "fill-"));
  const r = await run(cmd, [...pre, "--flows", args.flows!, "--dir", dir], {
    timeoutMs: 4 * 3600_000,
  });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0 || !line.startsWith("{")) {
    throw new Error(`store_fill failed (${r.code}): ${(r.stderr || r.stdout).slice(-500)}`);
  }
  return JSON.parse(line);
}

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${
    os.loadavg().map((x) => x.toFixed(1)).join(" ")
  } at the start`,
  settings: { duration, rounds, connections: Number(args.connections), flows: Number(args.flows) },
};
try {
  const origins = !args["store-only"]
    ? await startOrigins(temp, { bigBytes: 1 << 20, hostIps: 0, preferNginx: true })
    : null;
  try {
    for (const runtime of runtimes) {
      const out: Record<string, unknown> = {};
      if (origins) {
        console.error(`${runtime}: HTTP keep-alive through the proxy (origin: ${origins.kind})`);
        out.proxy = await throughProxy(runtime, `${origins.http}/1k`);
        const long = Number(args["long-requests"]);
        if (long > 0) {
          console.error(`${runtime}: ${long} requests with the defaults`);
          out.long_run = await longRun(runtime, `${origins.http}/1k`, long);
        }
      }
      if (!args["proxy-only"]) {
        console.error(`${runtime}: ${args.flows} flows through the store's API`);
        out.store = await throughStore(runtime);
      }
      report[runtime] = out;
    }
  } finally {
    await origins?.stop();
  }
} finally {
  fs.rmSync(temp, { recursive: true, force: true });
}
report.load_average_at_end = os.loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(JSON.stringify(report, null, 2));
