/**
 * `mitm diff A B` on real recordings made by the proxy (-w) from a real origin, and on the HAR of
 * one of them: exit 0 when the same, 1 with the differences when not, 2 for a missing file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import { join } from "node:path";
import { cliArgv, run } from "../e2e/helpers.ts";
import { tempDir } from "../e2e/https_helpers.ts";
import { mitmRun } from "../run/helpers.ts";

function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return run(cmd, argv, { timeoutMs: 60_000 });
}

test("mitm diff on two recorded runs, JSON and HAR", async () => {
  const tmp = tempDir("mitm-diff-");
  let version = 1;
  const origin = http.createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    if (req.url === "/gone" && version === 2) {
      res.statusCode = 404;
      return res.end("{}");
    }
    res.end(JSON.stringify({ path: req.url, version, items: ["a", "b"] }));
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(origin.address() as net.AddressInfo).port}`;
  try {
    const record = async (name: string, paths: string[]) => {
      const file = join(tmp.dir, name);
      const urls = paths.map((p) => base + p).join(" ");
      const r = await mitmRun(["-q", "-w", file, "--", "sh", "-c", `curl -sS ${urls}`]);
      assert.equal(r.code, 0, r.stderr);
      return file;
    };
    const one = await record("one.jsonl", ["/same", "/gone"]);
    const again = await record("again.jsonl", ["/same", "/gone"]);
    version = 2;
    const two = await record("two.jsonl", ["/same", "/gone", "/new"]);

    const same = await mitm(["diff", one, again]);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.equal(same.stdout, "2 same, 0 changed, 0 added, 0 removed\n");

    const differ = await mitm(["diff", one, two]);
    assert.equal(differ.code, 1, differ.stderr);
    assert.equal(
      differ.stdout,
      [
        `+ GET ${base}/new  (only in ${two})`,
        `~ GET ${base}/same`,
        "    body $.version: 1 -> 2",
        `~ GET ${base}/gone`,
        "    status: 200 -> 404",
        '    body $.path: removed (was "/gone")',
        "    body $.version: removed (was 1)",
        '    body $.items: removed (was ["a","b"])',
        "0 same, 2 changed, 1 added, 0 removed",
        "",
      ].join("\n"),
    );

    const asJson = await mitm(["diff", "--json", one, two]);
    assert.equal(asJson.code, 1);
    const parsed = JSON.parse(asJson.stdout);
    assert.deepEqual(parsed.added, [{ method: "GET", url: `${base}/new` }]);
    assert.equal(parsed.changed.length, 2);

    // A HAR of the first run compares equal to the recording it came from.
    const har = join(tmp.dir, "one.har");
    assert.equal((await mitm(["har", one, "-o", har])).code, 0);
    const viaHar = await mitm(["diff", har, again]);
    assert.equal(viaHar.code, 0, viaHar.stdout + viaHar.stderr);

    const missing = await mitm(["diff", one, join(tmp.dir, "nope.jsonl")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^mitm: cannot read .*nope\.jsonl: no such file\.\n$/);
  } finally {
    origin.closeAllConnections();
    await new Promise<void>((r) => origin.close(() => r()));
    tmp.remove();
  }
});
