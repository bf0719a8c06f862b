// The HTTP stream handles its common events without a generator when no hook on their way must be
// awaited (HttpStream.direct). Its generator handlers handle every event too: here every
// conversation runs twice, with the direct path and without it, and must yield the same commands,
// under each way hooks can be heard (awaited, unheard, only observed, a mix), with bodies held or
// streamed, and with the client's and the origin's bytes cut at any points (fast-check). And in
// generated conversations (any method and framing, malformed requests, 1xx, 204, 304, an origin
// closing early or sending garbage, pipelining; regular, reverse and upstream modes), the HTTP
// layer must throw nothing and answer the client. The fixed cases found a HEAD request whose error
// response threw inside the HTTP/1 layer; the generated ones find it too.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Arm,
  CallHook,
  CloseConnection,
  type Command,
  Disarm,
  Log,
  OpenConnection,
  SendData,
} from "../../src/proxy/core/commands.ts";
import type { Connection } from "../../src/proxy/core/connection.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { flowToJson } from "../../src/flow/serialize.ts";
import type { LayerOptions } from "../../src/proxy/core/context.ts";
import {
  ConnectionClosed,
  DataReceived,
  type Event,
  HookAnswered,
  OpenConnectionCompleted,
  Start,
  Wakeup,
} from "../../src/proxy/core/events.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import type { HttpMode } from "../../src/proxy/layers/http/mode.ts";
import { b, context, withStreamPath } from "./layer_helpers.ts";

/** One step of a conversation: bytes from the client or the origin, or the origin closing. */
type Step = { from: "client" | "origin"; bytes: string } | { from: "origin"; close: true };

const GET = "GET http://a.test/x HTTP/1.1\r\nHost: a.test\r\n\r\n";
const OK = "HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\nabcdefghijklmnopqrstuvwxyz";
const POST = "POST http://a.test/up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 20\r\n\r\n" +
  "0123456789ABCDEFGHIJ";
const CHUNKED_POST = "POST http://a.test/up HTTP/1.1\r\nHost: a.test\r\n" +
  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
const CHUNKED_END = "6\r\n world\r\n0\r\n\r\n";
const TRAILERS = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "4\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Sum: 9\r\n\r\n";

const CONVERSATIONS: Record<string, Step[]> = {
  "GET and a 200 with a body": [{ from: "client", bytes: GET }, { from: "origin", bytes: OK }],
  "two requests on one connection": [
    { from: "client", bytes: GET },
    { from: "origin", bytes: OK },
    { from: "client", bytes: GET },
    { from: "origin", bytes: OK },
  ],
  "a POST with a body": [{ from: "client", bytes: POST }, { from: "origin", bytes: OK }],
  "the origin answers before the upload ends": [
    { from: "client", bytes: CHUNKED_POST },
    { from: "origin", bytes: OK },
    { from: "client", bytes: CHUNKED_END },
    { from: "client", bytes: GET },
    { from: "origin", bytes: OK },
  ],
  "a chunked response with trailers": [
    { from: "client", bytes: GET },
    { from: "origin", bytes: TRAILERS },
  ],
  "HEAD and a 204": [
    { from: "client", bytes: "HEAD http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n" },
    { from: "origin", bytes: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" },
    { from: "client", bytes: GET },
    { from: "origin", bytes: "HTTP/1.1 204 No Content\r\n\r\n" },
  ],
  "100-continue": [
    {
      from: "client",
      bytes: "PUT http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\n" +
        "Expect: 100-continue\r\n\r\n",
    },
    { from: "client", bytes: "abc" },
    { from: "origin", bytes: OK },
  ],
  "the origin closes in the middle of the body": [
    { from: "client", bytes: GET },
    { from: "origin", bytes: OK.slice(0, 50) },
    { from: "origin", close: true },
  ],
  "the origin closes before answering": [
    { from: "client", bytes: GET },
    { from: "origin", close: true },
  ],
};

const HOOKS = [
  "requestheaders",
  "request",
  "responseheaders",
  "response",
  "error",
  "flow_done",
];
const HEARINGS: Record<string, Partial<LayerOptions>> = {
  "every hook awaited": {},
  "no hook heard": { hookListened: () => false },
  "every hook only observed": { hookListened: () => true, hookObserved: () => true },
  "response hooks awaited, the rest observed": {
    hookListened: () => true,
    hookObserved: (name) => !name.startsWith("response"),
  },
  "bodies held for hooks, 8 bytes at most": {
    holdRequestBodies: true,
    holdResponseBodies: true,
    streamLargeBodies: 8,
    hookListened: (name) => HOOKS.includes(name),
    hookObserved: (name) => name === "responseheaders",
  },
  "bodies held, a read timeout": {
    holdRequestBodies: true,
    holdResponseBodies: true,
    readTimeoutMs: 5000,
    hookListened: () => true,
    hookObserved: (name) => name !== "request",
  },
};

/** Runs a conversation with the stream's direct path on or off; the commands, described. */
function converse(
  options: Partial<LayerOptions>,
  steps: Step[],
  cuts: number[],
  direct: boolean,
  mode: HttpMode = { kind: "regular" },
) {
  return withStreamPath(direct, () => {
    const ctx = context(options);
    const layer = new HttpLayer(ctx, mode);
    const names = new Map<Connection, string>([[ctx.client, "client"]]);
    const seen: string[] = [];
    const flows = new Set<Flow>();
    let server: Connection | null = null;
    const feed = (first: Event) => {
      const queue = [first];
      while (queue.length > 0) {
        for (const c of layer.handleEvent(queue.shift()!)) {
          if (c instanceof Log) continue;
          seen.push(describeCommand(c, names));
          if (c instanceof CallHook) flows.add(c.data as Flow);
          if (c instanceof OpenConnection) {
            server = c.conn;
            queue.push(new OpenConnectionCompleted(c, null));
          } else if (c instanceof CallHook && c.blocking) queue.push(new HookAnswered(c));
          else if (c instanceof Arm && c.ms === 5000) queue.push(new Wakeup(c));
        }
      }
    };
    feed(new Start());
    let cut = 0;
    for (const step of steps) {
      if (step.from === "origin" && server === null) continue;
      if ("close" in step) {
        feed(new ConnectionClosed(server!));
        continue;
      }
      const conn = step.from === "client" ? ctx.client : server!;
      const bytes = b(step.bytes);
      // Cut into pieces where the generated cuts fall.
      let at = 0;
      while (at < bytes.length) {
        const size = 1 + (cuts[cut++ % cuts.length] % (bytes.length - at));
        feed(new DataReceived(conn, bytes.subarray(at, at + size)));
        at += size;
      }
    }
    // And what the flows say at the end (bodies, sizes, trailers, errors, times).
    for (const flow of flows) {
      seen.push(JSON.stringify(flowToJson(flow), (k, v) => k === "id" ? undefined : v));
    }
    return seen;
  });
}

function describeCommand(c: Command, names: Map<Connection, string>): string {
  const name = (conn: Connection) => {
    if (!names.has(conn)) names.set(conn, `server${names.size}`);
    return names.get(conn)!;
  };
  if (c instanceof SendData) {
    return `SendData(${name(c.conn)}, ${new TextDecoder().decode(c.data)})`;
  }
  if (c instanceof CallHook) return `CallHook(${c.name}, ${c.observe ? "observe" : "await"})`;
  if (c instanceof CloseConnection) return `Close(${name(c.conn)}, ${c.half})`;
  if (c instanceof Arm) return `Arm(${c.ms})`;
  if (c instanceof Disarm) return `Disarm(${c.timer.ms})`;
  if (c instanceof OpenConnection) return `Open(${name(c.conn)})`;
  return c.toString();
}

describe("HttpStream's direct path yields what its generators yield", () => {
  for (const [hearing, options] of Object.entries(HEARINGS)) {
    for (const [what, steps] of Object.entries(CONVERSATIONS)) {
      test(`${what}, ${hearing}`, () => {
        fc.assert(
          fc.property(fc.array(fc.nat(64), { minLength: 1, maxLength: 8 }), (cuts) => {
            const generators = converse(options, steps, cuts, false);
            const direct = converse(options, steps, cuts, true);
            assert.deepEqual(direct, generators);
            // The conversation got somewhere: the client was answered or told of a failure.
            assert.ok(generators.some((c) => c.startsWith("SendData(client")));
          }),
          { numRuns: 40 },
        );
      });
    }
  }
});

// ---- any conversation: no exception, the client hears back, both paths agree ----

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"];

/**
 * A request in absolute form, HTTP/1.1 or 1.0, maybe asking to close, with no body, a
 * Content-Length one or a chunked one (with trailers, maybe).
 */
const requestText = fc.record({
  method: fc.constantFrom(...METHODS),
  version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
  close: fc.boolean(),
  framing: fc.constantFrom("none", "length", "chunked"),
  body: fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
  expect100: fc.boolean(),
  trailers: fc.boolean(),
}).map(({ method, version, close, framing, body, expect100, trailers }) => {
  let head = `${method} http://a.test/p ${version}\r\nHost: a.test\r\n`;
  if (close) head += "Connection: close\r\n";
  if (expect100 && framing !== "none") head += "Expect: 100-continue\r\n";
  if (framing === "length") return `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
  if (framing === "chunked") {
    const chunk = body.length > 0 ? `${body.length.toString(16)}\r\n${body}\r\n` : "";
    const end = trailers ? "0\r\nX-Check: 1\r\n\r\n" : "0\r\n\r\n";
    return `${head}Transfer-Encoding: chunked\r\n\r\n${chunk}${end}`;
  }
  return `${head}\r\n`;
});

/** Requests a client gets wrong: each must get a 4xx saying why (or a closed connection). */
const badRequestText = fc.constantFrom(
  "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
  "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  "HEAD http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: -1\r\n\r\n",
  "HEAD http://a.test/ HTTP/1.1\r\nBad Header\r\n\r\n",
  "GET http://a.test/ HTTP/9.9\r\n\r\n",
  "GET /not-absolute HTTP/1.1\r\nHost: a.test\r\n\r\n",
  "HEAD /not-absolute HTTP/1.1\r\nHost: a.test\r\n\r\n",
  "\x16\x03\x01\x00\x05hello\r\n\r\n",
  "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1, 2\r\n\r\n",
);

/** What the origin does: a response of any framing (after a 100, maybe), or it fails. */
const originSteps = fc.oneof(
  fc.record({
    informational: fc.constantFrom(
      "",
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
    ),
    status: fc.constantFrom(200, 204, 206, 304, 404, 417, 500),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.0"),
    framing: fc.constantFrom("length", "chunked", "close"),
    body: fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
    trailers: fc.boolean(),
  }).map(({ informational, status, version, framing, body, trailers }): Step[] => {
    let text = informational + `${version} ${status} X\r\n`;
    if (framing === "length") text += `Content-Length: ${body.length}\r\n\r\n${body}`;
    else if (framing === "chunked") {
      const chunk = body.length > 0 ? `${body.length.toString(16)}\r\n${body}\r\n` : "";
      const end = trailers ? "0\r\nX-Sum: 9\r\n\r\n" : "0\r\n\r\n";
      text += `Transfer-Encoding: chunked\r\n\r\n${chunk}${end}`;
    } else text += `Connection: close\r\n\r\n${body}`;
    const steps: Step[] = [{ from: "origin", bytes: text }];
    if (framing === "close") steps.push({ from: "origin", close: true });
    return steps;
  }),
  fc.constant<Step[]>([{ from: "origin", close: true }]),
  fc.constant<Step[]>([
    { from: "origin", bytes: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc" },
    {
      from: "origin",
      close: true,
    },
  ]),
  fc.constant<Step[]>([{ from: "origin", bytes: "SPDY/9 nonsense\r\n\r\n" }]),
);

describe("HttpStream in any conversation", () => {
  test("throws nothing, answers the client, and both paths yield the same", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(HEARINGS)),
        fc.array(
          fc.tuple(fc.oneof({ weight: 4, arbitrary: requestText }, badRequestText), originSteps),
          { minLength: 1, maxLength: 3 },
        ),
        fc.array(fc.nat(64), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.constantFrom<HttpMode>(
          { kind: "regular" },
          { kind: "reverse", scheme: "http", host: "b.test", port: 8000 },
          { kind: "upstream", host: "proxy.test", port: 3128 },
        ),
        (hearing, exchanges, cuts, pipelined, mode) => {
          // One exchange after another, or (pipelining) every request before the answers.
          const steps: Step[] = pipelined
            ? [
              ...exchanges.map(([request]) => ({ from: "client" as const, bytes: request })),
              ...exchanges.flatMap(([, origin]) => origin),
            ]
            : exchanges.flatMap(([request, origin]) => [
              { from: "client" as const, bytes: request },
              ...origin,
            ]);
          const generators = converse(HEARINGS[hearing], steps, cuts, false, mode);
          const direct = converse(HEARINGS[hearing], steps, cuts, true, mode);
          assert.deepEqual(direct, generators);
          assert.ok(generators.some((c) => c.startsWith("SendData(client")));
        },
      ),
      { numRuns: 500 },
    );
  });
});
