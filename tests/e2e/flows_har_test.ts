/**
 * HAR 1.2 with the real command line: `mitm har FILE -o OUT` from a recording, `--set hardump=FILE`
 * written when the proxy stops, and `mitm read` of a HAR file. Checked with the HAR 1.2 schema.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { validateHar } from "../flow/har_schema.ts";
import { cliArgv, rawServer, run, startProxyProcess } from "./helpers.ts";
import { tempDir } from "./https_helpers.ts";
import { curlVia, echoOrigin, eventually } from "../addons/helpers.ts";

function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return run(cmd, argv, { timeoutMs: 60_000 });
}

const flowLines = (out: string) =>
  out.split("\n").filter((l) => /^\S+:\d+: [A-Z]+ \S+:\/\//.test(l));

// deno-lint-ignore no-explicit-any
type Json = any;

/** An origin with cookies and compression, and the traffic the HAR tests send through it. */
async function traffic(proxyUrl: string, port: number, refused: number) {
  const base = `http://127.0.0.1:${port}`;
  const steps = [
    ["-b", "session=abc123; theme=dark", `${base}/search?q=hello+world&page=2`],
    ["-d", "name=Joe+Bloggs&age=42", `${base}/form`],
    ["-H", "Content-Type: application/json", "-d", '{"k":"v"}', `${base}/json`],
    [`${base}/gzip`],
    [`http://127.0.0.1:${refused}/refused`],
  ];
  for (const args of steps) await curlVia(proxyUrl, args);
}

function harOrigin() {
  return echoOrigin((req, res) => {
    if (req.url === "/gzip") {
      res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "gzip" });
      res.end(zlib.gzipSync("compressed text ".repeat(20)));
      return;
    }
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Set-Cookie": ["id=a3fWa; Max-Age=3600; Path=/; HttpOnly", "lang=en; Secure"],
    });
    res.end(JSON.stringify({ url: req.url, body: req.body.toString() }));
  });
}

async function refusedPort(): Promise<number> {
  const s = await rawServer(() => {});
  await s.close();
  return s.port;
}

test("mitm har FILE -o OUT writes valid HAR 1.2 with cookies, queryString and postData", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir("mitm-har-");
  const origin = await harOrigin();
  const refused = await refusedPort();
  const rec = join(tmp.dir, "flows.jsonl");
  const out = join(tmp.dir, "out.har");
  try {
    const proxy = await startProxyProcess(["-w", rec]);
    try {
      await traffic(proxy.url, origin.port, refused);
      assert.ok(await eventually(() => flowLines(proxy.output()).length === 5), proxy.output());
    } finally {
      assert.equal(await proxy.stop(), 0, proxy.output());
    }

    const r = await mitm(["har", rec, "-o", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `mitm: wrote 5 flows to ${out}\n`);
    assert.equal(r.stdout, "");
    const har: Json = JSON.parse(readFileSync(out, "utf8"));
    const { valid, errors } = validateHar(har);
    assert.ok(valid, JSON.stringify(errors, null, 2));
    assert.equal(har.log.version, "1.2");
    assert.equal(har.log.creator.name, "mitm.ts");
    const [search, form, json, gzip, failed] = har.log.entries;

    assert.deepEqual(
      search.request.cookies.map((c: Json) => [c.name, c.value]),
      [["session", "abc123"], ["theme", "dark"]],
    );
    assert.deepEqual(
      search.request.queryString.map((q: Json) => [q.name, q.value]),
      [["q", "hello world"], ["page", "2"]],
    );
    const setCookies = search.response.cookies;
    assert.deepEqual(setCookies.map((c: Json) => [c.name, c.value]), [["id", "a3fWa"], [
      "lang",
      "en",
    ]]);
    assert.equal(setCookies[0].httpOnly, true);
    assert.equal(setCookies[0].path, "/");
    assert.equal(typeof setCookies[0].expires, "string");
    assert.equal(setCookies[1].secure, true);
    assert.equal(search.request.postData, undefined);

    assert.equal(form.request.method, "POST");
    assert.equal(form.request.postData.mimeType, "application/x-www-form-urlencoded");
    assert.equal(form.request.postData.text, "name=Joe+Bloggs&age=42");
    assert.deepEqual(
      form.request.postData.params.map((p: Json) => [p.name, p.value]),
      [["name", "Joe Bloggs"], ["age", "42"]],
    );
    assert.equal(json.request.postData.mimeType, "application/json");
    assert.equal(json.request.postData.text, '{"k":"v"}');

    // Content-Encoding undone in content.text, the wire size in bodySize.
    assert.equal(gzip.response.content.text, "compressed text ".repeat(20));
    assert.equal(gzip.response.content.size, 320);
    assert.ok(gzip.response.bodySize < 320 && gzip.response.bodySize > 0);

    assert.equal(failed.response.status, 0);
    assert.match(failed.response._error, /could not connect/);

    // To standard output without -o; a filter selects.
    const posts = await mitm(["har", rec, "~m POST"]);
    assert.equal(posts.code, 0, posts.stderr);
    const postHar: Json = JSON.parse(posts.stdout);
    assert.ok(validateHar(postHar).valid);
    assert.deepEqual(postHar.log.entries.map((e: Json) => e.request.url), [
      `http://127.0.0.1:${origin.port}/form`,
      `http://127.0.0.1:${origin.port}/json`,
    ]);

    // Read back: the same lines as the recording itself.
    const fromRec = await mitm(["read", rec]);
    const fromHar = await mitm(["read", out]);
    assert.equal(fromHar.code, 0, fromHar.stderr);
    assert.equal(fromHar.stderr, "");
    assert.equal(fromHar.stdout, fromRec.stdout);
    assert.equal(flowLines(fromHar.stdout).length, 5);
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("--set hardump=FILE writes a HAR file when the proxy gets SIGTERM", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir("mitm-har-");
  const origin = await harOrigin();
  const refused = await refusedPort();
  const file = join(tmp.dir, "dump.har");
  try {
    const proxy = await startProxyProcess(["--set", `hardump=${file}`]);
    let live: string[] = [];
    try {
      await traffic(proxy.url, origin.port, refused);
      assert.ok(await eventually(() => flowLines(proxy.output()).length === 5), proxy.output());
      live = flowLines(proxy.output());
      assert.equal(existsSync(file), false, "written only when the proxy stops");
    } finally {
      assert.equal(await proxy.stop("SIGTERM"), 0, proxy.output());
    }
    assert.match(proxy.output(), new RegExp(`wrote 5 flows to ${file} \\(HAR\\)`));
    const har: Json = JSON.parse(readFileSync(file, "utf8"));
    const { valid, errors } = validateHar(har);
    assert.ok(valid, JSON.stringify(errors, null, 2));
    assert.equal(har.log.entries.length, 5);
    assert.equal(har.log.entries[1].request.postData.params.length, 2);

    const back = await mitm(["read", file]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(flowLines(back.stdout), live);
    const filtered = await mitm(["read", file, "~c 200"]);
    assert.equal(flowLines(filtered.stdout).length, 4);
  } finally {
    await origin.close();
    tmp.remove();
  }
});
