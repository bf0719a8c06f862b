/**
 * Behaviour checks that every real Network implementation must pass on loopback: data integrity,
 * EOF and half-close, backpressure in both directions, close(), and errors mapped to NetError.
 * Used to qualify an implementation before src/runtime/mod.ts may pick it (docs/RUNTIME.md).
 *
 *   deno run -A src/runtime/shared/conformance.ts [node_net|deno_native|deno_mixed]
 *   bun src/runtime/shared/conformance.ts [node_net|bun_native]
 */
import process from "node:process";
import { type Conn, NetError, type Network } from "../types.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

const HOST = "127.0.0.1";

function fail(message: string): never {
  throw new Error(message);
}

function timeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
    }),
  ]);
}

/** A listener whose accepted connections arrive through `accept()`. */
async function serve(network: Network) {
  const waiting: Array<(c: Conn) => void> = [];
  const ready: Conn[] = [];
  const listener = await network.listen({ host: HOST, port: 0 }, (conn) => {
    const w = waiting.shift();
    if (w) w(conn);
    else ready.push(conn);
  });
  return {
    listener,
    accept: (): Promise<Conn> => {
      const c = ready.shift();
      return timeout(
        c ? Promise.resolve(c) : new Promise((r) => waiting.push(r)),
        5000,
        "accept",
      );
    },
  };
}

async function pair(network: Network) {
  const srv = await serve(network);
  const client = await network.connect({ host: HOST, port: srv.listener.address.port });
  const server = await srv.accept();
  return { client, server, listener: srv.listener };
}

/** Reads until EOF; returns the bytes. */
async function readAll(conn: Conn, limitMs = 20000): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  await timeout(
    (async () => {
      for (;;) {
        const c = await conn.read();
        if (c === null) break;
        parts.push(c);
        total += c.length;
      }
    })(),
    limitMs,
    "read to EOF",
  );
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const checks: Record<string, (network: Network) => Promise<string>> = {
  async "many runs of small pieces, joined for writing, arrive whole and in order"(network) {
    // Runs of small pieces are joined into one buffer per write (a connection may reuse it for
    // the next run once the write is done): every byte must still arrive as sent.
    const { client, server, listener } = await pair(network);
    const sent: Uint8Array[] = [];
    let seed = 7;
    const size = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 9000 + 1;
    const reading = readAll(server);
    let last: Promise<void> | undefined;
    for (let w = 0; w < 200; w++) {
      const pieces = Array.from({ length: 10 }, (_, i) => pattern(size(), (w * 10 + i) % 251));
      sent.push(...pieces);
      last = client.writev(pieces) ?? last;
    }
    await last;
    client.closeWrite();
    const got = await reading;
    const want = new Uint8Array(sent.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of sent) {
      want.set(p, o);
      o += p.length;
    }
    if (!sameBytes(got, want)) fail(`received ${got.length} bytes, not the ${want.length} sent`);
    server.close();
    client.close();
    await listener.close();
    return `${got.length} bytes intact`;
  },
  async "echo, addresses, writev integrity"(network) {
    const { client, server, listener } = await pair(network);
    if (client.remote.port !== listener.address.port) fail("client.remote.port is wrong");
    if (server.local.port !== listener.address.port) fail("server.local.port is wrong");
    if (server.remote.port !== client.local.port) fail("server.remote != client.local");
    const pieces = [pattern(10, 1), pattern(20000, 2), pattern(3, 3), pattern(300000, 4)];
    const w = client.writev(pieces);
    const w2 = client.write(pattern(5, 5));
    const reading = readAll(server);
    await w;
    await w2;
    client.closeWrite();
    const got = await reading;
    const want = new Uint8Array([...pieces.flatMap((p) => [...p]), ...pattern(5, 5)]);
    if (!sameBytes(got, want)) fail(`received ${got.length} bytes, not the ${want.length} sent`);
    server.close();
    client.close();
    await listener.close();
    return `${got.length} bytes intact`;
  },

  async "flushed() and recycle(): reused read buffers never corrupt data"(network) {
    const { client, server, listener } = await pair(network);
    const total = 8_000_000;
    const sent = pattern(total, 7);
    const writing = (async () => {
      for (let o = 0; o < total; o += 100_000) {
        const w = client.write(sent.subarray(o, o + 100_000));
        if (w) await w;
      }
      const f = client.flushed();
      if (f) await f;
      if (client.flushed() !== undefined) fail("flushed() still pending after it resolved");
      client.closeWrite();
    })();
    // Copy each chunk out, then hand it back: a reused buffer must not change bytes already read.
    const got = new Uint8Array(total);
    let o = 0;
    let recycled = 0;
    await timeout(
      (async () => {
        for (;;) {
          const c = await server.read();
          if (c === null) break;
          if (o + c.length > total) fail("received more than was sent");
          got.set(c, o);
          o += c.length;
          if (server.recycle) {
            server.recycle(c);
            recycled++;
          }
        }
      })(),
      20000,
      "read with recycle",
    );
    await writing;
    if (o !== total || !sameBytes(got, sent)) {
      fail(`received ${o} bytes, not the ${total} sent intact`);
    }
    server.close();
    client.close();
    await listener.close();
    return server.recycle ? `intact with ${recycled} chunks recycled` : "intact (no recycle())";
  },

  async "half-close: FIN passes, the other direction keeps working"(network) {
    const { client, server, listener } = await pair(network);
    await client.write(new TextEncoder().encode("request"));
    client.closeWrite();
    const req = await readAll(server);
    if (new TextDecoder().decode(req) !== "request") fail("server did not get the request");
    if (server.isClosed) fail("server conn closed after peer FIN only");
    const reply = pattern(1_000_000, 9);
    const w = server.write(reply);
    const reading = readAll(client);
    await w;
    server.closeWrite();
    const got = await reading;
    if (!sameBytes(got, reply)) fail(`reply after FIN: ${got.length} of ${reply.length} bytes`);
    await timeout(Promise.all([client.closed, server.closed]), 5000, "closed after FIN both ways");
    if (!client.isClosed || !server.isClosed) fail("isClosed false after FIN both ways");
    if (await client.read() !== null) fail("read after EOF is not null");
    await listener.close();
    return "FIN both ways, 1 MB after the first FIN, closed resolves";
  },

  async "backpressure: a reader that stops reading stops the writer"(network) {
    const { client, server, listener } = await pair(network);
    const chunk = pattern(64 * 1024, 7);
    let accepted = 0;
    let blocked: Promise<void> | undefined;
    // Nobody reads on the server: writes must start asking to wait within bounded memory.
    for (let i = 0; i < 2048 && blocked === undefined; i++) {
      blocked = client.write(chunk);
      accepted += chunk.length;
      if (i % 16 === 15) await new Promise((r) => setTimeout(r, 1));
    }
    if (blocked === undefined) fail(`128 MiB written without backpressure`);
    // Let kernel buffers settle, then check the writer is still blocked.
    let released = false;
    blocked.then(() => (released = true), () => {});
    await new Promise((r) => setTimeout(r, 200));
    if (released) {
      // Allowed once (a drain that was already due), but it must block again soon.
      let again: Promise<void> | undefined;
      for (let i = 0; i < 256 && again === undefined; i++) {
        again = client.write(chunk);
        accepted += chunk.length;
      }
      if (again === undefined) fail("writer never blocked again while nobody read");
      blocked = again;
    }
    // The reader catches up: the pending write settles; only then the FIN (node:net emits no
    // "drain" once end() was called, so a write promise pending across closeWrite() never
    // settles there).
    const reading = readAll(server);
    await timeout(blocked, 5000, "write promise after the reader caught up");
    client.closeWrite();
    const got = await reading;
    if (got.length !== accepted) fail(`read ${got.length} of ${accepted} bytes`);
    for (let o = 0; o < got.length; o += chunk.length) {
      if (!sameBytes(got.subarray(o, o + chunk.length), chunk)) fail(`corrupt at ${o}`);
    }
    server.close();
    await listener.close();
    return `writer blocked after ${(accepted / 1048576).toFixed(1)} MiB; all delivered`;
  },

  async "close(): idempotent, pending reads end, peer sees EOF or reset"(network) {
    const { client, server, listener } = await pair(network);
    const pending = server.read();
    server.close();
    server.close();
    const r = await timeout(pending, 5000, "pending read after close()");
    if (r !== null) fail("pending read after close() gave data");
    await timeout(server.closed, 5000, "closed after close()");
    if (!server.isClosed) fail("isClosed false after close()");
    let threw = false;
    try {
      server.write(new Uint8Array(1));
    } catch (e) {
      threw = e instanceof NetError;
    }
    if (!threw) fail("write after close() did not throw a NetError");
    const peer = await timeout(
      client.read().then((c) => (c === null ? "EOF" : "data"), (e) => `error ${e?.code}`),
      5000,
      "peer read after close()",
    );
    if (peer === "data") fail("peer got data");
    client.close();
    await listener.close();
    return `peer saw ${peer}`;
  },

  async "reset: writing to a peer that closed with unread data fails with a NetError"(network) {
    const { client, server, listener } = await pair(network);
    await client.write(pattern(1000, 1));
    await new Promise((r) => setTimeout(r, 50));
    server.close(); // unread data: the kernel sends RST
    let code = "";
    try {
      for (let i = 0; i < 200; i++) {
        await client.write(pattern(64 * 1024, i));
        await new Promise((r) => setTimeout(r, 2));
      }
      await client.read();
      await client.read();
    } catch (e) {
      if (!(e instanceof NetError)) fail(`not a NetError: ${e}`);
      code = e.code;
    }
    if (code === "") fail("no error after the peer reset");
    await timeout(client.closed, 5000, "closed after reset");
    await listener.close();
    return `NetError ${code}`;
  },

  async "errors: refused, dns, address-in-use, timeout"(network) {
    const codeOf = async (p: Promise<unknown>) => {
      try {
        await p;
        return "no error";
      } catch (e) {
        return e instanceof NetError ? e.code : `not a NetError: ${e}`;
      }
    };
    const srv = await serve(network);
    const port = srv.listener.address.port;
    const inUse = await codeOf(network.listen({ host: HOST, port }, () => {}));
    await srv.listener.close();
    const refused = await codeOf(network.connect({ host: HOST, port }));
    const dns = await codeOf(network.connect({ host: "no-such-host.invalid", port: 80 }));
    const results = { refused, dns, "address-in-use": inUse };
    for (const [want, got] of Object.entries(results)) {
      if (want !== got) fail(`expected ${want}, got ${got}`);
    }
    // A connect that cannot finish in 1 ms (DNS of a bad name is not instant, usually).
    const t = await codeOf(network.connect({ host: "localhost", port: 1, timeoutMs: 0.001 }));
    return `refused, dns, address-in-use ok; 1µs-timeout connect gave ${t}`;
  },
};

export async function checkNetwork(network: Network): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [name, check] of Object.entries(checks)) {
    try {
      results.push({ name, ok: true, detail: await timeout(check(network), 60000, name) });
    } catch (e) {
      results.push({ name, ok: false, detail: (e as Error)?.message ?? String(e) });
    }
  }
  return results;
}

/** The implementations available on the current runtime, by name. */
export async function loadNetwork(name: string): Promise<Network> {
  switch (name) {
    case "node_net":
      return (await import("../node/net.ts")).nodeNetwork;
    case "deno_native":
      return (await import("../deno/net.ts")).denoNetwork;
    case "bun_native":
      return (await import("../bun/net.ts")).bunNetwork;
    case "deno_mixed": {
      // Accept with node:net (server-side TLS on Deno needs a node:net socket), connect natively.
      const { nodeNetwork } = await import("../node/net.ts");
      const { denoNetwork } = await import("../deno/net.ts");
      return { listen: nodeNetwork.listen, connect: denoNetwork.connect };
    }
    case "default":
      return (await import("../mod.ts")).network;
  }
  throw new Error(`unknown network implementation ${name}`);
}

if (import.meta.main) {
  const name = process.argv[2] ?? "default";
  const results = await checkNetwork(await loadNetwork(name));
  let failed = 0;
  for (const r of results) {
    if (!r.ok) failed++;
    console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name}: ${r.detail}`);
  }
  console.log(`${name}: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
