/**
 * Addons changing flows with real traffic: method, URL (to another origin), headers, bodies
 * (text and bytes, Content-Length following), the response status and body.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import type { Addon, Flow } from "../../mod.ts";
import { curlRaw, curlVia, echoOrigin, pairs, parseCurlI, withAddons } from "./helpers.ts";

test("method, URL (another origin) and body changed in `request` reach the new origin", async () => {
  const asked = await echoOrigin();
  const other = await echoOrigin();
  const addon: Addon = {
    name: "redirector",
    request(f) {
      f.request.method = "PUT";
      f.request.url = `http://127.0.0.1:${other.port}/moved?x=1`;
      f.request.setText("new body ✓");
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const r = await curlVia(url, ["-i", `http://127.0.0.1:${asked.port}/orig?y=2`]);
      assert.equal(r.code, 0, r.stderr);
      const res = parseCurlI(r.stdout);
      assert.equal(res.status, 200);
      const echo = JSON.parse(res.body);
      assert.equal(echo.method, "PUT");
      assert.equal(echo.url, "/moved?x=1");
      assert.equal(echo.body, "new body ✓");
    });
    assert.equal(asked.connections(), 0, "the origin the client asked for was not contacted");
    assert.equal(other.received.length, 1);
    const got = other.received[0];
    // Host follows the new destination; Content-Length the new body (UTF-8 bytes).
    assert.equal(got.headers.host, `127.0.0.1:${other.port}`);
    assert.equal(got.headers["content-length"], String(Buffer.byteLength("new body ✓")));
    assert.equal(got.body.toString("utf8"), "new body ✓");
  } finally {
    await asked.close();
    await other.close();
  }
});

test("header edits ignore case and keep the order and case of the other fields", async () => {
  const origin = await echoOrigin();
  const seen: Record<string, unknown> = {};
  const addon: Addon = {
    name: "headers",
    requestheaders(f) {
      const h = f.request.headers;
      seen.get = h.get("X-ONE");
      seen.getAll = h.getAll("x-multi");
      seen.joined = h.get("X-Multi");
      seen.has = h.has("x-three");
      h.set("X-TWO", "two"); // replaces "x-two" where it is, keeping its case
      h.append("X-Added", "a");
      h.append("x-added", "b");
      seen.deleted = h.delete("X-THREE");
    },
    response(f) {
      const h = f.response!.headers;
      h.set("content-TYPE", "text/x-changed");
      h.delete("x-origin");
      h.append("X-Resp-Added", "yes");
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const r = await curlVia(url, [
        "-i",
        "-H",
        "X-One: 1",
        "-H",
        "x-two: 2",
        "-H",
        "X-Multi: m1",
        "-H",
        "X-Three: 3",
        "-H",
        "X-Multi: m2",
        "-H",
        "X-Last: last",
        `http://127.0.0.1:${origin.port}/h`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const res = parseCurlI(r.stdout);
      const names = res.headers.map(([n]) => n);
      // The response: Content-Type replaced in place (original case), X-Origin gone, one added.
      assert.deepEqual(res.headers.find(([n]) => /^content-type$/i.test(n)), [
        "Content-Type",
        "text/x-changed",
      ]);
      assert.ok(!names.some((n) => /^x-origin$/i.test(n)), r.stdout);
      assert.equal(names.at(-1), "X-Resp-Added");
      assert.ok(names.indexOf("Content-Type") < names.indexOf("Date"), names.join());
    });
    assert.deepEqual(seen, {
      get: "1",
      getAll: ["m1", "m2"],
      joined: "m1, m2",
      has: true,
      deleted: 1,
    });
    const got = pairs(origin.received[0].rawHeaders).filter(([n]) => /^x-/i.test(n));
    assert.deepEqual(got, [
      ["X-One", "1"],
      ["x-two", "two"],
      ["X-Multi", "m1"],
      ["X-Multi", "m2"],
      ["X-Last", "last"],
      ["X-Added", "a"],
      ["x-added", "b"],
    ]);
    // The fields curl sent first are still first, in their order.
    const firsts = pairs(origin.received[0].rawHeaders).slice(0, 3).map(([n]) => n);
    assert.deepEqual(firsts, ["Host", "User-Agent", "Accept"]);
  } finally {
    await origin.close();
  }
});

test("a request body replaced with bytes gets a new Content-Length (also when it came chunked)", async () => {
  const origin = await echoOrigin();
  const bytes = new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x80, 10]);
  const addon: Addon = {
    name: "bytes",
    request(f) {
      if (f.request.path === "/bytes") f.request.setBody(bytes);
      else f.request.setText(f.request.text()!.toUpperCase());
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const a = await curlVia(url, ["--data-binary", "a longer original body", `${base}/bytes`]);
      assert.equal(a.code, 0, a.stderr);
      const b = await curlVia(url, [
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "chunked body",
        `${base}/upper`,
      ]);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(JSON.parse(b.stdout).body, "CHUNKED BODY");
    });
    const [a, b] = origin.received;
    assert.equal(a.headers["content-length"], String(bytes.length));
    assert.deepEqual(new Uint8Array(a.body), bytes);
    assert.equal(b.headers["content-length"], "12");
    assert.equal(b.headers["transfer-encoding"], undefined);
    assert.equal(b.body.toString(), "CHUNKED BODY");
  } finally {
    await origin.close();
  }
});

test("the response status, reason and body can be changed in `response`", async () => {
  // A chunked, gzip-encoded origin response: the new body is encoded again and re-framed.
  const origin = await echoOrigin((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Encoding": "gzip" });
    res.write(zlib.gzipSync(`original for ${req.url}`));
    res.end();
  });
  const addon: Addon = {
    name: "status",
    response(f: Flow) {
      const r = f.response!;
      if (f.request.path === "/status-only") {
        r.status = 404;
        return;
      }
      r.status = 201;
      r.reason = "Made Up";
      r.setText(`${r.text()} -> replaced`);
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const raw = await curlRaw(url, [`${base}/x`]);
      assert.equal(raw.status, 201);
      assert.equal(raw.reason, "Made Up");
      const get = (n: string) => raw.headers.find(([k]) => k.toLowerCase() === n)?.[1];
      assert.equal(get("content-encoding"), "gzip");
      assert.equal(get("transfer-encoding"), undefined);
      const wire = raw.bytes;
      assert.equal(get("content-length"), String(wire.length));
      assert.equal(zlib.gunzipSync(wire).toString(), "original for /x -> replaced");

      const d = await curlVia(url, ["-i", "--compressed", `${base}/status-only`]);
      const only = parseCurlI(d.stdout);
      assert.equal(only.status, 404);
      assert.equal(only.body, "original for /status-only");
    });
  } finally {
    await origin.close();
  }
});
