/**
 * Benchmarks are not tests: this only keeps scripts/bench.ts working, with its ~10-second smoke
 * run (mitm.ts on the runtime running the tests, every scenario, tiny sizes). The numbers live in
 * docs/BENCHMARKS.md.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtime } from "../../src/runtime/mod.ts";
import { ROOT, run } from "./helpers.ts";

test("bench --smoke measures every scenario and writes JSON, Markdown and SVG", {
  timeout: 180_000,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), "mitm-bench-smoke-"));
  try {
    const script = join(ROOT, "scripts", "bench.ts");
    const argv = runtime.name === "deno" ? ["run", "-A", script] : [script];
    const r = await run(process.execPath, [...argv, "--smoke", "--out", out], {
      timeoutMs: 170_000,
    });
    assert.equal(r.code, 0, `bench --smoke failed:\n${r.stderr.slice(-2000)}`);
    const bench = JSON.parse(readFileSync(join(out, "latest.json"), "utf8"));
    const key = runtime.name === "deno" ? "mitmts-deno" : "mitmts-bun";
    assert.deepEqual(Object.keys(bench.proxies), [key]);
    const scenarios = Object.keys(bench.scenarios);
    for (const s of ["a_http_keepalive", "b_https_keepalive", "c_https_newconn", "d_hosts"]) {
      assert.ok(scenarios.includes(s), s);
    }
    type Outcome = Record<string, number | string | null>;
    const all: Record<string, { primary: string; results: Record<string, Outcome> }> =
      bench.scenarios;
    for (const [name, sc] of Object.entries(all)) {
      const m = sc.results[key];
      assert.ok(m && !("error" in m), `${name}: ${JSON.stringify(m)}`);
      assert.ok(Number(m[sc.primary]) > 0, `${name}: ${sc.primary} = ${m[sc.primary]}`);
      if ("errors" in m) assert.equal(m.errors, 0, `${name}: errors`);
    }
    assert.equal(bench.scenarios.f_idle.results[key].held, bench.settings.idle_connections);
    const md = readFileSync(join(out, "latest.md"), "utf8");
    assert.match(md, /### Targets/);
    assert.match(readFileSync(join(out, "rps.svg"), "utf8"), /^<svg [^>]*>[\s\S]*<rect /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
