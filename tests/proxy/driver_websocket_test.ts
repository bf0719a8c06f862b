// A WebSocket through the new core: the handshake is checked, websocket_start runs, the relay in
// src/websocket carries the messages and a websocket_message hook changes one. In-memory network.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AddonManager } from "../../src/addons/manager.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { silentLogger } from "../../src/log.ts";
import { MemoryConn } from "../../src/runtime/shared/memory.ts";
import { MemoryNetwork } from "../fakes/memory_network.ts";
import type { Conn } from "../../src/runtime/types.ts";
import { encodeFrame, Opcode, randomMask } from "../../src/websocket/frame.ts";
import { acceptKey } from "../../src/websocket/handshake.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import { runtimeServices } from "../../src/proxy/driver/runtime_services.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

async function readHead(conn: Conn): Promise<{ head: string; rest: Uint8Array }> {
  let bytes = new Uint8Array(0);
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error("closed before the head ended");
    const next = new Uint8Array(bytes.length + chunk.length);
    next.set(bytes);
    next.set(chunk, bytes.length);
    bytes = next;
    const text = dec.decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) return { head: text.slice(0, end + 4), rest: bytes.subarray(end + 4) };
  }
}

/** Reads one unmasked frame with a payload under 126 bytes (enough for this test). */
async function readSmallFrame(conn: Conn, buffered: Uint8Array): Promise<[number, string]> {
  let bytes = buffered;
  while (bytes.length < 2 || bytes.length < 2 + (bytes[1] & 0x7f)) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error("closed mid-frame");
    const next = new Uint8Array(bytes.length + chunk.length);
    next.set(bytes);
    next.set(chunk, bytes.length);
    bytes = next;
  }
  const n = bytes[1] & 0x7f;
  return [bytes[0] & 0x0f, dec.decode(bytes.subarray(2, 2 + n))];
}

test("WebSocket: handshake checked, websocket_start, a message changed by a hook, echoed", async () => {
  const net = new MemoryNetwork();
  await net.listen({ host: "ws.test", port: 80 }, async (conn) => {
    await readHead(conn);
    await conn.write(enc.encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${await acceptKey(KEY)}\r\n\r\n`,
    ));
    // Echo the one text message back unmasked, as a server must.
    let bytes = new Uint8Array(0);
    while (bytes.length < 6 || bytes.length < 6 + (bytes[1] & 0x7f)) {
      const chunk = await conn.read();
      if (chunk === null) return;
      const next = new Uint8Array(bytes.length + chunk.length);
      next.set(bytes);
      next.set(chunk, bytes.length);
      bytes = next;
    }
    const n = bytes[1] & 0x7f;
    const mask = bytes.subarray(2, 6);
    const payload = bytes.slice(6, 6 + n).map((b, i) => b ^ mask[i % 4]);
    await conn.write(encodeFrame({ opcode: Opcode.Text, payload, mask: null }));
  });
  const seen: string[] = [];
  const addons = new AddonManager(silentLogger);
  await addons.add({
    websocket_message(flow: Flow) {
      const message = flow.websocket!.messages.at(-1)!;
      seen.push(`${message.fromClient ? "client" : "server"}: ${message.text}`);
      if (message.fromClient) message.text = message.text.toUpperCase();
    },
  });
  const hooks: string[] = [];
  const services = runtimeServices({
    network: net,
    leaves: null,
    verifyUpstream: false,
    addons,
    hook(name) {
      hooks.push(name);
    },
    log() {},
  });
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port: 50006 },
    { host: "127.0.0.1", port: 8080 },
  );
  const c = new Client(proxySide.remote, proxySide.local);
  const done = new Driver(
    new RegularMode(new Context(c, DEFAULT_LAYER_OPTIONS)),
    c,
    proxySide,
    services,
  )
    .run();
  await client.write(enc.encode(
    "GET http://ws.test/chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
      `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const { head, rest } = await readHead(client);
  assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  await client.write(
    encodeFrame({ opcode: Opcode.Text, payload: enc.encode("hello"), mask: randomMask() }),
  );
  const [opcode, text] = await readSmallFrame(client, rest);
  assert.equal(opcode, Opcode.Text);
  assert.equal(text, "HELLO", "the hook's change reached the origin, which echoed it");
  assert.deepEqual(seen, ["client: hello", "server: HELLO"]);
  client.close();
  await done;
  // responseheaders sees the 101 before the switch.
  assert.deepEqual(hooks, [
    "requestheaders",
    "request",
    "responseheaders",
    "websocket_start",
    "flow_done",
  ]);
});
