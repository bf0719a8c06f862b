/**
 * Client replay through the real command line: `mitm replay FILE` sends recorded requests again
 * (one output line each, exit 1 when any fails), and -C does it inside a running proxy, whose
 * recording then holds the replayed flows like live ones.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFlows } from "../../src/flow/record_file.ts";
import { echoOrigin } from "../addons/helpers.ts";
import { cliArgv, run, startProxyProcess } from "../e2e/helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";
import { get, recordInto } from "./e2e_helpers.ts";
import { tempDir } from "./helpers.ts";

async function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(["--confdir", await testConfdir(), ...args]);
  return await run(cmd, argv, { timeoutMs: 60_000 });
}

test("mitm replay FILE: sends each request again, one line per result, exit 0", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin();
  const file = join(dir, "rec.jsonl");
  const base = `http://127.0.0.1:${origin.port}`;
  try {
    await recordInto(file, async ({ url }) => {
      await get(url, [`${base}/first?a=1`]);
      await get(url, ["-d", "posted body", "-H", "X-Mine: yes", `${base}/second`]);
    });
    const r = await mitm(["replay", "-c", "2", file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n").sort();
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0], /GET http:\/\/127\.0\.0\.1:\d+\/first\?a=1 << 200 OK/);
    assert.match(lines[1], /POST http:\/\/127\.0\.0\.1:\d+\/second << 200 OK/);
    assert.equal(origin.received.length, 4);
    const again = origin.received.find((q, i) => i >= 2 && q.method === "POST")!;
    assert.equal(again.body.toString(), "posted body");
    assert.equal(again.headers["x-mine"], "yes");
  } finally {
    await origin.close();
    remove();
  }
});

test("mitm replay: exits 1 when a request fails; bad input is a one-line error", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin();
  const file = join(dir, "rec.jsonl");
  try {
    await recordInto(file, async ({ url }) => {
      await get(url, [`http://127.0.0.1:${origin.port}/gone`]);
    });
    await origin.close();
    const r = await mitm(["replay", file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/gone \d+ms error: could not connect/);
    assert.match(r.stderr, /1 of 1 requests failed/);

    const missing = await mitm(["replay", join(dir, "nope.jsonl")]);
    assert.equal(missing.code, 2);
    assert.match(
      missing.stderr,
      /^mitm: option client_replay: cannot read .*nope\.jsonl \(no such file\)/,
    );
    assert.equal(missing.stderr.trim().split("\n").length, 1);
    const badConcurrency = await mitm(["replay", "-c", "zero", file]);
    assert.equal(badConcurrency.code, 2);
    assert.match(badConcurrency.stderr, /client_replay_concurrency expects a whole number/);
  } finally {
    await origin.close();
    remove();
  }
});

test("-C in a running proxy: replayed flows are recorded like live ones (isReplay set)", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin();
  const file = join(dir, "rec.jsonl");
  const out = join(dir, "out.jsonl");
  try {
    await recordInto(file, async ({ url }) => {
      for (const p of ["a", "b", "c"]) await get(url, [`http://127.0.0.1:${origin.port}/${p}`]);
    });
    const proxy = await startProxyProcess([
      "--no-web",
      "-C",
      file,
      "-w",
      out,
      "--set",
      "client_replay_concurrency=3",
    ]);
    const deadline = Date.now() + 30_000;
    while (!/client replay: done/.test(proxy.output()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await proxy.stop(), 0);
    assert.match(proxy.output(), /client replay: done, 3 answered, 0 failed/);
    const flows = readFlows(out).flows;
    assert.deepEqual(flows.map((f) => f.request.path).sort(), ["/a", "/b", "/c"]);
    assert.ok(flows.every((f) => f.isReplay && f.response?.status === 200));
    assert.equal(origin.received.length, 6);
  } finally {
    await origin.close();
    remove();
  }
});
