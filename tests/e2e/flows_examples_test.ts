/**
 * The example addons in examples/, each loaded with -s by the real command line, with curl
 * through the proxy to origins on 127.0.0.1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { join } from "node:path";
import { rawServer, ROOT, startProxyProcess } from "./helpers.ts";
import { curlRaw, curlVia, echoOrigin, eventually } from "../addons/helpers.ts";

const example = (name: string) => join(ROOT, "examples", name);

test("examples/add_header.ts: X-Proxied-By reaches the origin, X-Intercepted the client", async () => {
  const origin = await echoOrigin();
  const proxy = await startProxyProcess(["-s", example("add_header.ts")]);
  try {
    assert.match(proxy.output(), /loaded addon script .*add_header\.ts \(add-header\)/);
    const r = await curlRaw(proxy.url, [`http://127.0.0.1:${origin.port}/hello`]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers.filter(([n]) => n === "X-Intercepted"), [["X-Intercepted", "true"]]);
    assert.equal(origin.received.length, 1);
    assert.equal(origin.received[0].headers["x-proxied-by"], "mitm.ts");
    // The origin's own headers and body are untouched.
    assert.equal(r.headers.find(([n]) => n === "X-Origin")?.[1], "echo");
    assert.equal(JSON.parse(r.body).url, "/hello");
  } finally {
    assert.equal(await proxy.stop(), 0, proxy.output());
    await origin.close();
  }
});

test("examples/block_domain.ts: 403 for a BLOCKED domain and its subdomains, without contacting it", async () => {
  const origin = await echoOrigin();
  const proxy = await startProxyProcess(["-s", example("block_domain.ts")], {
    env: { BLOCKED: "localhost, other.test" },
  });
  try {
    for (
      const url of [
        `http://localhost:${origin.port}/`,
        `http://ads.localhost:${origin.port}/x`,
        `http://other.test/`,
      ]
    ) {
      const r = await curlRaw(proxy.url, [url]);
      assert.equal(r.status, 403, url);
      const host = new URL(url).hostname;
      assert.equal(r.body, `blocked by mitm.ts: ${host}\n`);
      assert.equal(r.headers.find(([n]) => n === "Content-Length")?.[1], String(r.bytes.length));
    }
    // With a body the client is still sending: answered all the same (and the body not read).
    const post = await curlRaw(proxy.url, [
      "--data-binary",
      "x".repeat(100_000),
      `http://localhost:${origin.port}/upload`,
    ]);
    assert.equal(post.status, 403);
    assert.equal(origin.connections(), 0, "a blocked origin is never contacted");

    // Others pass: the same origin by its address.
    const ok = await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/fine`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).url, "/fine");
    assert.equal(origin.received.map((r) => r.url).join(), "/fine");
  } finally {
    assert.equal(await proxy.stop(), 0, proxy.output());
    await origin.close();
  }
});

test("examples/rewrite_json.ts: every price becomes 0, plain and gzip-encoded", async () => {
  const doc = {
    price: 12.5,
    name: "basket",
    items: [{ name: "a", price: 3 }, { name: "b", price: 4, tags: [{ price: 1 }] }],
    nested: { deeper: { price: 99, currency: "EUR" } },
  };
  const expected = {
    price: 0,
    name: "basket",
    items: [{ name: "a", price: 0 }, { name: "b", price: 0, tags: [{ price: 0 }] }],
    nested: { deeper: { price: 0, currency: "EUR" } },
    rewritten_by: "mitm.ts",
  };
  const json = JSON.stringify(doc);
  const origin = await echoOrigin((req, res) => {
    if (req.url === "/plain") {
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" });
      res.end(json);
    } else if (req.url === "/gzip") {
      const gz = zlib.gzipSync(json);
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "Content-Length": String(gz.length),
      });
      res.end(gz);
    } else if (req.url === "/gzip-chunked") {
      const gz = zlib.gzipSync(json);
      res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
      res.write(gz.subarray(0, 10));
      res.end(gz.subarray(10));
    } else {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(json);
    }
  });
  const proxy = await startProxyProcess(["-s", example("rewrite_json.ts")]);
  try {
    const base = `http://127.0.0.1:${origin.port}`;
    const plain = await curlRaw(proxy.url, [`${base}/plain`]);
    assert.equal(plain.status, 200);
    assert.deepEqual(JSON.parse(plain.body), expected);
    assert.equal(
      plain.headers.find(([n]) => n === "Content-Length")?.[1],
      String(plain.bytes.length),
    );

    for (const p of ["/gzip", "/gzip-chunked"]) {
      const r = await curlRaw(proxy.url, [`${base}${p}`]);
      const get = (name: string) => r.headers.find(([n]) => n.toLowerCase() === name)?.[1];
      assert.equal(get("content-encoding"), "gzip", p);
      assert.equal(get("transfer-encoding"), undefined, p);
      assert.equal(get("content-length"), String(r.bytes.length), p);
      assert.deepEqual(JSON.parse(zlib.gunzipSync(r.bytes).toString()), expected, p);
      // And a client that decodes it sees the same.
      const decoded = await curlVia(proxy.url, ["--compressed", `${base}${p}`]);
      assert.deepEqual(JSON.parse(decoded.stdout), expected, p);
    }

    // Not JSON: untouched.
    const text = await curlVia(proxy.url, [`${base}/text`]);
    assert.equal(text.stdout, json);
  } finally {
    assert.equal(await proxy.stop(), 0, proxy.output());
    await origin.close();
  }
});

test("examples/log_timings.ts prints one timing line per flow", async () => {
  const origin = await echoOrigin();
  const closed = await rawServer(() => {});
  const refused = closed.port;
  await closed.close(); // nothing listens there any more
  const proxy = await startProxyProcess(["-s", example("log_timings.ts")]);
  try {
    const base = `http://127.0.0.1:${origin.port}`;
    const r = await curlVia(proxy.url, [`${base}/one`, `${base}/two`]);
    assert.equal(r.code, 0, r.stderr);
    await curlVia(proxy.url, [`http://127.0.0.1:${refused}/nobody`]);
    const lines = () => proxy.output().split("\n").filter((l) => l.startsWith("timing: "));
    assert.ok(await eventually(() => lines().length === 3), proxy.output());
    const [one, two, nobody] = lines();
    assert.match(
      one,
      new RegExp(
        `^timing: GET ${base}/one status=200 connect=\\d+ ms tls=- ttfb=\\d+ ms total=\\d+ ms$`,
      ),
    );
    // /two reused the pooled connection (its connect time is from /one).
    assert.match(two, new RegExp(`^timing: GET ${base}/two status=200 .* total=\\d+ ms$`));
    assert.match(
      nobody,
      new RegExp(
        `^timing: GET http://127\\.0\\.0\\.1:${refused}/nobody status=error connect=- tls=- ` +
          `ttfb=- total=\\d+ ms$`,
      ),
    );
  } finally {
    assert.equal(await proxy.stop(), 0, proxy.output());
    await origin.close();
  }
});
