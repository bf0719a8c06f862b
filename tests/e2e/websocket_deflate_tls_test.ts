/**
 * permessage-deflate inspected through the proxy, and wss:// (CONNECT, TLS interception, then the
 * Upgrade inside the tunnel) with the independent `ws` client as well as the raw test client.
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { test } from "node:test";
import { WebSocket } from "ws";
import type { Addon } from "../../src/addons/types.ts";
import { Opcode } from "../../src/websocket/mod.ts";
import { connectThrough, eventually, makeOriginCert, tempDir } from "./https_helpers.ts";
import {
  doneWebSocketFlow,
  pattern,
  RawWsClient,
  testCaPem,
  withWsProxy,
  wsOrigin,
} from "./websocket_helpers.ts";

test("permessage-deflate: offers cut to it, messages inflated for the flow, forwarded correctly", async () => {
  const origin = await wsOrigin({ deflate: true });
  const addon: Addon = {
    websocket_message(flow) {
      const m = flow.websocket!.messages.at(-1)!;
      if (m.text === "echo: change me") m.text = "changed by the proxy";
    },
  };
  try {
    await withWsProxy({}, [addon], async (proxy, seen) => {
      const ws = await RawWsClient.open({
        proxyPort: proxy.address.port,
        originPort: origin.port,
        extensions: "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame",
      });
      assert.equal(
        origin.handshakes[0]["sec-websocket-extensions"],
        "permessage-deflate; client_max_window_bits",
      );
      assert.match(ws.head, /\r\nSec-WebSocket-Extensions: permessage-deflate/i);

      ws.compressedText("compressed hello");
      const echo = await ws.next();
      assert.equal(echo.text, "echo: compressed hello");
      assert.equal(echo.compressed, true, "the origin's compressed frames pass as they are");
      assert.equal(String(origin.received[0].data), "compressed hello");

      // A changed compressed message goes out plain; the origin's later messages (compressed
      // against a window the client never saw) are then sent decompressed.
      ws.compressedText("change me");
      const changed = await ws.next();
      assert.equal(changed.text, "changed by the proxy");
      assert.equal(changed.compressed, false);
      ws.text("cmd:say 3");
      for (let i = 0; i < 3; i++) {
        const m = await ws.next();
        assert.equal(m.text, `hello ${i}`);
        assert.equal(m.compressed, false);
      }

      ws.close(1000, "done");
      assert.equal((await ws.next()).opcode, Opcode.Close);
      await ws.closed();
      const flow = await doneWebSocketFlow(seen);
      assert.match(flow.websocket!.extensions ?? "", /^permessage-deflate/);
      const texts = flow.websocket!.messages.filter((m) => m.type === "text").map((m) => m.text);
      assert.deepEqual(texts, [
        "compressed hello",
        "echo: compressed hello",
        "change me",
        "changed by the proxy",
        "cmd:say 3",
        "hello 0",
        "hello 1",
        "hello 2",
      ]);
    });
  } finally {
    await origin.close();
  }
});

test("wss:// with the ws client: compressed text and 100 KiB binary both ways, ping, close", async () => {
  const { dir, remove } = tempDir("mitm-ws-");
  const cert = await makeOriginCert(dir, ["localhost", "127.0.0.1"]);
  const origin = await wsOrigin({ cert, deflate: true });
  const caPem = await testCaPem();
  try {
    await withWsProxy(
      { ssl_verify_upstream_trusted_ca: cert.caFile },
      [],
      async (proxy, seen) => {
        const authority = `localhost:${origin.port}`;
        const tunnel = await connectThrough(proxy.address.port, authority);
        const client = new WebSocket(
          `wss://${authority}/secure`,
          {
            perMessageDeflate: true,
            createConnection: () =>
              tls.connect({ socket: tunnel, servername: "localhost", ca: caPem }),
          } as ConstructorParameters<typeof WebSocket>[2],
        );
        const inbox: { data: Buffer; binary: boolean }[] = [];
        client.on("message", (data, binary) => inbox.push({ data: data as Buffer, binary }));
        const pongs: string[] = [];
        client.on("pong", (d) => pongs.push(String(d)));
        const closed = new Promise<[number, string]>((resolve) =>
          client.on("close", (code, reason) => resolve([code, String(reason)]))
        );
        await new Promise<void>((resolve, reject) => {
          client.once("open", () => resolve());
          client.once("error", reject);
        });
        assert.equal(client.extensions, "permessage-deflate");

        client.send("over TLS");
        const big = pattern(100 * 1024);
        client.send(big);
        client.ping("tls ping");
        assert.ok(await eventually(() => inbox.length === 2 && pongs.length === 1));
        assert.equal(String(inbox[0].data), "echo: over TLS");
        assert.deepEqual(new Uint8Array(inbox[1].data), big);
        assert.deepEqual(pongs, ["tls ping"]);
        client.close(4003, "tls done");
        assert.deepEqual(await closed, [4003, "tls done"]);

        const flow = await doneWebSocketFlow(seen);
        assert.equal(flow.request.scheme, "https");
        assert.equal(flow.request.path, "/secure");
        const ws = flow.websocket!;
        assert.equal(ws.closeCode, 4003);
        assert.deepEqual(
          ws.messages.map((m) => m.type),
          ["text", "binary", "ping", "text", "binary", "pong", "close", "close"],
        );
        assert.equal(ws.messages[0].text, "over TLS");
        assert.deepEqual(ws.messages[1].content, big);
        assert.deepEqual(ws.messages[4].content, big);
      },
    );
  } finally {
    await origin.close();
    remove();
  }
});

test("wss:// with the raw client: fragments and a ping from the origin", async () => {
  const { dir, remove } = tempDir("mitm-ws-");
  const cert = await makeOriginCert(dir, ["localhost"]);
  const origin = await wsOrigin({ cert });
  try {
    await withWsProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, [], async (proxy, seen) => {
      const ws = await RawWsClient.open({
        proxyPort: proxy.address.port,
        originPort: origin.port,
        tls: { caPem: await testCaPem() },
      });
      ws.fragments(["a", "b", "c"]);
      assert.equal((await ws.next()).text, "echo: abc");
      ws.text("cmd:ping");
      assert.equal((await ws.next()).opcode, Opcode.Ping);
      ws.text("cmd:close");
      const close = await ws.next();
      assert.equal((close.payload[0] << 8) | close.payload[1], 4002);
      ws.close(4002, "");
      await ws.closed();
      const flow = await doneWebSocketFlow(seen);
      assert.equal(flow.websocket!.closedByClient, false);
      assert.equal(flow.websocket!.closeReason, "origin says bye");
    });
  } finally {
    await origin.close();
    remove();
  }
});
