/**
 * Flow packets (src/store/flow_packet.ts): a flow copied into a batch as a packet and made again on
 * the writer's thread gives the same rows as the flow itself, for flows of every shape
 * (fast-check); flows a packet cannot carry go as rows.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Flow,
  FlowRequest,
  FlowResponse,
  type ServerPeer,
  type TlsInfo,
} from "../../src/flow/flow.ts";
import { WebSocketData } from "../../src/flow/websocket.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { decodeRowBatch, RowBatchEncoder } from "../../src/store/row_batch.ts";
import { flowToRows } from "../../src/store/rows.ts";
import { makeFlow } from "./helpers.ts";

const CHUNK = 64;

/** Text with ASCII, Latin-1, other scripts, emoji, line breaks and colons (no lone surrogates). */
const text = fc.string({
  unit: fc.constantFrom("a", "Z", "0", " ", ":", "\n", "\r", "é", "ÿ", "日", "😀", "\u0000"),
  maxLength: 12,
});
const name = fc.string({
  unit: fc.constantFrom("a", "X", "-", "é", ":"),
  minLength: 1,
  maxLength: 8,
});
const fields = fc.array(fc.tuple(name, text), { maxLength: 5 }).map((pairs) =>
  new HeaderList(pairs.flat())
);
const stamp = fc.double({ min: 1e12, max: 2e12, noNaN: true });
const body = fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null });
const tls = fc.option(
  fc.record({
    sni: fc.option(text, { nil: null }),
    alpn: fc.option(fc.constantFrom("h2", "http/1.1"), { nil: null }),
    version: fc.option(fc.constantFrom("TLSv1.3", "TLSv1.2"), { nil: null }),
    cipher: fc.option(text, { nil: undefined }),
  }, { requiredKeys: ["sni", "alpn", "version"] }),
  { nil: null },
) as fc.Arbitrary<TlsInfo | null>;

const message = fc.record({
  httpVersion: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0"),
  headers: fields,
  trailers: fc.option(fields, { nil: null }),
  body,
  bodySize: fc.nat(),
  streamed: fc.boolean(),
  timestampStart: stamp,
  timestampEnd: fc.option(stamp, { nil: null }),
});

const server = fc.option(
  fc.record({
    address: text,
    port: fc.nat(65535),
    tls,
    timestampDnsStart: fc.option(stamp, { nil: undefined }),
    timestampDnsEnd: fc.option(stamp, { nil: undefined }),
    timestampTcpStart: fc.option(stamp, { nil: undefined }),
    timestampTcpEnd: fc.option(stamp, { nil: undefined }),
    timestampTlsStart: fc.option(stamp, { nil: undefined }),
    timestampTlsEnd: fc.option(stamp, { nil: undefined }),
    reused: fc.option(fc.boolean(), { nil: undefined }),
  }, { requiredKeys: ["address", "port", "tls"] }),
  { nil: null },
) as fc.Arbitrary<ServerPeer | null>;

const flowArb = fc.record({
  method: fc.constantFrom("GET", "POST", "CONNECT", "PATCH"),
  scheme: fc.constantFrom("http" as const, "https" as const),
  host: text,
  port: fc.nat(65535),
  path: text,
  request: message,
  response: fc.option(
    fc.record({ status: fc.integer({ min: 100, max: 599 }), reason: text, message }),
    { nil: null },
  ),
  client: fc.record({ address: text, port: fc.nat(65535), tls }),
  server,
  error: fc.option(fc.record({ message: text, timestamp: stamp }), { nil: null }),
  marked: fc.boolean(),
  isReplay: fc.boolean(),
  comment: text,
}).map((f) => {
  const m = f.request;
  const request = new FlowRequest({ ...f, ...m });
  Object.assign(request, {
    trailers: m.trailers,
    body: m.body,
    bodySize: m.bodySize,
    streamed: m.streamed,
    timestampEnd: m.timestampEnd,
  });
  const flow = new Flow(f.client, request);
  if (f.response !== null) {
    const r = f.response.message;
    const response = new FlowResponse({ ...f.response, ...r });
    Object.assign(response, {
      trailers: r.trailers,
      body: r.body,
      bodySize: r.bodySize,
      streamed: r.streamed,
      timestampEnd: r.timestampEnd,
    });
    flow.response = response;
  }
  flow.server = f.server;
  flow.error = f.error;
  flow.marked = f.marked;
  flow.isReplay = f.isReplay;
  flow.comment = f.comment;
  return flow;
});

function throughBatch(flows: Flow[]) {
  const encoder = new RowBatchEncoder(32); // small: it has to grow
  flows.forEach((flow, i) => encoder.addFlow(i + 1, i % 2 === 1, flow, CHUNK));
  const { buffer, length } = encoder.take();
  return [...decodeRowBatch(new Uint8Array(buffer, 0, length))];
}

test("a flow sent as a packet gives the rows the flow itself gives", () => {
  fc.assert(
    fc.property(fc.array(flowArb, { minLength: 1, maxLength: 4 }), (flows) => {
      const back = throughBatch(flows);
      assert.equal(back.length, flows.length);
      back.forEach((record, i) => {
        assert.equal(record.seq, i + 1);
        assert.equal(record.written, i % 2 === 1);
        assert.ok(record.flow, "sent as a packet");
        assert.deepEqual(flowToRows(record.flow, CHUNK), flowToRows(flows[i], CHUNK));
      });
    }),
    { numRuns: 300 },
  );
});

test("flows with WebSocket messages or addon metadata go as rows", () => {
  const ws = makeFlow(1);
  ws.websocket = new WebSocketData();
  const meta = makeFlow(2);
  meta.metadata = { note: "kept", when: [1, 2] };
  const plain = makeFlow(3);
  const back = throughBatch([ws, meta, plain]);
  assert.deepEqual(back[0].rows, flowToRows(ws, CHUNK));
  assert.deepEqual(back[1].rows, flowToRows(meta, CHUNK));
  assert.equal(back[0].flow, undefined);
  assert.ok(back[2].flow);
  assert.deepEqual(flowToRows(back[2].flow, CHUNK), flowToRows(plain, CHUNK));
});

test("a packet holds no part of its flow once added", () => {
  const encoder = new RowBatchEncoder();
  const flow = makeFlow(4, { body: "y".repeat(500) });
  encoder.addFlow(1, false, flow, CHUNK);
  // Changed afterwards: the batch has the flow as it was when added.
  flow.response!.body = new TextEncoder().encode("changed");
  flow.request.headers.set("X-Late", "1");
  const { buffer, length } = encoder.take();
  const [record] = [...decodeRowBatch(new Uint8Array(buffer, 0, length))];
  assert.equal(new TextDecoder().decode(record.flow!.response!.body!), "y".repeat(500));
  assert.equal(record.flow!.request.headers.has("x-late"), false);
});
