/**
 * WebSocket in reverse mode: a client that talks to the proxy as if it were the server (origin-form
 * Upgrade on a direct connection) gets the origin's WebSocket, parsed and recorded like any other.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Opcode } from "../../src/websocket/mod.ts";
import { withModes } from "./modes_helpers.ts";
import { RawWsClient, wsOrigin } from "./websocket_helpers.ts";

test("reverse mode: ws upgrade to the origin, messages both ways, close, flow with messages", {
  timeout: 60_000,
}, async () => {
  const origin = await wsOrigin();
  try {
    await withModes({ mode: [`reverse:http://127.0.0.1:${origin.port}@0`] }, async (p) => {
      const ws = await RawWsClient.open({
        proxyPort: p.port("reverse"),
        originPort: origin.port,
        reverse: true,
      });
      assert.match(ws.head, /^HTTP\/1\.1 101 /);
      ws.text("through reverse");
      assert.equal((await ws.next()).text, "echo: through reverse");
      ws.close(1000, "done");
      const close = await ws.next();
      assert.equal(close.opcode, Opcode.Close);
      await ws.closed();
      const [flow] = await p.flowsDone(1);
      assert.ok(flow.websocket, "the flow is a WebSocket flow");
      const texts = flow.websocket!.messages.filter((m) => m.type === "text").map((m) => m.text);
      assert.deepEqual(texts, ["through reverse", "echo: through reverse"]);
      assert.equal(flow.websocket!.closeCode, 1000);
    });
  } finally {
    await origin.close();
  }
});
