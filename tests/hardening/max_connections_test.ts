/**
 * max_connections through the real proxy: a connection over the limit is answered 503 with the
 * reason and closed (regular mode) or just closed (socks5), logged once per burst, while the
 * connections already open keep working.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { createLogger } from "../../mod.ts";
import {
  completeResponse,
  connect,
  eventually,
  exchange,
  readUntil,
  recordingOrigin,
  withRealProxy,
} from "./helpers.ts";

const get = (port: number, path = "/") =>
  `GET http://127.0.0.1:${port}${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

const REASON = "mitm.ts: too many connections (max_connections is 3); try again later.\n";

test("max_connections: the excess connection gets 503 and is closed; open ones keep working", async () => {
  const origin = await recordingOrigin();
  const logged: string[] = [];
  const log = createLogger("info", (_level, message) => logged.push(message));
  const open: net.Socket[] = [];
  try {
    await withRealProxy({ max_connections: 3 }, async (proxy) => {
      const port = proxy.address.port;
      for (let i = 0; i < 3; i++) open.push(await connect(port));
      assert.ok(await eventually(() => proxy.connectionCount === 3));

      // A burst of three more: each is told why and closed; the burst is logged once.
      for (let i = 0; i < 3; i++) {
        const { text, closed } = await exchange(port, get(origin.port, `/excess-${i}`));
        assert.match(text, /^HTTP\/1\.1 503 Service Unavailable\r\n/, JSON.stringify(text));
        assert.match(text, /\r\nConnection: close\r\n/);
        assert.ok(text.endsWith(`\r\n\r\n${REASON}`), JSON.stringify(text));
        assert.ok(closed, "the excess connection is closed");
      }
      const warnings = logged.filter((l) => l.includes("max_connections"));
      assert.deepEqual(warnings, [
        "max_connections (3) reached: refusing new client connections until some close",
      ]);
      assert.equal(proxy.connectionCount, 3);

      // The connections that were open are served, more than once each.
      for (const [i, s] of open.entries()) {
        for (let round = 0; round < 2; round++) {
          s.write(get(origin.port, `/open-${i}-${round}`));
          const got = await readUntil(s, (b) => b.toString("latin1").endsWith("\r\nok"));
          assert.match(got.toString("latin1"), /^HTTP\/1\.1 200 OK\r\n/);
        }
      }
      assert.ok(!origin.all().includes("/excess"), "no excess request reached the origin");

      // Once one closes, a new connection is served again, and the end of the burst is logged.
      open.shift()!.destroy();
      assert.ok(await eventually(() => proxy.connectionCount === 2));
      const { text } = await exchange(port, get(origin.port, "/again"), completeResponse);
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.ok(
        logged.includes("accepting connections again; 3 were refused over max_connections"),
        JSON.stringify(logged),
      );
    }, { log });
  } finally {
    for (const s of open) s.destroy();
    await origin.close();
  }
});

test("max_connections: in socks5 mode the excess connection is just closed", async () => {
  await withRealProxy({ max_connections: 1, mode: ["socks5"] }, async (proxy) => {
    const port = proxy.address.port;
    const first = await connect(port);
    try {
      assert.ok(await eventually(() => proxy.connectionCount === 1));
      // SOCKS5 greeting: version 5, one method, "no authentication".
      const { text, closed } = await exchange(port, "\x05\x01\x00");
      assert.equal(text, "", "no HTTP answer to a SOCKS5 client");
      assert.ok(closed);
      // The open connection still gets its SOCKS5 answer.
      first.write(Buffer.from([5, 1, 0]));
      const hello = await readUntil(first, (b) => b.length >= 2);
      assert.deepEqual([...hello], [5, 0]);
    } finally {
      first.destroy();
    }
  });
});

test("max_connections 0 means no limit", async () => {
  const origin = await recordingOrigin();
  const open: net.Socket[] = [];
  try {
    await withRealProxy({ max_connections: 0 }, async (proxy) => {
      for (let i = 0; i < 20; i++) open.push(await connect(proxy.address.port));
      assert.ok(await eventually(() => proxy.connectionCount === 20));
      const { text } = await exchange(proxy.address.port, get(origin.port), completeResponse);
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    });
  } finally {
    for (const s of open) s.destroy();
    await origin.close();
  }
});
