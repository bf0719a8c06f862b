/**
 * Bodies and hooks: a body over stream_large_bodies streams even with a `request`/`response`
 * hook (which then sees no body, and says how big it was); without such hooks responses stream
 * as they arrive while flow_done still gets a copy of small bodies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Addon, Flow } from "../../mod.ts";
import { connect, rawServer, readUntil } from "../e2e/helpers.ts";
import { curlRaw, curlVia, echoOrigin, eventually, withAddons } from "./helpers.ts";

interface Seen {
  body: Uint8Array | null;
  streamed: boolean;
  bodySize: number;
}

const seen = (m: { body: Uint8Array | null; streamed: boolean; bodySize: number }): Seen => ({
  body: m.body,
  streamed: m.streamed,
  bodySize: m.bodySize,
});

test("a 10k upload over stream_large_bodies=1k streams: the request hook sees no body", async () => {
  const origin = await echoOrigin((req, res) => res.end(`got ${req.body.length}`));
  let inHook: Seen | null = null;
  const done: Flow[] = [];
  const addon: Addon = {
    name: "big-request",
    request(f) {
      inHook = seen(f.request);
    },
    flow_done(f) {
      done.push(f);
    },
  };
  const upload = "u".repeat(10 * 1024);
  try {
    await withAddons([addon], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      // Content-Length, then chunked (which is noticed only once 1k has been read).
      const r = await curlVia(url, ["--data-binary", upload, `${base}/len`]);
      assert.equal(r.stdout, "got 10240", r.stderr);
      assert.deepEqual(inHook, { body: null, streamed: true, bodySize: 0 });
      const c = await curlVia(url, [
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        upload,
        `${base}/chunked`,
      ]);
      assert.equal(c.stdout, "got 10240", c.stderr);
      assert.equal(inHook!.body, null);
      assert.equal(inHook!.streamed, true);
      assert.ok(inHook!.bodySize > 1024 && inHook!.bodySize <= 10240, String(inHook!.bodySize));
      assert.ok(await eventually(() => done.length === 2));
    }, { stream_large_bodies: 1024 });
    for (const f of done) {
      assert.deepEqual(seen(f.request), { body: null, streamed: true, bodySize: 10240 });
    }
    assert.equal(origin.received[1].body.toString(), upload);
  } finally {
    await origin.close();
  }
});

test("a 10k response over stream_large_bodies=1k streams: the response hook sees no body", async () => {
  const body = Buffer.alloc(10 * 1024, "r");
  const origin = await echoOrigin((req, res) => {
    if (req.url === "/chunked") {
      res.write(body.subarray(0, 5000));
      res.end(body.subarray(5000));
    } else res.end(body);
  });
  const inHook: Seen[] = [];
  const done: Flow[] = [];
  const addon: Addon = {
    name: "big-response",
    response(f) {
      inHook.push(seen(f.response!));
      // Too late to change anything: the body has gone out already.
      f.response!.headers.set("X-Too-Late", "1");
    },
    flow_done(f) {
      done.push(f);
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      for (const p of ["/len", "/chunked"]) {
        const r = await curlRaw(url, [`http://127.0.0.1:${origin.port}${p}`]);
        assert.equal(r.status, 200);
        assert.ok(r.bytes.equals(body), `${p}: ${r.bytes.length} bytes`);
        assert.ok(!r.headers.some(([n]) => n === "X-Too-Late"));
      }
      assert.ok(await eventually(() => done.length === 2));
    }, { stream_large_bodies: 1024 });
    assert.deepEqual(inHook, [
      { body: null, streamed: true, bodySize: 10240 },
      { body: null, streamed: true, bodySize: 10240 },
    ]);
    for (const f of done) assert.equal(f.response!.streamed, true);
  } finally {
    await origin.close();
  }
});

test("response.stream = true in responseheaders streams a small body past the response hook", async () => {
  const origin = await echoOrigin((_req, res) => res.end("small body"));
  const inHook: Seen[] = [];
  const addon: Addon = {
    name: "stream-flag",
    responseheaders(f) {
      f.response!.stream = true;
    },
    response(f) {
      inHook.push(seen(f.response!));
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const r = await curlVia(url, [`http://127.0.0.1:${origin.port}/`]);
      assert.equal(r.stdout, "small body");
    });
    // Not held, but small enough to be kept: the late hook sees the copy.
    assert.equal(inHook.length, 1);
    assert.equal(new TextDecoder().decode(inHook[0].body!), "small body");
    assert.equal(inHook[0].streamed, false);
  } finally {
    await origin.close();
  }
});

test("without request/response hooks a response streams as it arrives; flow_done gets a copy", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const origin = await rawServer((s) =>
    s.once("data", async () => {
      s.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nfirst");
      await released; // the rest only once the client has seen "first"
      s.write("-last");
    })
  );
  const done: Flow[] = [];
  const hooks: string[] = [];
  const addon: Addon = {
    name: "observer",
    requestheaders() {
      hooks.push("requestheaders");
    },
    responseheaders() {
      hooks.push("responseheaders");
    },
    flow_done(f) {
      done.push(f);
    },
  };
  try {
    await withAddons([addon], async ({ proxy }) => {
      const client = await connect(proxy.address.port);
      try {
        client.write(`GET http://127.0.0.1:${origin.port}/s HTTP/1.1\r\nHost: x\r\n\r\n`);
        const early = await readUntil(client, (b) => b.toString().endsWith("first"), 5000);
        assert.match(early.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nfirst$/);
        assert.equal(done.length, 0, "the flow is not done before the body is");
        release();
        const rest = await readUntil(client, (b) => b.toString().endsWith("-last"), 5000);
        assert.equal(rest.toString(), "-last");
      } finally {
        client.destroy();
      }
      assert.ok(await eventually(() => done.length === 1));
    });
    assert.deepEqual(hooks, ["requestheaders", "responseheaders"]);
    const r = done[0].response!;
    assert.equal(r.text(), "first-last");
    assert.equal(r.bodySize, 10);
    assert.equal(r.streamed, false);
    assert.equal(done[0].request.text(), "");
  } finally {
    release();
    await origin.close();
  }
});

test("a body set in `request` replaces one that was streaming: the rest of the upload is dropped", async () => {
  const origin = await echoOrigin((req, res) => res.end(`got ${req.body.length}: ${req.body}`));
  const addon: Addon = {
    name: "replace-streamed",
    request(f) {
      if (f.request.path === "/replace") f.request.setText("short replacement");
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      // Both on one client connection: after the replaced upload the connection still works.
      const r = await curlVia(url, [
        "--data-binary",
        "u".repeat(10 * 1024),
        `${base}/replace`,
        `${base}/kept`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `got 17: short replacement` + `got 10240: ${"u".repeat(10240)}`);
    }, { stream_large_bodies: 1024 });
    assert.equal(origin.received[0].headers["content-length"], "17");
    assert.equal(origin.connections(), 1);
  } finally {
    await origin.close();
  }
});

test("with a `request` hook, Expect: 100-continue is answered at once and not passed on", async () => {
  const origin = await echoOrigin((req, res) => res.end(`got ${req.body}`));
  const addon: Addon = {
    name: "needs-body",
    request(f) {
      f.request.setText(`${f.request.text()}!`);
    },
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const started = Date.now();
      // curl waits up to --expect100-timeout for the 100 before sending the body anyway.
      const r = await curlVia(url, [
        "-v",
        "--expect100-timeout",
        "5",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        "payload",
        `http://127.0.0.1:${origin.port}/e`,
      ]);
      const took = Date.now() - started;
      assert.equal(r.stdout, "got payload!", r.stderr);
      assert.match(r.stderr, /^< HTTP\/1\.1 100 Continue\r?$/m);
      assert.ok(took < 2500, `the client waited ${took} ms for 100 Continue`);
    });
    assert.equal(origin.received[0].headers.expect, undefined);
  } finally {
    await origin.close();
  }
});
