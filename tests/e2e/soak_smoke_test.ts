/**
 * The short version of `deno task soak` (scripts/soak.ts): a few thousand requests through a
 * mitm.ts process on the runtime running the tests — keep-alive and new connections, HTTP and
 * intercepted HTTPS — every one answered, and the process's descriptors back at their baseline.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { runtime } from "../../src/runtime/mod.ts";
import { ROOT, run } from "./helpers.ts";

test("soak: 2,000 requests of four kinds, none lost, descriptors back to baseline", {
  timeout: 180_000,
}, async () => {
  const script = join(ROOT, "scripts", "soak.ts");
  const argv = runtime.name === "deno" ? ["run", "-A", script] : [script];
  const r = await run(process.execPath, [
    ...argv,
    "--requests",
    "2000",
    "--runtime",
    runtime.name === "deno" ? "deno" : "bun",
    "--rounds",
    "2",
  ], { timeoutMs: 170_000 });
  const report = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
  assert.equal(r.code, 0, `soak failed: ${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`);
  assert.equal(report.errors, 0);
  assert.ok(report.requests >= 2000, `${report.requests} requests`);
  assert.equal(report.phases.length, 8, "four kinds of load, two rounds");
  assert.equal(report.rss_mb.after_each_round.length, 2);
  for (const p of report.phases) assert.ok(p.requests > 0, p.phase);
  assert.ok(report.fds.back_to_baseline, JSON.stringify(report.fds));
});
