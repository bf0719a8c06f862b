/**
 * Soak (issue 8): pushes many requests through one mitm.ts process — keep-alive and new
 * connections, HTTP and intercepted HTTPS — and checks that every request was answered and that
 * the process's descriptors and memory come back down afterwards.
 *
 *   deno task soak                      100,000 requests through mitm.ts on Deno
 *   deno run -A scripts/soak.ts --requests 2000 --runtime bun
 *
 * Prints one JSON object; exits 1 if a request failed or descriptors did not return to baseline.
 * RSS is reported after each round (default 2): a leak keeps growing from one round to the next,
 * while a runtime's heap that grew once stays at its new size.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startOrigins } from "./bench/origin.ts";
import { PROXIES } from "./bench/proxies.ts";
import { runLoadgen } from "./bench/loadgen_run.ts";
import { memoryOf, sleep, stopServicesOnSignal } from "./bench/util.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    requests: { type: "string", default: "100000" },
    runtime: { type: "string", default: "deno" },
    connections: { type: "string", default: "16" },
    rounds: { type: "string", default: "2" },
  },
});

stopServicesOnSignal();
const total = Number(args.requests);
/** The requests are sent in rounds; memory that keeps growing from round to round is a leak. */
const rounds = Math.max(1, Number(args.rounds));
const spec = PROXIES.find((p) => p.key === `mitmts-${args.runtime}`);
if (!spec) {
  console.error(`--runtime must be deno or bun, not ${args.runtime}`);
  process.exit(2);
}
const ROOT = path.resolve(import.meta.dirname!, "..");
const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-soak-"));
fs.chmodSync(tmp, 0o755);

/** How the requests are split: most on keep-alive, a fifth on new connections. */
const PHASES = [
  { mode: "keepalive", scheme: "http", share: 0.4 },
  { mode: "keepalive", scheme: "https", share: 0.4 },
  { mode: "newconn", scheme: "http", share: 0.1 },
  { mode: "newconn", scheme: "https", share: 0.1 },
] as const;

const fds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;
const mb = (bytes: number) => Number((bytes / 1e6).toFixed(1));

fs.mkdirSync(path.join(tmp, "origin"));
const origins = await startOrigins(path.join(tmp, "origin"), {
  bigBytes: 1024,
  hostIps: 0,
  preferNginx: true,
});
fs.mkdirSync(path.join(tmp, "conf"));
const proxy = await spec.start(path.join(tmp, "conf"));
let failed = false;
try {
  const load = async (mode: string, scheme: string, requests: number) => {
    const target = `${scheme === "http" ? origins.http : origins.https}/1k`;
    return await runLoadgen(BUN, proxy, target, [
      "--mode",
      mode,
      "--connections",
      args.connections!,
      "--duration",
      "3600",
      "--warmup",
      "0",
      "--requests",
      String(requests),
    ], 3_600_000); // deno-fmt-ignore
  };
  // Warm-up (leaf issued, pools filled, code compiled), then the baseline.
  for (const p of PHASES) await load(p.mode, p.scheme, 50);
  await sleep(1000);
  const baseline = { fds: fds(proxy.pid), rss: memoryOf(proxy.pid)!.rss };
  const phases = [];
  const rssAfterRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const p of PHASES) {
      const n = Math.round((total / rounds) * p.share);
      const r = await load(p.mode, p.scheme, n);
      phases.push({
        phase: `${p.mode} ${p.scheme}${rounds > 1 ? ` (round ${round + 1})` : ""}`,
        requests: r.requests,
        errors: r.errors,
        rps: r.rps,
        p99_ms: r.p99,
        ...(r.firstError ? { first_error: r.firstError } : {}),
      });
      if (r.errors > 0 || r.requests < n) failed = true;
    }
    await sleep(1000);
    rssAfterRound.push(mb(memoryOf(proxy.pid)!.rss));
  }
  const peak = memoryOf(proxy.pid)!.peak;
  // Client connections are closed by now; give the proxy a moment to notice every one.
  let after = fds(proxy.pid);
  for (let i = 0; i < 50 && after > baseline.fds; i++) {
    await sleep(100);
    after = fds(proxy.pid);
  }
  const rssAfter = memoryOf(proxy.pid)!.rss;
  // Origin connections idle in the pool up to its size per origin: allowed above the baseline.
  const fdsBack = after <= baseline.fds + 4;
  if (!fdsBack) failed = true;
  console.log(JSON.stringify(
    {
      proxy: spec.label,
      origin: origins.kind,
      requests: phases.reduce((a, p) => a + p.requests, 0),
      errors: phases.reduce((a, p) => a + p.errors, 0),
      phases,
      fds: { baseline: baseline.fds, after, back_to_baseline: fdsBack },
      rss_mb: {
        baseline: mb(baseline.rss),
        peak: mb(peak),
        after_each_round: rssAfterRound,
        after: mb(rssAfter),
      },
    },
    null,
    2,
  ));
} finally {
  await proxy.stop();
  await origins.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
