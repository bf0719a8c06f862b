/**
 * `mitm run`, `mitm diff` and `mitm browser`'s checks in the single executable (bun build
 * --compile): the Node preload and the other run files come from inside the binary, and Node's
 * fetch (which ignores proxy variables) is captured through them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { ROOT, run } from "../e2e/helpers.ts";
import { httpsOrigin, makeOriginCert } from "../e2e/https_helpers.ts";
import { bunCompileArgs } from "../../scripts/bun_compile.ts";
import { testConfdir } from "../fixtures/ca.ts";
import { BUN, recordedRequests, works } from "./helpers.ts";

test("the binary: mitm run captures curl and Node fetch over https; mitm diff", async (t) => {
  if (!(await works("node", ["--version"]))) return t.skip("node is not on PATH");
  const dir = mkdtempSync(join(tmpdir(), "mitm-run-bin-"));
  try {
    const binary = join(dir, "mitm");
    const build = await run(BUN, bunCompileArgs("cli.ts", binary), {
      cwd: ROOT,
      timeoutMs: 300_000,
    });
    assert.equal(build.code, 0, build.stderr);
    assert.ok(existsSync(binary));
    const cert = await makeOriginCert(dir, ["localhost"]);
    const origin = await httpsOrigin(cert);
    try {
      const url = `https://localhost:${origin.port}`;
      const record = join(dir, "flows.jsonl");
      const fetchScript = `fetch("${url}/node").then((r) => r.text()).then(console.log)`;
      const r = await run(binary, [
        "run",
        "--confdir",
        await testConfdir(),
        "-w",
        record,
        "--set",
        `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
        "--",
        "sh",
        "-c",
        `curl -sS ${url}/curl && echo && node -e '${fetchScript}' && exit 4`,
      ], { cwd: dir, env: process.env as Record<string, string>, timeoutMs: 120_000 });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stdout, /hello from the origin: GET \/curl/);
      assert.match(r.stdout, /hello from the origin: GET \/node/);
      assert.deepEqual(recordedRequests(record), [`GET ${url}/curl`, `GET ${url}/node`]);

      const same = await run(binary, ["diff", record, record], { cwd: dir });
      assert.equal(same.code, 0, same.stderr);
      assert.equal(same.stdout, "2 same, 0 changed, 0 added, 0 removed\n");
    } finally {
      await origin.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
