/**
 * CPU per request of the layered core's HTTP/1 stack alone: no sockets, no driver. Feeds N
 * keep-alive requests through one HttpLayer (regular mode, plain HTTP, one origin connection),
 * answering every blocking command at once as the driver would, and reports µs of CPU per request.
 *
 *   bun scripts/bench_layers.ts [requests] [--hooks] [--no-timeouts] [--shared-pool]
 *   deno run -A scripts/bench_layers.ts [requests]
 *
 * Without --hooks no addon listens (like `mitm -q` with no addons): hooks are skipped in the layer.
 * With --shared-pool the origin connection goes to the shared pool after every exchange and comes
 * back on the next dial, as in the proxy (its option `sharedOriginPool`).
 */
import {
  type Command,
  OpenConnection,
  ParkConnection,
  SendData,
} from "../src/proxy/core/commands.ts";
import { CallHook, Splice, StartTls } from "../src/proxy/core/commands.ts";
import { Client, ConnState } from "../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../src/proxy/core/context.ts";
import {
  DataReceived,
  type Event,
  HookAnswered,
  OpenConnectionCompleted,
  Start,
} from "../src/proxy/core/events.ts";
import { HttpLayer } from "../src/proxy/layers/http/layer.ts";
import process from "node:process";

const args = process.argv.slice(2);
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 50_000);
const hooks = args.includes("--hooks");
const timeouts = !args.includes("--no-timeouts");
const sharedPool = args.includes("--shared-pool");

const enc = new TextEncoder();
const request = enc.encode(
  "GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
);
const response = enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" + "x".repeat(1024));

function run(count: number): { sent: number } {
  const client = new Client({ host: "127.0.0.1", port: 50000 }, { host: "127.0.0.1", port: 8080 });
  const options = {
    ...DEFAULT_LAYER_OPTIONS,
    ...(timeouts ? {} : {
      idleTimeoutMs: Infinity,
      headerTimeoutMs: Infinity,
      readTimeoutMs: Infinity,
      originIdleTimeoutMs: Infinity,
      bodyTimeoutMs: Infinity,
    }),
    ...(hooks ? {} : { hookListened: () => false }),
    sharedOriginPool: sharedPool,
  };
  const layer = new HttpLayer(new Context(client, options), { kind: "regular" });
  let sent = 0;
  let server: OpenConnection["conn"] | null = null;
  let parked = false;
  // Answers blocking commands at once; returns how many bytes went to the client.
  const feed = (first: Event): void => {
    const events: Event[] = [first];
    while (events.length > 0) {
      const commands: Command[] = layer.handleEvent(events.shift()!);
      for (const c of commands) {
        if (c instanceof OpenConnection) {
          // The driver takes a parked connection back from the shared pool: no dial.
          if (parked) c.conn.reused = true;
          parked = false;
          c.conn.state = ConnState.Open;
          server = c.conn;
          events.push(new OpenConnectionCompleted(c, null));
        } else if (c instanceof CallHook) {
          events.push(new HookAnswered(c));
        } else if (c instanceof ParkConnection) {
          parked = true;
        } else if (c instanceof SendData && c.conn === client) {
          sent += c.data.length;
        } else if (c instanceof StartTls || c instanceof Splice) {
          throw new Error(`unexpected ${c}`);
        }
      }
    }
  };
  feed(new Start());
  for (let i = 0; i < count; i++) {
    feed(new DataReceived(client, request));
    if (server === null) throw new Error("no origin connection was opened");
    feed(new DataReceived(server, response));
  }
  return { sent };
}

run(2_000); // warm-up: let the JIT compile the generators
const before = process.cpuUsage();
const t0 = performance.now();
const { sent } = run(n);
const cpu = process.cpuUsage(before);
const wall = performance.now() - t0;
if (sent < n * response.length) throw new Error(`only ${sent} bytes reached the client`);
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
console.log(
  `${runtime}: ${n} requests, ${((cpu.user + cpu.system) / n).toFixed(1)} µs CPU/request, ` +
    `${(wall * 1000 / n).toFixed(1)} µs wall/request (hooks ${hooks ? "on" : "off"}, timeouts ${
      timeouts ? "on" : "off"
    }, shared pool ${sharedPool ? "on" : "off"})`,
);
