// An HTTP/1.1 WebSocket client (the `ws` package, through CONNECT and TLS with the proxy's CA
// trusted) to a node:http2 origin that speaks only h2: the proxy opens the WebSocket there as an
// RFC 8441 extended CONNECT and answers the client's Upgrade with 101; messages go both ways and
// are recorded on the flow. An h2-only origin without SETTINGS_ENABLE_CONNECT_PROTOCOL gets the
// client a 502 that says why.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import tls from "node:tls";
import { WebSocket } from "ws";
import { CertificateAuthority } from "../../src/ca/mod.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { testCa } from "../fixtures/ca.ts";
import { connectThrough } from "../e2e/https_helpers.ts";
import { h2WebSocketOrigin, layeredProxy, type TestProxy } from "./h2_driver_helpers.ts";

let origin: Awaited<ReturnType<typeof h2WebSocketOrigin>>;
let plainH2: http2.Http2SecureServer;
let plainH2Port = 0;
let proxy: TestProxy;
let caPem = "";

before(async () => {
  origin = await h2WebSocketOrigin();
  // h2 only, without RFC 8441.
  const { ca } = await CertificateAuthority.create();
  const leaf = await ca.issue(["127.0.0.1", "localhost"]);
  plainH2 = http2.createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, allowHTTP1: false });
  plainH2.on("stream", (stream) => {
    stream.respond({ ":status": 200 });
    stream.end("plain h2");
  });
  await new Promise<void>((r) => plainH2.listen(0, "127.0.0.1", r));
  plainH2Port = (plainH2.address() as { port: number }).port;
  proxy = await layeredProxy((ctx) => new RegularMode(ctx));
  caPem = (await testCa()).ca.certPem;
});

after(async () => {
  await proxy.close();
  await origin.close();
  await new Promise<void>((r) => plainH2.close(() => r()));
});

/** A `ws` client to wss://localhost:PORT/PATH through the proxy (CONNECT, then TLS). */
async function wsThroughProxy(port: number, path: string): Promise<WebSocket> {
  const authority = `localhost:${port}`;
  const tunnel = await connectThrough(proxy.port, authority);
  return new WebSocket(
    `wss://${authority}${path}`,
    {
      perMessageDeflate: false,
      createConnection: () =>
        tls.connect({
          socket: tunnel,
          servername: "localhost",
          ca: caPem,
          ALPNProtocols: ["http/1.1"],
        }),
    } as ConstructorParameters<typeof WebSocket>[2],
  );
}

async function flowsDone(n: number): Promise<void> {
  for (let i = 0; i < 600 && proxy.flows.length < n; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("HTTP/1.1 WebSocket client to an h2-only origin (RFC 8441 towards it)", () => {
  test("101 to the client, extended CONNECT to the origin, messages both ways on the flow", async () => {
    const before = proxy.flows.length;
    const client = await wsThroughProxy(origin.port, "/chat?room=1");
    const inbox: string[] = [];
    let wake: (() => void) | null = null;
    client.on("message", (data) => {
      inbox.push(String(data));
      wake?.();
    });
    const closed = new Promise<[number, string]>((resolve) =>
      client.on("close", (code, reason) => resolve([code, String(reason)]))
    );
    await new Promise<void>((resolve, reject) => {
      client.once("open", () => resolve());
      client.once("error", reject);
      client.once(
        "unexpected-response",
        (_req, res) => reject(new Error(`handshake answered ${res.statusCode}`)),
      );
    });
    const next = async (): Promise<string> => {
      for (let i = 0; i < 200 && inbox.length === 0; i++) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      assert.ok(inbox.length > 0, "a message arrived");
      return inbox.shift()!;
    };
    client.send("first");
    assert.equal(await next(), "h2 echo: first");
    client.send("second, a bit longer ".repeat(20));
    assert.equal(await next(), `h2 echo: ${"second, a bit longer ".repeat(20)}`);
    client.close(1000, "done");
    const [code, reason] = await closed;
    assert.equal(code, 1000);
    assert.equal(reason, "done");
    assert.deepEqual(origin.paths.slice(-1), ["/chat?room=1"], "the origin got extended CONNECT");

    await flowsDone(before + 1);
    const flow = proxy.flows.slice(before).find((f) => f.websocket !== null);
    assert.ok(flow, "the WebSocket is a flow");
    assert.equal(flow.request.httpVersion, "HTTP/1.1");
    assert.equal(flow.response?.status, 101);
    assert.equal(flow.response?.httpVersion, "HTTP/2.0");
    const texts = flow.websocket!.messages.filter((m) => m.type === "text").map((m) =>
      `${m.fromClient ? ">" : "<"} ${m.text.slice(0, 20)}`
    );
    assert.deepEqual(texts, [
      "> first",
      "< h2 echo: first",
      "> second, a bit longer",
      "< h2 echo: second, a b",
    ]);
    assert.equal(flow.websocket!.closeCode, 1000);
  });

  test("an h2-only origin without extended CONNECT: 502 with a one-line reason", async () => {
    const before = proxy.flows.length;
    const client = await wsThroughProxy(plainH2Port, "/chat");
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      client.once("open", () => reject(new Error("the handshake should not succeed")));
      client.once("error", () => {});
      client.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (c: Buffer) => body += c.toString());
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    assert.equal(answer.status, 502);
    assert.match(answer.body, /does not take WebSockets over it \(no RFC 8441\)/);
    assert.equal(answer.body.trim().split("\n").length, 1, "one line");
    client.terminate();
    await flowsDone(before + 1);
    const flow = proxy.flows.slice(before).find((f) => f.request.path === "/chat");
    assert.ok(flow);
    assert.match(flow.error?.message ?? "", /no RFC 8441/);
  });
});
