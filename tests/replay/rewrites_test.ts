/**
 * The rewrite options end to end: curl through the proxy to real origins on 127.0.0.1, with the
 * options set as the CLI sets them (each spec string parsed by the option registry).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseOptionValue } from "../../src/options.ts";
import { echoOrigin, pairs } from "../addons/helpers.ts";
import { curlVia, get, withOptions } from "./e2e_helpers.ts";
import { tempDir } from "./helpers.ts";

/** Option values as `--set name=value` would give them (so bad specs fail here too). */
const specs = (name: string, ...values: string[]) =>
  values.flatMap((v) => parseOptionValue(name, v) as string[]);

const header = (h: [string, string][], name: string) =>
  h.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

test("map_local: a directory serves files with their type; .., symlinks out and missing refused", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin();
  const root = join(dir, "www");
  mkdirSync(join(root, "js"), { recursive: true });
  writeFileSync(join(root, "index.html"), "<h1>local</h1>");
  writeFileSync(join(root, "js", "app.js"), "console.log(1)");
  writeFileSync(join(dir, "secret.txt"), "secret");
  symlinkSync(join(dir, "secret.txt"), join(root, "leak.txt"));
  const base = `http://127.0.0.1:${origin.port}`;
  try {
    await withOptions({
      map_local: specs("map_local", `|127\\.0\\.0\\.1:${origin.port}/static|${root}`),
    }, async ({ url }) => {
      const js = await get(url, [`${base}/static/js/app.js?v=3`]);
      assert.equal(js.status, 200);
      assert.equal(js.body, "console.log(1)");
      assert.equal(header(js.headers, "content-type"), "text/javascript; charset=utf-8");
      const index = await get(url, [`${base}/static/`]);
      assert.equal(index.body, "<h1>local</h1>");
      assert.equal(header(index.headers, "content-type"), "text/html; charset=utf-8");
      assert.equal((await get(url, ["--path-as-is", `${base}/static/../secret.txt`])).status, 403);
      assert.equal((await get(url, [`${base}/static/%2e%2e/secret.txt`])).status, 403);
      assert.equal((await get(url, [`${base}/static/leak.txt`])).status, 403);
      assert.equal((await get(url, [`${base}/static/nope.css`])).status, 404);
      // Not matching the regex: the origin answers.
      assert.equal(header((await get(url, [`${base}/other`])).headers, "x-origin"), "echo");
    });
    assert.deepEqual(origin.received.map((r) => r.url), ["/other"]);
  } finally {
    await origin.close();
    remove();
  }
});

test("map_local: a single file, limited by a filter", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin();
  const file = join(dir, "fixture.json");
  writeFileSync(file, '{"mocked":true}');
  const base = `http://127.0.0.1:${origin.port}`;
  try {
    await withOptions(
      { map_local: specs("map_local", `|~m GET|/api/|${file}`) },
      async ({ url }) => {
        const r = await get(url, [`${base}/api/anything/at/all`]);
        assert.equal(r.body, '{"mocked":true}');
        assert.equal(header(r.headers, "content-type"), "application/json");
        const post = await get(url, ["-d", "x", `${base}/api/anything`]);
        assert.equal(header(post.headers, "x-origin"), "echo", "POST does not match ~m GET");
      },
    );
  } finally {
    await origin.close();
    remove();
  }
});

test("map_remote: the URL is rewritten to another origin, Host follows", async () => {
  const asked = await echoOrigin();
  const other = await echoOrigin();
  try {
    const spec = `|127\\.0\\.0\\.1:${asked.port}/v1/|127.0.0.1:${other.port}/v2/`;
    await withOptions({ map_remote: specs("map_remote", spec) }, async ({ url }) => {
      const r = await get(url, [`http://127.0.0.1:${asked.port}/v1/items?x=1`]);
      assert.equal(JSON.parse(r.body).url, "/v2/items?x=1");
    });
    assert.equal(asked.connections(), 0);
    assert.equal(other.received[0].headers.host, `127.0.0.1:${other.port}`);
  } finally {
    await asked.close();
    await other.close();
  }
});

test("modify_headers: set, delete (empty value), @file, ~q and ~s", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin();
  const valueFile = join(dir, "token.txt");
  writeFileSync(valueFile, "from-file\n");
  try {
    await withOptions({
      modify_headers: specs(
        "modify_headers",
        "/~q/User-Agent/mitm-test",
        "/~q/X-Remove-Me/",
        `|~q|Authorization|@${valueFile}`,
        "/~s/X-Origin/rewritten",
        "/~s/Server/",
      ),
    }, async ({ url }) => {
      const r = await get(url, ["-H", "X-Remove-Me: 1", `http://127.0.0.1:${origin.port}/h`]);
      assert.equal(header(r.headers, "x-origin"), "rewritten");
      assert.equal(header(r.headers, "server"), undefined);
    });
    const got = pairs(origin.received[0].rawHeaders);
    assert.equal(header(got, "user-agent"), "mitm-test");
    assert.equal(header(got, "x-remove-me"), undefined);
    assert.equal(header(got, "authorization"), "from-file");
  } finally {
    await origin.close();
    remove();
  }
});

test("modify_body: request and response bodies, regex groups, @file", async () => {
  const { dir, remove } = tempDir();
  const origin = await echoOrigin();
  const replacement = join(dir, "r.txt");
  writeFileSync(replacement, "FILE");
  try {
    await withOptions({
      modify_body: specs(
        "modify_body",
        "/~q/secret-(\\d+)/redacted-$1",
        `|~s|"method"|@${replacement}`,
      ),
    }, async ({ url }) => {
      const r = await get(url, ["-d", "a secret-42 b", `http://127.0.0.1:${origin.port}/b`]);
      assert.match(r.body, /^\{FILE:"POST"/);
      assert.equal(header(r.headers, "content-length"), String(Buffer.byteLength(r.body)));
    });
    assert.equal(origin.received[0].body.toString(), "a redacted-42 b");
  } finally {
    await origin.close();
    remove();
  }
});

test("block_list: a status without reaching the origin; 444 hangs up", async () => {
  const origin = await echoOrigin();
  const base = `http://127.0.0.1:${origin.port}`;
  try {
    await withOptions({
      block_list: specs("block_list", "/~u \\/ads\\//403", "|~u /track|444"),
    }, async ({ url }) => {
      const r = await get(url, [`${base}/ads/banner.png`]);
      assert.equal(r.status, 403);
      assert.equal(r.body, "");
      const hang = await curlVia(url, [`${base}/track?id=1`]);
      assert.equal(hang.code, 52, `curl: empty reply, got ${hang.code} ${hang.stderr}`);
      assert.equal((await get(url, [`${base}/fine`])).status, 200);
    });
    assert.deepEqual(origin.received.map((r) => r.url), ["/fine"]);
  } finally {
    await origin.close();
  }
});

test("anticache and anticomp change what the origin is asked", async () => {
  const origin = await echoOrigin();
  try {
    await withOptions({ anticache: true, anticomp: true }, async ({ url }) => {
      await get(url, [
        "-H",
        'If-None-Match: "abc"',
        "-H",
        "If-Modified-Since: Wed, 21 Oct 2015 07:28:00 GMT",
        "-H",
        "Accept-Encoding: gzip, br",
        `http://127.0.0.1:${origin.port}/c`,
      ]);
    });
    const got = origin.received[0].headers;
    assert.equal(got["if-none-match"], undefined);
    assert.equal(got["if-modified-since"], undefined);
    assert.equal(got["accept-encoding"], "identity");
  } finally {
    await origin.close();
  }
});
