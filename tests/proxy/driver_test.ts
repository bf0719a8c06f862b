// The driver: a layer stack over real connections. First over the runtime's in-memory network
// (no sockets), then over real sockets on 127.0.0.1 with curl as the client.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { execFile } from "node:child_process";
import { MemoryConn } from "../../src/runtime/shared/memory.ts";
import { MemoryNetwork } from "../fakes/memory_network.ts";
import { network as runtimeNetwork } from "../../src/runtime/mod.ts";
import type { Conn, Network } from "../../src/runtime/types.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS, type LayerOptions } from "../../src/proxy/core/context.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import type { DriverServices } from "../../src/proxy/driver/services.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function services(network: Network, hooks: string[] = []): DriverServices {
  return {
    network,
    tls: null,
    hook(name) {
      hooks.push(name);
    },
    log() {},
    connectTimeoutMs: 5000,
    closeFlushMs: 1000,
  };
}

function drive(conn: Conn, svc: DriverServices, options: Partial<LayerOptions> = {}) {
  const client = new Client(conn.remote, conn.local);
  const ctx = new Context(client, { ...DEFAULT_LAYER_OPTIONS, ...options });
  return new Driver(new RegularMode(ctx), client, conn, svc).run();
}

/** Reads from `conn` until `done(text so far)` or EOF. */
async function readUntil(conn: Conn, done: (text: string) => boolean): Promise<string> {
  let text = "";
  while (!done(text)) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += dec.decode(chunk);
  }
  return text;
}

/** An in-memory origin answering each request with its path, keep-alive. */
async function memoryOrigin(net: MemoryNetwork, host: string, port: number) {
  await net.listen({ host, port }, async (conn) => {
    let buffered = "";
    for (;;) {
      const chunk = await conn.read();
      if (chunk === null) break;
      buffered += dec.decode(chunk);
      let end: number;
      while ((end = buffered.indexOf("\r\n\r\n")) >= 0) {
        const path = buffered.split(" ")[1];
        buffered = buffered.slice(end + 4);
        const body = `you asked for ${path}`;
        await conn.write(
          enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
        );
      }
    }
    conn.close();
  });
}

describe("Driver over the in-memory network", () => {
  test("two keep-alive requests through regular mode, hooks in order, then a clean end", async () => {
    const net = new MemoryNetwork();
    await memoryOrigin(net, "origin.test", 80);
    const [client, proxySide] = MemoryConn.pair(
      { host: "127.0.0.1", port: 50001 },
      { host: "127.0.0.1", port: 8080 },
    );
    const hooks: string[] = [];
    const done = drive(proxySide, services(net, hooks));
    await client.write(
      enc.encode("GET http://origin.test/one HTTP/1.1\r\nHost: origin.test\r\n\r\n"),
    );
    const first = await readUntil(client, (t) => t.endsWith("/one"));
    assert.equal(first, "HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\nyou asked for /one");
    await client.write(
      enc.encode("GET http://origin.test/two HTTP/1.1\r\nHost: origin.test\r\n\r\n"),
    );
    const second = await readUntil(client, (t) => t.endsWith("/two"));
    assert.match(second, /you asked for \/two$/);
    client.closeWrite();
    assert.equal(await readUntil(client, () => false), "", "the proxy closes after the client");
    await done;
    assert.deepEqual(hooks, [
      "requestheaders",
      "request",
      "responseheaders",
      "response",
      "flow_done",
      "requestheaders",
      "request",
      "responseheaders",
      "response",
      "flow_done",
    ]);
  });

  test("a response's head and body go to the client in one write; unheard hooks are skipped", async () => {
    const net = new MemoryNetwork();
    await memoryOrigin(net, "origin.test", 80);
    const [client, proxySide] = MemoryConn.pair(
      { host: "127.0.0.1", port: 50001 },
      { host: "127.0.0.1", port: 8080 },
    );
    // Every write the driver makes to the client, as the pieces it hands over at once.
    const writes: number[] = [];
    const counted = new Proxy(proxySide, {
      get(target, key) {
        if (key === "write") {
          return (data: Uint8Array) => (writes.push(1), target.write(data));
        }
        if (key === "writev") {
          return (chunks: Uint8Array[]) => (writes.push(chunks.length), target.writev(chunks));
        }
        const value = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const hooks: string[] = [];
    const done = drive(counted, services(net, hooks), {
      hookListened: (name) => name === "flow_done",
    });
    await client.write(
      enc.encode("GET http://origin.test/one HTTP/1.1\r\nHost: origin.test\r\n\r\n"),
    );
    const first = await readUntil(client, (t) => t.endsWith("/one"));
    assert.equal(first, "HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\nyou asked for /one");
    assert.deepEqual(writes, [2], "head and body in one writev");
    client.closeWrite();
    assert.equal(await readUntil(client, () => false), "");
    await done;
    assert.deepEqual(hooks, ["flow_done"]);
  });

  test("a refused origin: 502 with the reason, and the driver ends", async () => {
    const net = new MemoryNetwork();
    const [client, proxySide] = MemoryConn.pair(
      { host: "127.0.0.1", port: 50002 },
      { host: "127.0.0.1", port: 8080 },
    );
    const done = drive(proxySide, services(net));
    await client.write(enc.encode("GET http://nobody.test/ HTTP/1.1\r\nHost: nobody.test\r\n\r\n"));
    const text = await readUntil(client, (t) => t.endsWith("server is up.\n"));
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(text, /: connection refused\. Check the host name and that the server is up\.\n$/);
    // The 502 is well framed, so the client's connection stays usable; the driver ends with it.
    client.close();
    await done;
  });

  test("CONNECT to a non-TLS service: the bytes are spliced both ways", async () => {
    const net = new MemoryNetwork();
    await net.listen({ host: "echo.test", port: 7 }, async (conn) => {
      for (let c = await conn.read(); c !== null; c = await conn.read()) await conn.write(c);
      conn.close();
    });
    const [client, proxySide] = MemoryConn.pair(
      { host: "127.0.0.1", port: 50003 },
      { host: "127.0.0.1", port: 8080 },
    );
    const done = drive(proxySide, services(net), { clientFirstWaitMs: 60_000 });
    await client.write(enc.encode("CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n"));
    const ok = await readUntil(client, (t) => t.endsWith("\r\n\r\n"));
    assert.equal(ok, "HTTP/1.1 200 Connection Established\r\n\r\n");
    await client.write(enc.encode("\x00hello echo"));
    assert.equal(await readUntil(client, (t) => t.length >= 11), "\x00hello echo");
    client.closeWrite();
    assert.equal(await readUntil(client, () => false), "");
    await done;
  });
});

test("an Upgrade answered 101: the relay carries both directions after the handshake", async () => {
  const net = new MemoryNetwork();
  await net.listen({ host: "ws.test", port: 80 }, async (conn) => {
    let head = "";
    while (!head.includes("\r\n\r\n")) head += dec.decode((await conn.read())!);
    await conn.write(
      enc.encode(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-echo\r\nConnection: Upgrade\r\n\r\nready;",
      ),
    );
    for (let c = await conn.read(); c !== null; c = await conn.read()) await conn.write(c);
    conn.close();
  });
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port: 50004 },
    { host: "127.0.0.1", port: 8080 },
  );
  const hooks: string[] = [];
  const done = drive(proxySide, services(net, hooks));
  await client.write(enc.encode(
    "GET http://ws.test/ HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: x-echo\r\n\r\n",
  ));
  const switched = await readUntil(client, (t) => t.endsWith("ready;"));
  assert.match(switched, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  await client.write(enc.encode("ping"));
  assert.equal(await readUntil(client, (t) => t === "ping"), "ping");
  client.closeWrite();
  assert.equal(await readUntil(client, () => false), "");
  await done;
  assert.deepEqual(hooks, ["requestheaders", "request", "responseheaders", "flow_done"]);
});

test("backpressure: a client that stops reading stops the origin; all bytes arrive later", async () => {
  const net = new MemoryNetwork();
  const total = 16 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let written = 0;
  await net.listen({ host: "big.test", port: 80 }, async (conn) => {
    let head = "";
    while (!head.includes("\r\n\r\n")) head += dec.decode((await conn.read())!);
    await conn.write(enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`));
    while (written < total) {
      const full = conn.write(chunk);
      written += chunk.length;
      if (full) await full;
    }
  });
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port: 50005 },
    { host: "127.0.0.1", port: 8080 },
  );
  const done = drive(proxySide, services(net), { holdResponseBodies: false });
  await client.write(enc.encode("GET http://big.test/ HTTP/1.1\r\nHost: big.test\r\n\r\n"));
  // The client reads nothing for a while: the origin must soon be unable to write more.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(written > 0, "the origin started sending");
  assert.ok(written <= 1024 * 1024, `at most 1 MiB in flight while the client waits (${written})`);
  let received = 0;
  for (;;) {
    const c = await client.read();
    if (c === null) break;
    received += c.length;
    if (received >= total + 38) break;
  }
  assert.equal(received, total + `HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`.length);
  client.close();
  await done;
});

test("read buffers go back to the connection only once all their bytes went on", async () => {
  const net = new MemoryNetwork();
  const body = 4 * 64 * 1024;
  await net.listen({ host: "bulk.test", port: 80 }, async (conn) => {
    let head = "";
    while (!head.includes("\r\n\r\n")) head += dec.decode((await conn.read())!);
    // A head cut in two: the first part stays in the HTTP/1 reader between two reads.
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\nContent-Le"));
    await new Promise((r) => setTimeout(r, 50));
    await conn.write(enc.encode(`ngth: ${body}\r\n\r\n`));
    await new Promise((r) => setTimeout(r, 50));
    for (let sent = 0; sent < body; sent += 64 * 1024) {
      await conn.write(new Uint8Array(64 * 1024).fill(0x61));
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  // The origin connection recycles like Deno's: a recycled buffer is overwritten by the next
  // read, here at once, so a byte still in use when it came back would arrive as "z".
  const recycled: Uint8Array[] = [];
  const recycling: Network = {
    listen: (address, onConn) => net.listen(address, onConn),
    connect: async (options) => {
      const conn = await net.connect(options);
      return new Proxy(conn, {
        get(target, key) {
          if (key === "recycle") {
            return (chunk: Uint8Array) => {
              recycled.push(chunk);
              chunk.fill(0x7a);
            };
          }
          const value = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    },
  };
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port: 50006 },
    { host: "127.0.0.1", port: 8080 },
  );
  const done = drive(proxySide, services(recycling), { holdResponseBodies: false });
  await client.write(enc.encode("GET http://bulk.test/ HTTP/1.1\r\nHost: bulk.test\r\n\r\n"));
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${body}\r\n\r\n`;
  const text = await readUntil(client, (t) => t.length >= head.length + body);
  assert.equal(text, head + "a".repeat(body));
  assert.ok(recycled.length > 0, "body reads were given back");
  client.close();
  await done;
});

test("body_timeout does not count time the driver held the origin back for a slow client", async () => {
  // A client that does not read its download for longer than body_timeout has not made the
  // origin stall: the body timer, watching the origin, starts over instead of firing.
  const net = new MemoryNetwork();
  const total = 4 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).fill(0x62);
  await net.listen({ host: "big.test", port: 80 }, async (conn) => {
    let head = "";
    while (!head.includes("\r\n\r\n")) head += dec.decode((await conn.read())!);
    await conn.write(enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`));
    for (let sent = 0; sent < total; sent += chunk.length) {
      const full = conn.write(chunk);
      if (full) await full;
    }
  });
  // Timers fire only when the test says so.
  const pending = new Set<() => void>();
  const timers = {
    set(_ms: number, fire: () => void) {
      pending.add(fire);
      return fire;
    },
    clear(handle: unknown) {
      pending.delete(handle as () => void);
    },
  };
  const fireAll = () => {
    const due = [...pending];
    pending.clear();
    for (const fire of due) fire();
  };
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port: 50006 },
    { host: "127.0.0.1", port: 8080 },
  );
  const done = drive(proxySide, { ...services(net), timers }, {
    holdResponseBodies: false,
    bodyTimeoutMs: 1000,
  });
  await client.write(enc.encode("GET http://big.test/ HTTP/1.1\r\nHost: big.test\r\n\r\n"));
  // Let the transfer fill every buffer, so the driver holds back reading the origin.
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 3; i++) {
    fireAll();
    await new Promise((r) => setTimeout(r, 20));
  }
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`.length;
  let received = 0;
  for (;;) {
    const c = await client.read();
    if (c === null) break;
    received += c.length;
    if (received >= total + head) break;
  }
  assert.equal(received, total + head, "the whole body arrived");
  client.close();
  await done;
});

test("full duplex: an upload goes on while the client has not read the early response", async () => {
  const net = new MemoryNetwork();
  const size = 2 * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).fill(0x62);
  let uploaded = 0;
  const HEAD = `PUT / HTTP/1.1\r\nHost: duplex.test\r\nContent-Length: ${size}\r\n\r\n`;
  await net.listen({ host: "duplex.test", port: 80 }, async (conn) => {
    // Answer at once with a large body, and read the upload at the same time.
    const send = (async () => {
      await conn.write(enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`));
      for (let sent = 0; sent < size; sent += chunk.length) await conn.write(chunk);
    })();
    for (
      let c = await conn.read();
      c !== null && uploaded < size + HEAD.length;
      c = await conn.read()
    ) {
      uploaded += c.length;
    }
    await send;
  });
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port: 50007 },
    { host: "127.0.0.1", port: 8080 },
  );
  const done = drive(proxySide, services(net), {
    holdRequestBodies: false,
    holdResponseBodies: false,
  });
  await client.write(enc.encode(
    `PUT http://duplex.test/ HTTP/1.1\r\nHost: duplex.test\r\nContent-Length: ${size}\r\n\r\n`,
  ));
  // Let the response fill everything towards the client (which is not reading) before the
  // upload starts: the proxy must still read the upload.
  await new Promise((r) => setTimeout(r, 200));
  const upload = (async () => {
    for (let sent = 0; sent < size; sent += chunk.length) await client.write(chunk);
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`upload stuck at ${uploaded} bytes`)), 20_000);
  });
  try {
    // The client reads nothing until its upload is done.
    await Promise.race([upload, stuck]);
  } finally {
    clearTimeout(timer);
  }
  let received = 0;
  for (let c = await client.read(); c !== null; c = await client.read()) received += c.length;
  assert.ok(received > size, `the whole response arrived (${received})`);
  assert.equal(uploaded, size + HEAD.length, "the origin got the whole upload");
  await done;
});

test("timers come from the services: an idle client is closed when its timer fires", async () => {
  const net = new MemoryNetwork();
  const armed: Array<{ ms: number; fire: () => void; cleared: boolean }> = [];
  const svc: DriverServices = {
    ...services(net),
    timers: {
      set(ms, fire) {
        const t = { ms, fire, cleared: false };
        armed.push(t);
        return t;
      },
      clear(handle) {
        (handle as { cleared: boolean }).cleared = true;
      },
    },
  };
  const [client, proxySide] = MemoryConn.pair(
    { host: "127.0.0.1", port: 50008 },
    { host: "127.0.0.1", port: 8080 },
  );
  const done = drive(proxySide, svc, { idleTimeoutMs: 5000 });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(armed.map((t) => [t.ms, t.cleared]), [[5000, false]]);
  armed[0].fire(); // no real time passes: the test fires the idle timer itself
  assert.equal(await readUntil(client, () => false), "", "the proxy closed the idle client");
  await done;
});

describe("Driver over real sockets", () => {
  test("curl through a regular-mode listener to an origin on 127.0.0.1", async () => {
    const big = "x".repeat(3 * 1024 * 1024);
    const origin = http.createServer((req, res) => {
      const body = req.url === "/big" ? big : `hello from ${req.url}`;
      res.writeHead(200, {
        "Content-Type": "text/plain",
        "Content-Length": Buffer.byteLength(body),
      });
      res.end(body);
    });
    await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
    const originPort = (origin.address() as { port: number }).port;
    const drivers: Promise<void>[] = [];
    const listener = await runtimeNetwork.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
      drivers.push(drive(conn, services(runtimeNetwork), { holdResponseBodies: false }));
    });
    try {
      const proxy = `http://127.0.0.1:${listener.address.port}`;
      const url = `http://127.0.0.1:${originPort}`;
      const out = await curl(["-s", "-x", proxy, `${url}/a`, `${url}/big`]);
      assert.equal(out.length, `hello from /a`.length + big.length);
      assert.ok(out.startsWith("hello from /a"));
      assert.ok(out.endsWith("xxx"));
      await Promise.all(drivers);
      assert.equal(drivers.length, 1, "curl reused its connection for both requests");
    } finally {
      await listener.close();
      await new Promise<void>((r) => origin.close(() => r()));
    }
  });
});

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "curl",
      ["--max-time", "30", ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (e, stdout) => {
        if (e) reject(e);
        else resolve(String(stdout));
      },
    );
  });
}
