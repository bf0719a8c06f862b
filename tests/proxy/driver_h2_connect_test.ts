// A CONNECT inside an HTTP/2 stream through the core on real sockets: a node:http2 client speaks
// h2c with prior knowledge to the proxy's port and opens `:method CONNECT` streams. Through one
// it talks to a plain TCP echo origin (a raw relay: the bytes are not TLS or HTTP); through
// another it speaks TLS and HTTP/1.1 to an HTTPS origin, trusting the proxy's CA: the proxy
// intercepts inside the stream, as after an HTTP/1 CONNECT.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { CertificateAuthority } from "../../src/ca/mod.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { testCa } from "../fixtures/ca.ts";
import { layeredProxy, type TestProxy } from "./h2_driver_helpers.ts";

let echo: net.Server;
let echoPort = 0;
let origin: https.Server;
let originPort = 0;
let proxy: TestProxy;

before(async () => {
  echo = net.createServer((socket) => {
    socket.on("error", () => {});
    socket.pipe(socket); // echoes, and ends its side when the client ends its own
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoPort = (echo.address() as net.AddressInfo).port;

  const { ca } = await CertificateAuthority.create();
  const leaf = await ca.issue(["localhost", "127.0.0.1"]);
  origin = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`origin saw ${req.method} ${req.url} over TLS`);
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  originPort = (origin.address() as net.AddressInfo).port;

  proxy = await layeredProxy((ctx) => new RegularMode(ctx));
});

after(async () => {
  await proxy.close();
  await new Promise<void>((r) => echo.close(() => r()));
  await new Promise<void>((r) => origin.close(() => r()));
});

/** Opens a CONNECT stream on an h2c (prior knowledge) session to the proxy. */
async function connectStream(authority: string) {
  const session = http2.connect(`http://127.0.0.1:${proxy.port}`);
  session.on("error", () => {});
  const stream = session.request({ ":method": "CONNECT", ":authority": authority });
  const status = await new Promise<number>((resolve, reject) => {
    stream.once("response", (h) => resolve(Number(h[":status"])));
    stream.once("error", reject);
  });
  return { session, stream, status };
}

function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((r) => session.close(() => r()));
}

/** Waits (generously) until the proxy recorded `n` flows. */
async function flowsDone(n: number): Promise<void> {
  for (let i = 0; i < 600 && proxy.flows.length < n; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("CONNECT inside an HTTP/2 stream (node:http2 client, h2c to the proxy)", () => {
  test("raw relay to a TCP echo origin: 2 MiB both ways, END_STREAM as half-close", async () => {
    const before = proxy.flows.length;
    const { session, stream, status } = await connectStream(`127.0.0.1:${echoPort}`);
    assert.equal(status, 200);
    // Lowercase first bytes: neither TLS nor HTTP, so the tunnel's bytes are relayed raw.
    const sent = Buffer.alloc(2 << 20);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + 3) & 0xff;
    sent.write("hello, echo", 0);
    const received: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on("data", (c: Buffer) => received.push(c));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    stream.end(sent); // END_STREAM after the bytes: the echo origin then ends its side too
    await ended;
    const back = Buffer.concat(received);
    assert.equal(back.length, sent.length);
    assert.ok(back.equals(sent), "every byte came back in order");
    await closeSession(session);
    await flowsDone(before + 1);
    const flow = proxy.flows.slice(before).find((f) => f.request.method === "CONNECT");
    assert.ok(flow, "the CONNECT is a flow");
    assert.equal(flow.request.authority, `127.0.0.1:${echoPort}`);
    assert.equal(flow.request.httpVersion, "HTTP/2.0");
    assert.equal(flow.response?.status, 200);
    assert.equal(flow.error, null);
  });

  test("TLS inside the stream is intercepted: HTTP/1.1 to an HTTPS origin, a flow for it", async () => {
    const before = proxy.flows.length;
    const { session, stream, status } = await connectStream(`127.0.0.1:${originPort}`);
    assert.equal(status, 200);
    const proxyCa = await testCa();
    const secure = tls.connect({
      socket: stream as unknown as net.Socket,
      servername: "localhost",
      ca: proxyCa.ca.certPem,
      ALPNProtocols: ["http/1.1"],
    });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", reject);
    });
    assert.ok(secure.authorized, "the leaf is the proxy's, for localhost");
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      secure.on("data", (c: Buffer) => chunks.push(c));
      secure.on("end", resolve);
      secure.on("error", reject);
    });
    secure.write("GET /inside HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    await done;
    const response = Buffer.concat(chunks).toString();
    assert.match(response, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(response, /origin saw GET \/inside over TLS$/);
    secure.destroy();
    await closeSession(session);
    await flowsDone(before + 2);
    const inner = proxy.flows.slice(before).find((f) => f.request.method === "GET");
    assert.ok(inner, "the request inside is a flow");
    // Inside a tunnel the request goes where the CONNECT said (as after an HTTP/1 CONNECT).
    assert.equal(inner.request.url, `https://127.0.0.1:${originPort}/inside`);
    assert.equal(inner.request.headers.get("host"), "localhost");
    assert.equal(inner.response?.status, 200);
    assert.equal(inner.request.httpVersion, "HTTP/1.1");
  });

  test("a TLS 1.2 handshake in the stream: its flights go both ways while it runs", async () => {
    // TLS 1.2 needs two round trips: the pipe and the client connection are read meanwhile.
    const before = proxy.flows.length;
    const { session, stream, status } = await connectStream(`127.0.0.1:${originPort}`);
    assert.equal(status, 200);
    const secure = tls.connect({
      socket: stream as unknown as net.Socket,
      servername: "localhost",
      ca: (await testCa()).ca.certPem,
      ALPNProtocols: ["http/1.1"],
      maxVersion: "TLSv1.2",
    });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", reject);
    });
    assert.equal(secure.getProtocol(), "TLSv1.2");
    const chunks: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      secure.on("data", (c: Buffer) => chunks.push(c));
      secure.on("end", resolve);
      secure.on("error", reject);
    });
    secure.write("GET /tls12 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    await done;
    assert.match(Buffer.concat(chunks).toString(), /origin saw GET \/tls12 over TLS$/);
    secure.destroy();
    await closeSession(session);
    await flowsDone(before + 2);
  });

  test("a reset of the CONNECT stream aborts the tunnel; siblings go on", async () => {
    const before = proxy.flows.length;
    const { session, stream, status } = await connectStream(`127.0.0.1:${echoPort}`);
    assert.equal(status, 200);
    stream.write("ping");
    await new Promise<void>((r) => stream.once("data", () => r()));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    // The session still works for another tunnel.
    const other = session.request({ ":method": "CONNECT", ":authority": `127.0.0.1:${echoPort}` });
    const echoed = await new Promise<string>((resolve, reject) => {
      other.once("error", reject);
      other.once("data", (c: Buffer) => resolve(c.toString()));
      other.write("still here");
    });
    assert.equal(echoed, "still here");
    other.close(http2.constants.NGHTTP2_CANCEL);
    await closeSession(session);
    await flowsDone(before + 2);
    const reset = proxy.flows.slice(before).filter((f) => f.error !== null);
    assert.ok(reset.length >= 1, "the reset tunnel's flow carries an error");
    assert.match(reset[0].error!.message, /client reset the stream/);
  });
});
