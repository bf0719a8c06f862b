// h2c with prior knowledge on the regular proxy port, through the new core on real sockets:
// curl --http2-prior-knowledge -x and node:http2 clients, towards a plain HTTP/1.1-only origin
// (HTTP/1.1 there) and an h2c-only origin (h2c there for gRPC requests).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import http2 from "node:http2";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { curl, layeredProxy } from "./h2_driver_helpers.ts";

let h1: http.Server;
let h1Port = 0;
let h2c: http2.Http2Server;
let h2cPort = 0;

before(async () => {
  h1 = http.createServer((req, res) => {
    let n = 0;
    req.on("data", (c: Buffer) => n += c.length);
    req.on("end", () => res.end(`h1 ${req.method} ${req.url} ${req.httpVersion} ${n}`));
  });
  await new Promise<void>((r) => h1.listen(0, "127.0.0.1", r));
  h1Port = (h1.address() as { port: number }).port;
  // Only h2c: node:http2's plain server answers nothing else.
  h2c = http2.createServer();
  h2c.on("stream", (stream, headers) => {
    stream.resume();
    stream.on("end", () => {
      stream.respond({ ":status": 200, "content-type": String(headers["content-type"]) });
      stream.end(`h2c ${headers[":method"]} ${headers[":path"]}`);
    });
  });
  await new Promise<void>((r) => h2c.listen(0, "127.0.0.1", r));
  h2cPort = (h2c.address() as { port: number }).port;
});

after(async () => {
  await new Promise((r) => h1.close(r));
  await new Promise((r) => h2c.close(r));
});

const regular = (ctx: ConstructorParameters<typeof RegularMode>[0]) => new RegularMode(ctx);

/** Requests through the proxy with node:http2 (h2c prior knowledge, absolute :authority). */
async function viaNodeH2(
  proxyPort: number,
  requests: { authority: string; path: string; headers?: Record<string, string> }[],
): Promise<string[]> {
  const session = http2.connect(`http://127.0.0.1:${proxyPort}`);
  try {
    return await Promise.all(requests.map((r) =>
      new Promise<string>((resolve, reject) => {
        const req = session.request({
          ":method": "GET",
          ":scheme": "http",
          ":authority": r.authority,
          ":path": r.path,
          ...r.headers,
        });
        let status = 0;
        const chunks: Buffer[] = [];
        req.on("response", (h) => status = Number(h[":status"]));
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(`${status} ${Buffer.concat(chunks)}`));
        req.on("error", reject);
        req.end();
      })
    ));
  } finally {
    session.close();
  }
}

describe("h2c with prior knowledge on the regular proxy port", () => {
  test("curl --http2-prior-knowledge at the proxy port to an HTTP/1.1-only plain origin: HTTP/1.1 there", async () => {
    const p = await layeredProxy(regular);
    try {
      // --connect-to sends the h2c requests (with :authority naming the origin) to the proxy's
      // port: what an h2c proxy client sends. (curl -x speaks HTTP/1.1 to a plain proxy even
      // with --http2-prior-knowledge; the next test covers that command.)
      // One URL per curl: curl 7.88 fails (exit 16) a second request on a reused
      // prior-knowledge connection, even to an h2c origin directly.
      const h2c = (path: string) =>
        curl([
          "--http2-prior-knowledge",
          "--connect-to",
          `127.0.0.1:${h1Port}:127.0.0.1:${p.port}`,
          `http://127.0.0.1:${h1Port}${path}`,
          "-d",
          "12345",
        ]);
      const out = (await h2c("/a")) + (await h2c("/b"));
      assert.equal(out, "h1 POST /a 1.1 5h1 POST /b 1.1 5");
    } finally {
      await p.close();
    }
    assert.equal(p.flows.length, 2);
    for (const f of p.flows) {
      assert.equal(f.request.httpVersion, "HTTP/2.0");
      assert.equal(f.response?.httpVersion, "HTTP/1.1");
      assert.equal(f.error, null);
    }
    assert.equal(p.flows[0].request.url, `http://127.0.0.1:${h1Port}/a`);
  });

  test("curl --http2-prior-knowledge -x http://proxy http://origin/ works", async () => {
    const p = await layeredProxy(regular);
    try {
      const out = await curl([
        "--http2-prior-knowledge",
        "-x",
        `http://127.0.0.1:${p.port}`,
        `http://127.0.0.1:${h1Port}/x`,
      ]);
      assert.equal(out, "h1 GET /x 1.1 0");
    } finally {
      await p.close();
    }
    assert.equal(p.flows[0].response?.status, 200);
  });

  test("HTTP/1 proxy requests on the same port still work (POST and PUT start like the preface)", async () => {
    const p = await layeredProxy(regular);
    try {
      const url = `http://127.0.0.1:${h1Port}/p`;
      const x = ["-x", `http://127.0.0.1:${p.port}`];
      assert.equal(await curl([...x, "-d", "abc", url]), "h1 POST /p 1.1 3");
      assert.equal(await curl([...x, "-X", "PUT", "-d", "ab", url]), "h1 PUT /p 1.1 2");
    } finally {
      await p.close();
    }
    assert.ok(p.flows.every((f) => f.request.httpVersion === "HTTP/1.1"));
  });

  test("node:http2: gRPC requests go h2c to an h2c-only origin, others HTTP/1.1, on one client connection", async () => {
    const p = await layeredProxy(regular);
    let out: string[];
    try {
      out = await viaNodeH2(p.port, [
        {
          authority: `127.0.0.1:${h2cPort}`,
          path: "/t.Svc/Call",
          headers: { "content-type": "application/grpc", te: "trailers" },
        },
        { authority: `127.0.0.1:${h1Port}`, path: "/one" },
        { authority: `127.0.0.1:${h1Port}`, path: "/two" },
      ]);
    } finally {
      await p.close();
    }
    assert.deepEqual(out, [
      "200 h2c GET /t.Svc/Call",
      "200 h1 GET /one 1.1 0",
      "200 h1 GET /two 1.1 0",
    ]);
    const grpc = p.flows.find((f) => f.request.path === "/t.Svc/Call")!;
    assert.equal(grpc.response?.httpVersion, "HTTP/2.0");
    assert.equal(grpc.request.httpVersion, "HTTP/2.0");
  });
});
