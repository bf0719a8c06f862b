/**
 * Addon scripts given with -s, through the real command line: hot reload when the file changes
 * (a broken edit keeps the previous version), and clear errors for scripts that cannot load.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliArgv, run, startProxyProcess } from "../e2e/helpers.ts";
import { tempDir } from "../e2e/https_helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";
import { curlVia, echoOrigin, eventually } from "./helpers.ts";

/** Runs the proxy command line with the shared test CA (never ~/.mitm-ts). */
async function mitmProxy(args: string[]) {
  const [cmd, argv] = cliArgv(["-p", "0", "--confdir", await testConfdir(), ...args]);
  return run(cmd, argv, { timeoutMs: 30_000 });
}

/** A script setting X-Version on requests, logging its load and done. */
function script(version: string): string {
  return `export default {
  name: "versioned",
  load(ctx) { ctx.log.info("load ${version}"); },
  done() { console.log("done ${version}"); },
  request(flow) { flow.request.headers.set("X-Version", "${version}"); },
};
`;
}

const count = (text: string, what: string) => text.split(what).length - 1;

test("-s script: edits are picked up; a broken edit keeps the previous version", {
  timeout: 90_000,
}, async () => {
  const tmp = tempDir("mitm-script-");
  const file = join(tmp.dir, "versioned.ts");
  writeFileSync(file, script("one"));
  const origin = await echoOrigin();
  const proxy = await startProxyProcess(["-s", file]);
  const version = async () => {
    const r = await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/`]);
    assert.equal(r.code, 0, r.stderr);
    return origin.received.at(-1)!.headers["x-version"];
  };
  try {
    assert.match(proxy.output(), /loaded addon script .*versioned\.ts \(versioned\)/);
    assert.match(proxy.output(), /load one/);
    assert.equal(await version(), "one");

    writeFileSync(file, script("two"));
    assert.ok(
      await eventually(() => count(proxy.output(), "reloaded addon script") === 1, 15_000),
      proxy.output(),
    );
    assert.match(proxy.output(), new RegExp(`reloaded addon script ${file}`));
    // The old version's done ran before the new one's load.
    const out = proxy.output();
    assert.ok(out.indexOf("done one") < out.indexOf("load two"), out);
    assert.equal(await version(), "two");

    writeFileSync(file, script("three").replace("export default {", "export default {{ oops"));
    assert.ok(
      await eventually(() => /reloading .*versioned\.ts failed/.test(proxy.output()), 15_000),
      proxy.output(),
    );
    const failed = proxy.output().split("\n").filter((l) => /reloading .*failed/.test(l));
    assert.equal(failed.length, 1, proxy.output());
    // One line naming the file (not the hidden copy that was imported) and the place in it.
    assert.match(
      failed[0],
      new RegExp(
        `failed, keeping the previous version: cannot load addon script ${file}: .*\\(at ${file}:\\d+:\\d+\\)`,
      ),
    );
    assert.doesNotMatch(proxy.output(), /mitm-reload|\n\s+at /);
    assert.equal(await version(), "two", "the broken edit did not replace the working version");

    writeFileSync(file, script("four"));
    assert.ok(
      await eventually(() => count(proxy.output(), "reloaded addon script") === 2, 15_000),
      proxy.output(),
    );
    assert.equal(await version(), "four");
    assert.equal(count(proxy.output(), "load four"), 1);
    // The copies imported for reloading are gone.
    assert.deepEqual(readdirSync(tmp.dir), ["versioned.ts"]);
  } finally {
    assert.equal(await proxy.stop(), 0, proxy.output());
    await origin.close();
    tmp.remove();
  }
  assert.match(proxy.output(), /done four/);
});

test("-s with a missing file is a one-line error and exit 2", async () => {
  const r = await mitmProxy(["-s", "no/such/addon.ts"]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(r.stderr, "mitm: addon script no/such/addon.ts does not exist\n");
  assert.doesNotMatch(r.stdout, /listening/);
});

test("-s with a script that cannot load: one line with the place in the file, exit 2", async () => {
  const tmp = tempDir("mitm-script-");
  try {
    const cases: Array<[string, string, RegExp]> = [
      ["number.ts", "export default 42;\n", /must export default an addon object/],
      ["none.ts", "export const x = 1;\n", /must export default an addon object/],
      ["nulls.ts", "export default [null];\n", /must export default an addon object/],
      ["empty.ts", "export default [];\n", /must export default an addon object/],
      [
        "syntax.ts",
        "export default {\n  request(f) {\n    f.x = ;\n  },\n};\n",
        /cannot load addon script .*syntax\.ts: SyntaxError: .*\(at .*syntax\.ts:3:\d+\)$/,
      ],
      [
        "throws.ts",
        'const x = 1;\nthrow new Error("at import");\n',
        /cannot load addon script .*throws\.ts: at import \(at .*throws\.ts:2:\d+\)$/,
      ],
      [
        "undefined.ts",
        "export default {\n  name: nothing.here,\n};\n",
        /cannot load addon script .*undefined\.ts: ReferenceError: .*nothing.* \(at .*undefined\.ts:2:\d+\)$/,
      ],
    ];
    for (const [name, text, expected] of cases) {
      const file = join(tmp.dir, name);
      writeFileSync(file, text);
      const r = await mitmProxy(["-s", file]);
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^mitm: /, name);
      assert.match(r.stderr.trimEnd(), expected, name);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, `${name}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /listening/, name);
    }
  } finally {
    tmp.remove();
  }
});
