/**
 * CPU per request of the whole proxy (driver, layers, hooks, flows) on the in-memory network:
 * no system calls, so the profile shows only our JavaScript. Keep-alive clients send GETs in
 * absolute form through the proxy to one in-memory origin that answers 1 KiB; prints µs of
 * process CPU per request.
 *
 *   bun scripts/bench_core.ts [requests] [clients]
 *   deno run -A scripts/bench_core.ts [requests] [clients]
 *   bun --cpu-prof --cpu-prof-dir=/tmp/prof scripts/bench_core.ts   a profile of the same run
 *   ... scripts/bench_core.ts 100000 16 --store   with the web UI's flow store and live events
 *                                                  attached, as the defaults run
 *   ... --store --store-worker                      the same with flow_store_writer=worker
 *   ... scripts/bench_core.ts 20000 16 --newconn   one request per client connection
 *   ... scripts/bench_core.ts 20000 16 --connect   the same through CONNECT (a plain tunnel): a new
 *                                                 connection's path but TLS; µs per connection
 * On Linux it also prints the main thread's own CPU (the rest is other threads: a store writer,
 * the collector's helpers).
 */
import fs from "node:fs";
import process from "node:process";
import { ResponseReader } from "../src/http1/mod.ts";
import { Control } from "../src/api/control.ts";
import { startProxy } from "../src/proxy/server.ts";
import { MemoryNetwork } from "../tests/fakes/memory_network.ts";
import type { Conn } from "../src/runtime/types.ts";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const withStore = process.argv.includes("--store");
const storeWorker = process.argv.includes("--store-worker");
const newConn = process.argv.includes("--newconn");
const viaConnect = process.argv.includes("--connect");
const total = Number(args[0] ?? 100_000);
const clients = Number(args[1] ?? 16);

const enc = new TextEncoder();
const request = enc.encode(
  "GET http://origin.test/a HTTP/1.1\r\nHost: origin.test\r\nAccept: */*\r\n\r\n",
);
const response = enc.encode(
  "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: text/plain\r\n\r\n" +
    "x".repeat(1024),
);
const HEAD_END = enc.encode("\r\n\r\n");

/** Index just past the first CRLFCRLF in `buf` from `from`, or -1. */
function headEnd(buf: Uint8Array, from: number): number {
  outer: for (let i = from; i + 4 <= buf.length; i++) {
    for (let j = 0; j < 4; j++) if (buf[i + j] !== HEAD_END[j]) continue outer;
    return i + 4;
  }
  return -1;
}

/** Answers every request head on `conn` with the 1 KiB response (GETs have no body). */
async function serveOrigin(conn: Conn): Promise<void> {
  let pending = new Uint8Array(0);
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) return conn.close();
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    let at = 0;
    for (let end = headEnd(joined, at); end !== -1; end = headEnd(joined, at)) {
      at = end;
      await conn.write(response);
    }
    pending = joined.subarray(at);
  }
}

const net = new MemoryNetwork();
await net.listen({ host: "origin.test", port: 80 }, (c) => void serveOrigin(c));
const proxy = await startProxy({
  listen_host: "127.0.0.1",
  listen_port: 8080,
  ...(storeWorker ? { flow_store_writer: "worker" } : {}),
}, { network: net });
const control = withStore ? await Control.attach(proxy) : null;

const connectHead = enc.encode("CONNECT origin.test:80 HTTP/1.1\r\nHost: origin.test:80\r\n\r\n");
const tunnelled = enc.encode("GET /a HTTP/1.1\r\nHost: origin.test\r\nAccept: */*\r\n\r\n");

/** Reads one response (`method` says how it is framed) from `conn`, feeding `reader`. */
async function readResponse(conn: Conn, reader: ResponseReader, method: string): Promise<void> {
  reader.expect(method);
  for (;;) {
    const ev = reader.next();
    if (ev === null) {
      const chunk = await conn.read();
      if (chunk === null) throw new Error("proxy closed the connection");
      reader.feed(chunk);
    } else if (ev.type === "end") return;
  }
}

/** One request on a connection of its own, directly or through a CONNECT tunnel. */
async function oneShot(): Promise<void> {
  const conn = await net.connect({ host: "127.0.0.1", port: 8080 });
  let reader = new ResponseReader();
  if (viaConnect) {
    await conn.write(connectHead);
    await readResponse(conn, reader, "CONNECT");
    reader = new ResponseReader(); // past a 2xx to CONNECT a reader only relays
    await conn.write(tunnelled);
  } else {
    await conn.write(request);
  }
  await readResponse(conn, reader, "GET");
  conn.close();
}

/**
 * The in-memory network runs on promises alone: without a turn of the event loop now and then no
 * timer would fire (the flow store's flush among them) until the run ends.
 */
function turn(i: number): Promise<unknown> | undefined {
  return i % 32 === 31 ? new Promise((resolve) => setImmediate(resolve)) : undefined;
}

async function client(count: number): Promise<void> {
  if (newConn || viaConnect) {
    for (let i = 0; i < count; i++) {
      await turn(i);
      await oneShot();
    }
    return;
  }
  const conn = await net.connect({ host: "127.0.0.1", port: 8080 });
  const reader = new ResponseReader();
  for (let i = 0; i < count; i++) {
    await turn(i);
    await conn.write(request);
    await readResponse(conn, reader, "GET");
  }
  conn.close();
}

async function run(n: number): Promise<void> {
  const per = Math.ceil(n / clients);
  await Promise.all(Array.from({ length: clients }, () => client(per)));
}

/** The calling thread's CPU time in ms (Linux; NaN elsewhere). */
function threadCpuMs(): number {
  try {
    const stat = fs.readFileSync("/proc/thread-self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
  } catch {
    return NaN;
  }
}

await run(Math.min(20_000, total / 5)); // warm up the JIT
const thread0 = threadCpuMs();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await run(total);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const threadUs = (threadCpuMs() - thread0) * 1000 / total;
const runtime = "Bun" in globalThis ? "bun" : "deno";
console.log(
  `${runtime}: ${total} requests${viaConnect ? " through CONNECT, each" : newConn ? ", each" : ""}${
    newConn || viaConnect ? " on a new connection" : ""
  }, ${clients} clients, ` +
    `${((cpu.user + cpu.system) / total).toFixed(1)} µs CPU/request, ` +
    `${(wall * 1000 / total).toFixed(1)} µs wall/request` +
    (Number.isNaN(threadUs) ? "" : `, main thread ${threadUs.toFixed(1)} µs CPU/request`),
);
await control?.close();
await proxy.close();
process.exit(0);
