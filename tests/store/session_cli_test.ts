/**
 * Sessions through the real command line: `--save-session FILE` keeps the flows, `mitm read` and
 * `mitm har` read a session, `mitm web FILE` shows a session, a `-w` recording or a HAR file, a
 * foreign or damaged file is one line and exit 1, and the default temporary store is gone after
 * exit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { flowsToHar } from "../../src/flow/har.ts";
import { flowToJson } from "../../src/flow/serialize.ts";
import { withOrigin } from "../api/helpers.ts";
import { cliArgv, curl, run, startProxyProcess } from "../e2e/helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";
import { makeFlow, withTempDir } from "./helpers.ts";

const TOKEN = "session-token-1234";

async function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return await run(cmd, argv, { timeoutMs: 60_000 });
}

/** The web UI's flow list, through its socket, with the token. */
async function listed(output: string, query = ""): Promise<{ paths: string[]; body: unknown }> {
  const ui = /Web UI: {2}(http:\/\/[^/\s]+)/.exec(output)![1];
  const r = await curl(["-H", `Authorization: Bearer ${TOKEN}`, `${ui}/api/flows${query}`]);
  const body = JSON.parse(r.stdout);
  return { paths: body.flows.map((f: { request: { path: string } }) => f.request.path), body };
}

async function waitFor<T>(what: string, fn: () => Promise<T | false>): Promise<T> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("--save-session keeps the flows; read, har and web open the session", {
  timeout: 180_000,
}, async () => {
  await withTempDir(async (dir) => {
    await withOrigin(async (origin) => {
      const file = path.join(dir, "saved.db");
      const common = ["--web-port", "0", "--api-token", TOKEN];
      const proc = await startProxyProcess(["--save-session", file, ...common]);
      try {
        for (const p of ["/one", "/two", "/json"]) {
          const r = await curl(["-x", proc.url, `http://127.0.0.1:${origin.port}${p}`]);
          assert.equal(r.code, 0, r.stderr);
        }
        await waitFor(
          "3 flows listed",
          async () => (await listed(proc.output())).paths.length === 3,
        );
      } finally {
        assert.equal(await proc.stop(), 0);
      }
      assert.ok(fs.existsSync(file));

      const read = await mitm(["read", file]);
      assert.equal(read.code, 0, read.stderr);
      assert.match(read.stdout, /\/one[\s\S]*\/two[\s\S]*\/json/);
      const filtered = await mitm(["read", file, "~u json"]);
      assert.equal(filtered.stdout.trim().split("\n").length, 1, filtered.stdout);
      const har = await mitm(["har", file]);
      assert.equal(har.code, 0, har.stderr);
      assert.equal(JSON.parse(har.stdout).log.entries.length, 3);

      // Opened again in the web UI; new flows are added to the same session.
      const web = await startProxyProcess([
        "web",
        file,
        "--confdir",
        await testConfdir(),
        ...common,
      ]);
      try {
        const first = await listed(web.output());
        assert.deepEqual(first.paths, ["/one", "/two", "/json"]);
        assert.equal((first.body as { total: number }).total, 3);
        await curl(["-x", web.url, `http://127.0.0.1:${origin.port}/four`]);
        await waitFor("the new flow", async () => (await listed(web.output())).paths.length === 4);
      } finally {
        assert.equal(await web.stop(), 0);
      }
      const again = await mitm(["read", file]);
      assert.match(again.stdout, /\/four/);
    });
  });
});

test("mitm web opens a -w recording and a HAR file", { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const flows = [makeFlow(1), makeFlow(2), makeFlow(3)];
    const jsonl = path.join(dir, "rec.jsonl");
    fs.writeFileSync(jsonl, flows.map((f) => JSON.stringify(flowToJson(f)) + "\n").join(""));
    const har = path.join(dir, "rec.har");
    fs.writeFileSync(har, JSON.stringify(flowsToHar(flows)));
    for (const file of [jsonl, har]) {
      const web = await startProxyProcess(["web", file, "--web-port", "0", "--api-token", TOKEN]);
      try {
        const { paths } = await listed(web.output());
        assert.deepEqual(paths, ["/item/1", "/item/2", "/item/3"], file);
      } finally {
        assert.equal(await web.stop(), 0);
      }
    }
  });
});

test("a foreign or damaged file is one line and exit 1", { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const garbage = path.join(dir, "garbage.bin");
    fs.writeFileSync(garbage, new Uint8Array(4096).map((_, i) => (i * 7919) % 256));
    const damaged = path.join(dir, "damaged.db");
    const bytes = new Uint8Array(8192).fill(0x5a);
    bytes.set(new TextEncoder().encode("SQLite format 3\0"));
    fs.writeFileSync(damaged, bytes);
    const cases: [string[], RegExp][] = [
      [["web", garbage, "--web-port", "0"], /not a mitm\.ts session, a -w recording or a HAR file/],
      [["web", damaged, "--web-port", "0"], /damaged\.db/],
      [["read", damaged], /damaged\.db/],
      [["har", damaged], /damaged\.db/],
      [["web", path.join(dir, "missing.db"), "--web-port", "0"], /no such file/],
      [["--save-session", garbage, "--web-port", "0"], /not a mitm\.ts session/],
    ];
    for (const [args, message] of cases) {
      const r = await mitm(["-p", "0", "--confdir", await testConfdir(), ...args]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  });
});

test("the default store is a temporary file removed at exit", { timeout: 120_000 }, async () => {
  await withTempDir(async (tmp) => {
    await withOrigin(async (origin) => {
      const proc = await startProxyProcess(["--web-port", "0", "--api-token", TOKEN], {
        env: { TMPDIR: tmp },
      });
      try {
        await curl(["-x", proc.url, `http://127.0.0.1:${origin.port}/x`]);
        await waitFor("the flow listed", async () => (await listed(proc.output())).paths.length);
        const dirs = fs.readdirSync(tmp).filter((d) => d.startsWith("mitm-flows-"));
        assert.equal(dirs.length, 1, "one store directory while running");
        assert.ok(fs.existsSync(path.join(tmp, dirs[0], "flows.db")));
      } finally {
        assert.equal(await proc.stop(), 0);
      }
      assert.deepEqual(fs.readdirSync(tmp).filter((d) => d.startsWith("mitm-flows-")), []);
    });
  });
});
