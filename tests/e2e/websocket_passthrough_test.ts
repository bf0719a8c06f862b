/**
 * Upgrades the proxy does not inspect pass through as raw bytes: another protocol (`Upgrade: foo`),
 * and a WebSocket handshake that is not valid (no Sec-WebSocket-Key), each answered 101 by a raw
 * origin that then echoes whatever it gets.
 */
import assert from "node:assert/strict";
import type net from "node:net";
import { test } from "node:test";
import { connect, headLength, rawServer, readUntil } from "./helpers.ts";
import { withWsProxy } from "./websocket_helpers.ts";

/** An origin that answers the first request head with `answer`, then echoes raw bytes. */
function upgradingOrigin(answer: string) {
  const heads: string[] = [];
  const server = rawServer((s: net.Socket) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on("data", (d: Buffer) => {
      if (upgraded) return void s.write(d);
      buf = Buffer.concat([buf, d]);
      const n = headLength(buf);
      if (n < 0) return;
      heads.push(buf.subarray(0, n).toString("latin1"));
      upgraded = true;
      s.write(answer);
      if (buf.length > n) s.write(buf.subarray(n));
    });
  });
  return { server, heads };
}

/** Bytes that are no valid WebSocket frame from a client (unmasked, reserved opcode). */
const NOT_A_FRAME = Buffer.from([0x83, 0x05, 0x00, 0xff, 0x0d, 0x0a, 0x00]);

async function upgradeThrough(proxyPort: number, originPort: number, headers: string) {
  const s = await connect(proxyPort);
  s.write(`GET http://127.0.0.1:${originPort}/up HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`);
  const head = await readUntil(s, (b) => headLength(b) > 0);
  assert.match(head.toString("latin1"), /^HTTP\/1\.1 101 /);
  s.write(NOT_A_FRAME);
  const echoed = await readUntil(s, (b) => b.length >= NOT_A_FRAME.length);
  assert.deepEqual(echoed, NOT_A_FRAME);
  s.destroy();
}

test("Upgrade: foo answered 101 relays raw bytes both ways", async () => {
  const { server, heads } = upgradingOrigin(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n",
  );
  const origin = await server;
  try {
    await withWsProxy({}, [], async (proxy, seen) => {
      await upgradeThrough(
        proxy.address.port,
        origin.port,
        "Upgrade: foo\r\nConnection: Upgrade\r\n",
      );
      assert.match(heads[0], /\r\nUpgrade: foo\r\n/);
      assert.ok(seen.hooks.every((h) => !h.startsWith("websocket")));
    });
  } finally {
    await origin.close();
  }
});

test("a WebSocket Upgrade without Sec-WebSocket-Key is relayed raw, not inspected", async () => {
  const { server } = upgradingOrigin(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
  );
  const origin = await server;
  try {
    await withWsProxy({}, [], async (proxy, seen) => {
      await upgradeThrough(
        proxy.address.port,
        origin.port,
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
      );
      assert.ok(seen.hooks.every((h) => !h.startsWith("websocket")));
    });
  } finally {
    await origin.close();
  }
});

test("a 101 with a wrong Sec-WebSocket-Accept is relayed raw, not inspected", async () => {
  const { server } = upgradingOrigin(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: d3JvbmcgYWNjZXB0IGtleQ==\r\n\r\n",
  );
  const origin = await server;
  try {
    await withWsProxy({}, [], async (proxy, seen) => {
      await upgradeThrough(
        proxy.address.port,
        origin.port,
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
      );
      assert.ok(seen.hooks.every((h) => !h.startsWith("websocket")));
    });
  } finally {
    await origin.close();
  }
});
