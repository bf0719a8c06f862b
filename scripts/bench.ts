/**
 * Benchmarks mitm.ts against mitmproxy, http-mitm-proxy and mockttp, side by side in one run
 * (issue 5). `deno task bench` runs everything; docs/BENCHMARKS.md explains the output.
 *
 *   deno run -A scripts/bench.ts [--proxies k1,k2] [--scenarios a,b,...] [--duration S] [--out DIR]
 *                                [--loadgen bun|node]   the runtime of loadgen.mjs (default bun)
 *                                [--rounds N]   rounds of b and c, interleaved (default 3)
 *                                [--warmup S]   seconds of load before measuring (default 1)
 *                                [--compare DIR]   also mitm.ts on Bun from another checkout
 *                                                  (a worktree of an older commit), side by side
 *   deno run -A scripts/bench.ts --smoke     a ~10-second run of mitm.ts alone (CI keeps it working)
 *
 * Scenarios: a HTTP keep-alive, b HTTPS keep-alive, c new HTTPS connections, d 500 host names,
 * e 1 GiB transfers, f 1,000 idle connections, hooks (addon hooks vs. none).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startOrigins } from "./bench/origin.ts";
import { compareSpec, PROXIES } from "./bench/proxies.ts";
import {
  hooksCost,
  httpKeepalive,
  httpsLoad,
  idleConnections,
  manyHosts,
  type Metrics,
  type Settings,
  transfer,
} from "./bench/scenarios.ts";
import {
  type BenchRun,
  medianRun,
  type Outcome,
  type ScenarioResult,
  writeReport,
} from "./bench/report.ts";
import { run, stopServicesOnSignal } from "./bench/util.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    smoke: { type: "boolean", default: false },
    proxies: { type: "string" },
    scenarios: { type: "string" },
    duration: { type: "string" },
    out: { type: "string" },
    loadgen: { type: "string", default: "bun" },
    rounds: { type: "string" },
    warmup: { type: "string" },
    compare: { type: "string" },
  },
});

const smoke = args.smoke!;
stopServicesOnSignal();
const runtimeKey = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "mitmts-bun"
  : "mitmts-deno";
const wanted = (args.proxies ?? (smoke ? runtimeKey : PROXIES.map((p) => p.key).join(","))).split(
  ",",
);
const unknown = wanted.filter((k) => !PROXIES.some((p) => p.key === k));
if (unknown.length) {
  console.error(
    `unknown proxy ${unknown.join(", ")}; choose from ${PROXIES.map((p) => p.key).join(", ")}`,
  );
  process.exit(2);
}
const scenarioKeys = (args.scenarios ?? "a,b,c,d,e,f,hooks").split(",");
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-bench-"));
fs.chmodSync(tmpRoot, 0o755); // nginx's unprivileged workers read files below it
let tmpCount = 0;
const settings: Omit<Settings, "origins"> = {
  duration: Number(args.duration ?? (smoke ? 1 : 10)),
  // Seconds of load before measuring: Bun's JIT keeps compiling a new connection's path for
  // tens of seconds at a few hundred connections a second (docs/BENCHMARKS.md).
  warmup: Number(args.warmup ?? (smoke ? 0 : 1)),
  hookRounds: smoke ? 1 : 5,
  connections: smoke ? 4 : 16,
  loadgenRuntime: args.loadgen === "node"
    ? "node"
    : path.join(import.meta.dirname!, "..", "node_modules", ".bin", "bun"),
  hosts: smoke ? 10 : 500,
  idleConnections: smoke ? 20 : 1000,
  bigBytes: smoke ? 8 * 1024 * 1024 : 1024 ** 3,
  tempDir: () => {
    const d = path.join(tmpRoot, `t${tmpCount++}`);
    fs.mkdirSync(d);
    return d;
  },
  log: (line) => console.error(line),
};
/** Rounds of the req/s ratio scenarios (b, c); each round runs every proxy once, in turn. */
const rounds = Math.max(1, Number(args.rounds ?? (smoke ? 1 : 3)));
const outDir = args.out ?? (smoke ? path.join(tmpRoot, "out") : path.join("docs", "bench"));

const log = settings.log;
const started = Date.now();
const bench: BenchRun = {
  date: new Date().toISOString(),
  command: `deno task bench${
    process.argv.slice(2).length ? " " + process.argv.slice(2).join(" ") : ""
  }`,
  machine: await machine(),
  settings: {
    duration_s: settings.duration,
    connections: settings.connections,
    hosts: settings.hosts,
    idle_connections: settings.idleConnections,
    transfer_bytes: settings.bigBytes,
    loadgen: `loadgen.mjs on ${args.loadgen === "node" ? "Node" : "Bun"}`,
    rounds_b_c: rounds,
  },
  proxies: {},
  scenarios: {},
};

// In the order given, so that variants named side by side also run side by side in each round.
const specs = wanted.map((k) => PROXIES.find((p) => p.key === k)!);
// Another checkout runs right after ours, so each round measures both in the same minute.
if (args.compare) specs.splice(1, 0, compareSpec(args.compare));
for (const spec of specs) {
  const ready = await spec.prepare();
  bench.proxies[spec.key] = { label: spec.label, ours: spec.ours, ...ready };
  log(
    "missing" in ready ? `skip ${spec.label}: ${ready.missing}` : `${spec.label}: ${ready.version}`,
  );
}
const available = specs.filter((s) => !bench.proxies[s.key].missing);

const origins = await startOrigins(settings.tempDir(), {
  bigBytes: settings.bigBytes,
  hostIps: settings.hosts,
  preferNginx: true,
});
bench.machine.origin = origins.kind;
const s: Settings = { ...settings, origins };

type Runner = (spec: (typeof PROXIES)[number]) => Promise<Metrics>;
const SCENARIOS: {
  key: string;
  group: string;
  title: string;
  primary: string;
  higher: boolean;
  ours?: boolean;
  /** Run every proxy this many times, round after round, and report the median run. */
  rounds?: number;
  run: Runner;
}[] = [
  {
    key: "a_http_keepalive",
    group: "a",
    title: `a) HTTP keep-alive, 1 KiB, ${s.connections} connections (req/s)`,
    primary: "rps",
    higher: true,
    run: (p) => httpKeepalive(p, s),
  },
  {
    key: "b_https_keepalive",
    group: "b",
    title: `b) intercepted HTTPS keep-alive, 1 KiB, ${s.connections} connections (req/s)`,
    primary: "rps",
    higher: true,
    rounds,
    run: (p) => httpsLoad(p, s, "keepalive"),
  },
  {
    key: "c_https_newconn",
    group: "c",
    title: "c) new HTTPS connections: CONNECT + TLS + 1 request (conn/s)",
    primary: "rps",
    higher: true,
    rounds,
    run: (p) => httpsLoad(p, s, "newconn"),
  },
  {
    key: "d_hosts",
    group: "d",
    title: `d) first contact with ${s.hosts} host names (seconds)`,
    primary: "seconds",
    higher: false,
    run: (p) => manyHosts(p, s),
  },
  {
    key: "e_download_http",
    group: "e",
    title: "e) download over HTTP (MB/s)",
    primary: "mb_per_s",
    higher: true,
    run: (p) => transfer(p, s, "download", "http"),
  },
  {
    key: "e_download_https",
    group: "e",
    title: "e) download over HTTPS (MB/s)",
    primary: "mb_per_s",
    higher: true,
    run: (p) => transfer(p, s, "download", "https"),
  },
  {
    key: "e_upload_http",
    group: "e",
    title: "e) upload over HTTP (MB/s)",
    primary: "mb_per_s",
    higher: true,
    run: (p) => transfer(p, s, "upload", "http"),
  },
  {
    key: "e_upload_https",
    group: "e",
    title: "e) upload over HTTPS (MB/s)",
    primary: "mb_per_s",
    higher: true,
    run: (p) => transfer(p, s, "upload", "https"),
  },
  {
    key: "f_idle",
    group: "f",
    title: `f) ${s.idleConnections} idle intercepted HTTPS connections (RSS MB)`,
    primary: "rss_mb",
    higher: false,
    run: (p) => idleConnections(p, s),
  },
  {
    key: "hooks",
    group: "hooks",
    title: "hooks: HTTPS keep-alive with request+response hooks vs. none (req/s)",
    primary: "rps_with_hooks",
    higher: true,
    ours: true,
    run: (p) => hooksCost(p, s),
  },
]; // deno-fmt-ignore

try {
  for (const sc of SCENARIOS.filter((x) => scenarioKeys.includes(x.group))) {
    const result: ScenarioResult = { title: sc.title, primary: sc.primary, higherIsBetter: sc.higher, results: {} };
    bench.scenarios[sc.key] = result;
    const runs = new Map<string, Outcome[]>();
    // Round after round rather than proxy after proxy: a slow spell of this shared machine then
    // falls on every proxy alike, and the median run of each is compared.
    const n = sc.rounds ?? 1;
    for (let round = 1; round <= n; round++) {
      for (const spec of available.filter((p) => !sc.ours || p.ours)) {
        log(`${sc.key} ${spec.label}${n > 1 ? ` (round ${round} of ${n})` : ""} ...`);
        let outcome: Outcome;
        try {
          outcome = await sc.run(spec);
          log(`  ${JSON.stringify(outcome)}`);
        } catch (e) {
          outcome = { error: (e as Error).message.split("\n")[0] };
          log(`  failed: ${(e as Error).message}`);
        }
        let outcomes = runs.get(spec.key);
        if (!outcomes) runs.set(spec.key, outcomes = []);
        outcomes.push(outcome);
      }
    }
    for (const [key, outcomes] of runs) result.results[key] = medianRun(outcomes, sc.primary);
  }
} finally {
  await origins.stop();
}

bench.settings.wall_seconds = Math.round((Date.now() - started) / 1000);
const md = writeReport(bench, outDir);
console.log(md);
console.log(
  `wrote ${outDir}/latest.json, latest.md, rps.svg, mbps.svg in ${bench.settings.wall_seconds} s`,
);
fs.rmSync(tmpRoot, { recursive: true, force: true, maxRetries: 3 });
const failed = Object.values(bench.scenarios).some((sc) =>
  Object.values(sc.results).some((o) => "error" in o)
);
process.exit(smoke && failed ? 1 : 0);

async function machine(): Promise<Record<string, string>> {
  const cpus = os.cpus();
  const v = async (cmd: string, a: string[]) =>
    (await run(cmd, a)).stdout.trim().split("\n")[0] || "?";
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model ?? "?"}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()}`,
    node: await v("node", ["--version"]),
    wrk: (await run("wrk", ["--version"])).stdout.split("\n")[0].split(" [")[0] || "not installed",
    curl: await v("curl", ["--version"]),
  };
}
