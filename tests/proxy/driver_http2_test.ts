// HTTP/2 through the new core on real sockets: curl (--http2, --http1.1,
// --http2-prior-knowledge) and nghttp (100 concurrent streams) as clients, node:http2 origins on
// 127.0.0.1 that speak only h2 (and one that speaks only HTTP/1.1).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import https from "node:https";
import { execFile } from "node:child_process";
import { CertificateAuthority, LeafCache } from "../../src/ca/mod.ts";
import { network } from "../../src/runtime/mod.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import type { Layer } from "../../src/proxy/core/layer.ts";
import { RegularMode, ReverseMode } from "../../src/proxy/layers/modes.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import { runtimeServices } from "../../src/proxy/driver/runtime_services.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { testCa } from "../fixtures/ca.ts";

type Origin = { port: number; sessions: number; close(): Promise<void> };

let proxyCaFile = "";
let originCaPem = "";
let h2Only: Origin;
let h1Only: Origin;

before(async () => {
  const proxyCa = await testCa();
  proxyCaFile = proxyCa.certPemFile;
  const { ca } = await CertificateAuthority.create();
  originCaPem = ca.certPem;
  const leaf = await ca.issue(["127.0.0.1"]);
  h2Only = await h2Origin(leaf.certPem, leaf.keyPem);
  h1Only = await h1Origin(leaf.certPem, leaf.keyPem);
});

after(async () => {
  await h2Only.close();
  await h1Only.close();
});

/** A node:http2 origin without HTTP/1.1: echoes the path, method and body, with a trailer. */
async function h2Origin(cert: string, key: string): Promise<Origin> {
  const server = http2.createSecureServer({ cert, key, allowHTTP1: false });
  const origin = { port: 0, sessions: 0, close: () => Promise.resolve() };
  server.on("session", () => origin.sessions++);
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      const text = `h2 ${headers[":method"]} ${headers[":path"]} ${body.length}`;
      stream.respond({ ":status": 200, "content-type": "text/plain" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "x-origin": "h2" }));
      stream.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin.port = (server.address() as { port: number }).port;
  origin.close = () => new Promise<void>((r) => server.close(() => r()));
  return origin;
}

async function h1Origin(cert: string, key: string): Promise<Origin> {
  const server = https.createServer({ cert, key, ALPNProtocols: ["http/1.1"] }, (req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`h1 ${req.method} ${req.url} ${req.httpVersion}`);
  });
  const origin = { port: 0, sessions: 0, close: () => Promise.resolve() };
  server.on("secureConnection", () => origin.sessions++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin.port = (server.address() as { port: number }).port;
  origin.close = () => new Promise<void>((r) => server.close(() => r()));
  return origin;
}

/** A listener running the new core with `mode` per connection; flows are collected. */
async function proxy(mode: (ctx: Context) => Layer, options = {}) {
  const proxyCa = await testCa();
  const flows: Flow[] = [];
  const services = runtimeServices({
    network,
    leaves: new LeafCache(proxyCa.ca),
    verifyUpstream: true,
    extraCa: [originCaPem],
    hook(name, data) {
      if (name === "flow_done") flows.push(data as Flow);
    },
    log() {},
  });
  const drivers: Promise<void>[] = [];
  const listener = await network.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
    const client = new Client(conn.remote, conn.local);
    const ctx = new Context(client, { ...DEFAULT_LAYER_OPTIONS, ...options });
    drivers.push(new Driver(mode(ctx), client, conn, services).run());
  });
  return {
    port: listener.address.port,
    flows,
    async close() {
      await Promise.all(drivers);
      await listener.close();
    },
  };
}

const regular = (ctx: Context) => new RegularMode(ctx);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`${cmd} failed: ${e.message} ${stderr}`));
      else resolve(String(stdout));
    });
  });
}

const curl = (args: string[]) => run("curl", ["-s", "--max-time", "60", ...args]);

describe("HTTP/2 through the new core", () => {
  test("curl --http2 through CONNECT to an h2-only origin: h2 on both sides, trailers kept", async () => {
    const p = await proxy(regular);
    try {
      const url = `https://127.0.0.1:${h2Only.port}`;
      const out = await curl([
        "--http2",
        "--cacert",
        proxyCaFile,
        "-x",
        `http://127.0.0.1:${p.port}`,
        `${url}/a`,
        `${url}/b`,
        "-d",
        "12345",
      ]);
      assert.equal(out, "h2 POST /a 5h2 POST /b 5");
    } finally {
      await p.close();
    }
    const posts = p.flows.filter((f) => f.request.method === "POST");
    assert.equal(posts.length, 2);
    const [a, bFlow] = posts;
    for (const f of [a, bFlow]) {
      assert.equal(f.request.httpVersion, "HTTP/2.0");
      assert.equal(f.response?.httpVersion, "HTTP/2.0");
      assert.equal(f.client.tls?.alpn, "h2");
      assert.equal(f.server?.tls?.alpn, "h2");
      assert.equal(f.response?.trailers?.get("x-origin"), "h2");
    }
    assert.equal(a.request.url, `https://127.0.0.1:${h2Only.port}/a`);
  });

  test("curl --http1.1 to an h2-only origin: translated to HTTP/2 and back", async () => {
    const p = await proxy(regular);
    try {
      const out = await curl([
        "--http1.1",
        "--cacert",
        proxyCaFile,
        "-x",
        `http://127.0.0.1:${p.port}`,
        `https://127.0.0.1:${h2Only.port}/t?q=1`,
      ]);
      assert.equal(out, "h2 GET /t?q=1 0");
    } finally {
      await p.close();
    }
    const f = p.flows.find((f) => f.request.method === "GET")!;
    assert.equal(f.request.httpVersion, "HTTP/1.1");
    assert.equal(f.response?.httpVersion, "HTTP/2.0");
    assert.equal(f.client.tls?.alpn, "http/1.1");
    assert.equal(f.server?.tls?.alpn, "h2");
  });

  test("curl --http2-prior-knowledge in reverse mode (h2c) to an HTTP/1.1-only https origin", async () => {
    const p = await proxy((ctx) =>
      new ReverseMode(ctx, { scheme: "https", host: "127.0.0.1", port: h1Only.port })
    );
    try {
      const out = await curl(["--http2-prior-knowledge", `http://127.0.0.1:${p.port}/pk`]);
      assert.equal(out, "h1 GET /pk 1.1");
    } finally {
      await p.close();
    }
    assert.equal(p.flows[0].request.httpVersion, "HTTP/2.0");
    assert.equal(p.flows[0].response?.httpVersion, "HTTP/1.1");
  });

  test("nghttp -m 100 (h2c) in reverse mode: 100 concurrent streams share one h2 origin connection", async () => {
    const before = h2Only.sessions;
    const p = await proxy((ctx) =>
      new ReverseMode(ctx, { scheme: "https", host: "127.0.0.1", port: h2Only.port })
    );
    try {
      const out = await run("nghttp", ["-n", "-s", "-m", "100", `http://127.0.0.1:${p.port}/n`]);
      // -s prints one line per stream: timings, status, size, path.
      const ok = out.split("\n").filter((l) => /\s200\s+\S+\s+\/n$/.test(l));
      assert.equal(ok.length, 100, out);
    } finally {
      await p.close();
    }
    assert.equal(p.flows.length, 100);
    assert.ok(p.flows.every((f) => f.response?.status === 200 && f.error === null));
    assert.ok(p.flows.every((f) => f.request.httpVersion === "HTTP/2.0"));
    assert.equal(h2Only.sessions - before, 1, "one origin connection");
  });

  test("option http2 off: curl --http2 gets HTTP/1.1", async () => {
    const p = await proxy(regular, { http2: false });
    try {
      const out = await curl([
        "--http2",
        "--cacert",
        proxyCaFile,
        "-x",
        `http://127.0.0.1:${p.port}`,
        `https://127.0.0.1:${h1Only.port}/off`,
      ]);
      assert.equal(out, "h1 GET /off 1.1");
    } finally {
      await p.close();
    }
    const f = p.flows.find((f) => f.request.method === "GET")!;
    assert.equal(f.client.tls?.alpn, "http/1.1");
    assert.equal(f.request.httpVersion, "HTTP/1.1");
  });
});
