// Upstream mode through the driver on the in-memory network: plain requests go to the upstream
// proxy in absolute-form with its credentials; CONNECT tunnels are opened through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryConn } from "../../src/runtime/shared/memory.ts";
import { MemoryNetwork } from "../fakes/memory_network.ts";
import type { Conn } from "../../src/runtime/types.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import { UpstreamMode } from "../../src/proxy/layers/modes.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import type { DriverServices } from "../../src/proxy/driver/services.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const AUTH = "Basic dTpw";

async function readHead(conn: Conn): Promise<string> {
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += dec.decode(chunk);
  }
  return text;
}

async function readUntil(conn: Conn, done: (t: string) => boolean): Promise<string> {
  let text = "";
  while (!done(text)) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += dec.decode(chunk);
  }
  return text;
}

/** An upstream proxy: CONNECT opens a tunnel; anything else is answered "via upstream". */
async function upstreamProxy(net: MemoryNetwork, heads: string[]) {
  await net.listen({ host: "upstream.test", port: 3128 }, async (conn) => {
    const head = await readHead(conn);
    heads.push(head);
    const [method, target] = head.split(" ");
    if (method !== "CONNECT") {
      await conn.write(enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nvia upstream"));
      return;
    }
    const [host, port] = target.split(":");
    const origin = await net.connect({ host, port: Number(port) });
    await conn.write(enc.encode("HTTP/1.1 200 Connection established\r\n\r\n"));
    const pipe = async (from: Conn, to: Conn) => {
      for (let c = await from.read(); c !== null; c = await from.read()) await to.write(c);
      to.closeWrite();
    };
    await Promise.all([pipe(conn, origin), pipe(origin, conn)]);
  });
}

function drive(net: MemoryNetwork, port: number): { client: MemoryConn; done: Promise<void> } {
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port },
    { host: "127.0.0.1", port: 8080 },
  );
  const services: DriverServices = {
    network: net,
    tls: null,
    hook() {},
    log() {},
    connectTimeoutMs: 5000,
    closeFlushMs: 1000,
  };
  const c = new Client(proxySide.remote, proxySide.local);
  const ctx = new Context(c, {
    ...DEFAULT_LAYER_OPTIONS,
    upstreamAuth: AUTH,
    clientFirstWaitMs: 60_000,
  });
  const layer = new UpstreamMode(ctx, { host: "upstream.test", port: 3128 });
  return { client, done: new Driver(layer, c, proxySide, services).run() };
}

test("upstream mode: a plain request goes to the upstream proxy in absolute-form", async () => {
  const net = new MemoryNetwork();
  const heads: string[] = [];
  await upstreamProxy(net, heads);
  const { client, done } = drive(net, 50010);
  await client.write(enc.encode("GET http://origin.test/x HTTP/1.1\r\nHost: origin.test\r\n\r\n"));
  assert.match(await readUntil(client, (t) => t.endsWith("via upstream")), /via upstream$/);
  client.close();
  await done;
  assert.equal(
    heads[0],
    `GET http://origin.test/x HTTP/1.1\r\nHost: origin.test\r\nProxy-Authorization: ${AUTH}\r\n\r\n`,
  );
});

test("upstream mode: CONNECT opens a tunnel through the upstream proxy", async () => {
  const net = new MemoryNetwork();
  const heads: string[] = [];
  await upstreamProxy(net, heads);
  await net.listen({ host: "echo.test", port: 7 }, async (conn) => {
    for (let c = await conn.read(); c !== null; c = await conn.read()) await conn.write(c);
    conn.close();
  });
  const { client, done } = drive(net, 50011);
  await client.write(enc.encode("CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n"));
  assert.equal(
    await readUntil(client, (t) => t.endsWith("\r\n\r\n")),
    "HTTP/1.1 200 Connection Established\r\n\r\n",
  );
  await client.write(enc.encode("\x00raw bytes"));
  assert.equal(await readUntil(client, (t) => t.length >= 10), "\x00raw bytes");
  client.closeWrite();
  await readUntil(client, () => false);
  await done;
  assert.equal(
    heads[0],
    `CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\nProxy-Authorization: ${AUTH}\r\n\r\n`,
  );
});
