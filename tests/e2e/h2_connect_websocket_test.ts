// The whole proxy (startProxy: the shared origin pool, addons, the listener's options) with the
// two HTTP/2 cases that need a tunnel or a translation: a node:http2 client's CONNECT stream (h2c
// with prior knowledge on the proxy port, default options: eager connections) carrying TLS and
// HTTP/1.1 to an HTTPS origin, and a `ws` HTTP/1.1 WebSocket client to an h2-only origin (also
// with default options).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import tls from "node:tls";
import type net from "node:net";
import { Buffer } from "node:buffer";
import { WebSocket } from "ws";
import type { Flow } from "../../src/flow/flow.ts";
import { testCa } from "../fixtures/ca.ts";
import { h2WebSocketOrigin } from "../proxy/h2_driver_helpers.ts";
import {
  connectThrough,
  httpsOrigin,
  makeOriginCert,
  tempDir,
  withProxy,
} from "./https_helpers.ts";

/** Flows the proxy finished, by way of an addon. */
function recorder() {
  const flows: Flow[] = [];
  return { flows, addon: { name: "recorder", flow_done: (f: Flow) => void flows.push(f) } };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
}

describe("HTTP/2 tunnels and translation through the whole proxy", () => {
  test("TLS and HTTP/1.1 inside an h2 CONNECT stream are intercepted", async () => {
    const dir = tempDir();
    const cert = await makeOriginCert(dir.dir, ["localhost"]);
    const origin = await httpsOrigin(cert);
    const caPem = (await testCa()).ca.certPem;
    const rec = recorder();
    try {
      await withProxy({ ssl_insecure: true }, async (proxy) => {
        await proxy.addons.add(rec.addon);
        const session = http2.connect(`http://127.0.0.1:${proxy.address.port}`);
        session.on("error", () => {});
        const stream = session.request({
          ":method": "CONNECT",
          ":authority": `localhost:${origin.port}`,
        });
        const status = await new Promise<number>((resolve, reject) => {
          stream.once("response", (h) => resolve(Number(h[":status"])));
          stream.once("error", reject);
        });
        assert.equal(status, 200);
        const secure = tls.connect({
          socket: stream as unknown as net.Socket,
          servername: "localhost",
          ca: caPem,
          ALPNProtocols: ["http/1.1"],
        });
        await new Promise<void>((resolve, reject) => {
          secure.once("secureConnect", resolve);
          secure.once("error", reject);
        });
        const chunks: Buffer[] = [];
        const done = new Promise<void>((resolve, reject) => {
          secure.on("data", (c: Buffer) => chunks.push(c));
          secure.on("end", resolve);
          secure.on("error", reject);
        });
        secure.write("GET /via-h2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        await done;
        const text = Buffer.concat(chunks).toString();
        assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.match(text, /hello from the origin: GET \/via-h2/);
        secure.destroy();
        await new Promise<void>((r) => session.close(() => r()));
        await until(() => rec.flows.some((f) => f.request.path === "/via-h2"));
        const inner = rec.flows.find((f) => f.request.path === "/via-h2");
        assert.ok(inner, "the request inside the stream is a flow");
        assert.equal(inner.request.scheme, "https");
        assert.equal(inner.response?.status, 200);
      });
    } finally {
      await origin.close();
      dir.remove();
    }
  });

  test("a `ws` HTTP/1.1 client to an h2-only origin: extended CONNECT there, messages recorded", async () => {
    const origin = await h2WebSocketOrigin();
    const caPem = (await testCa()).ca.certPem;
    const rec = recorder();
    try {
      // Default options (eager): the origin's handshake comes first; the client sent no ALPN
      // (as `ws` does), so the origin is offered http/1.1, answers no_application_protocol, and
      // is dialled again offering h2 too.
      await withProxy({ ssl_insecure: true }, async (proxy) => {
        await proxy.addons.add(rec.addon);
        const authority = `localhost:${origin.port}`;
        const tunnel = await connectThrough(proxy.address.port, authority);
        const client = new WebSocket(
          `wss://${authority}/live`,
          {
            perMessageDeflate: false,
            createConnection: () =>
              tls.connect({ socket: tunnel, servername: "localhost", ca: caPem }),
          } as ConstructorParameters<typeof WebSocket>[2],
        );
        const got = new Promise<string>((resolve, reject) => {
          client.once("message", (d) => resolve(String(d)));
          client.once("error", reject);
          client.once(
            "unexpected-response",
            (_q, res) => reject(new Error(`handshake answered ${res.statusCode}`)),
          );
        });
        await new Promise<void>((resolve, reject) => {
          client.once("open", () => resolve());
          client.once("error", reject);
        });
        client.send("over h2");
        assert.equal(await got, "h2 echo: over h2");
        const closed = new Promise<number>((r) => client.once("close", (code) => r(code)));
        client.close(1000);
        assert.equal(await closed, 1000);
        await until(() => rec.flows.some((f) => f.websocket !== null));
        const flow = rec.flows.find((f) => f.websocket !== null)!;
        assert.equal(flow.response?.httpVersion, "HTTP/2.0");
        assert.deepEqual(
          flow.websocket!.messages.filter((m) => m.type === "text").map((m) => m.text),
          ["over h2", "h2 echo: over h2"],
        );
      });
    } finally {
      await origin.close();
    }
  });
});
