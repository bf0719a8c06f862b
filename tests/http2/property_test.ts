/**
 * Property tests with fast-check: random frames and header lists survive serialize -> random
 * chunking -> parse unchanged, and random mutations (or plain random bytes) only ever raise the
 * codec's own Http2Error, never a TypeError or RangeError, in the frame reader, the HPACK decoder
 * and a whole connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Frame,
  FrameReader,
  HpackDecoder,
  HpackEncoder,
  Http2Connection,
  Http2Error,
  type Http2Event,
  huffmanDecode,
  huffmanEncode,
  PREFACE,
  serializeFrame,
} from "../../src/http2/mod.ts";
import { concat, hex, splitAt } from "./helpers.ts";

const streamId = fc.integer({ min: 1, max: 0x7fffffff });
const bytes = fc.uint8Array({ maxLength: 200 });
const pad = fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const priority = fc.record({
  dependency: fc.integer({ min: 0, max: 0x7fffffff }),
  exclusive: fc.boolean(),
  weight: fc.integer({ min: 1, max: 256 }),
});

/** Drops undefined optional fields so deepEqual compares like with like. */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    type: fc.constant("data" as const),
    streamId,
    data: bytes,
    endStream: fc.boolean(),
    padLength: pad,
  }),
  fc.record({
    type: fc.constant("headers" as const),
    streamId,
    block: bytes,
    endStream: fc.boolean(),
    endHeaders: fc.boolean(),
    priority: fc.option(priority, { nil: undefined }),
    padLength: pad,
  }),
  fc.record({ type: fc.constant("priority" as const), streamId, priority }),
  fc.record({ type: fc.constant("rst_stream" as const), streamId, code: u32 }),
  fc.record({
    type: fc.constant("settings" as const),
    ack: fc.constant(false),
    settings: fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), u32), { maxLength: 6 }),
  }),
  fc.record({
    type: fc.constant("push_promise" as const),
    streamId,
    promisedStreamId: streamId,
    block: bytes,
    endHeaders: fc.boolean(),
    padLength: pad,
  }),
  fc.record({
    type: fc.constant("ping" as const),
    ack: fc.boolean(),
    data: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant("goaway" as const),
    lastStreamId: fc.integer({ min: 0, max: 0x7fffffff }),
    code: u32,
    debug: bytes,
  }),
  fc.record({
    type: fc.constant("window_update" as const),
    streamId: fc.integer({ min: 0, max: 0x7fffffff }),
    increment: fc.integer({ min: 0, max: 0x7fffffff }),
  }),
  fc.record({
    type: fc.constant("continuation" as const),
    streamId,
    block: bytes,
    endHeaders: fc.boolean(),
  }),
  fc.record({
    type: fc.constant("unknown" as const),
    frameType: fc.integer({ min: 10, max: 255 }),
    streamId: fc.integer({ min: 0, max: 0x7fffffff }),
    flags: fc.integer({ min: 0, max: 255 }),
    payload: bytes,
  }),
).map((f) => clean(f) as Frame);

function norm(f: Frame): string {
  return JSON.stringify(clean(f), (_k, v) => (v instanceof Uint8Array ? hex(v) : v));
}

const cuts = (n: number) => fc.array(fc.integer({ min: 0, max: n }), { maxLength: 8 });

test("frames round-trip under random chunking", () => {
  fc.assert(
    fc.property(
      fc.array(frame, { minLength: 1, maxLength: 6 }).chain((frames) => {
        const wire = concat(...frames.map(serializeFrame));
        return fc.tuple(fc.constant(frames), fc.constant(wire), cuts(wire.length));
      }),
      ([frames, wire, at]) => {
        const reader = new FrameReader();
        const got: Frame[] = [];
        for (const chunk of splitAt(wire, at)) {
          reader.feed(chunk);
          for (let f = reader.next(); f !== null; f = reader.next()) got.push(f);
        }
        assert.deepEqual(got.map(norm), frames.map(norm));
        assert.equal(reader.bufferedLength, 0);
      },
    ),
    { numRuns: 300 },
  );
});

/** Runs `fn`; an exception other than an Http2Error fails the property. */
function onlyOwnErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Http2Error)) throw e;
  }
}

const mutation = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });

test("mutated frames raise only Http2Error", () => {
  fc.assert(
    fc.property(
      fc.array(frame, { minLength: 1, maxLength: 4 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (frames, muts) => {
        const wire = concat(...frames.map(serializeFrame));
        for (const m of muts) wire[m.at % wire.length] = m.value;
        onlyOwnErrors(() => {
          const reader = new FrameReader();
          reader.feed(wire);
          for (let i = 0; i < 100 && reader.next() !== null; i++);
        });
      },
    ),
    { numRuns: 500 },
  );
});

const fieldName = fc.string({
  unit: fc.constantFrom(..."abcdefxyz-0123"),
  minLength: 1,
  maxLength: 12,
});
const fieldValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
const headerList = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 10 });

test("header lists round-trip through HPACK, block after block, in all Huffman modes", () => {
  fc.assert(
    fc.property(
      fc.array(headerList, { minLength: 1, maxLength: 6 }),
      fc.constantFrom("auto", "always", "never") as fc.Arbitrary<"auto" | "always" | "never">,
      fc.integer({ min: 0, max: 4096 }),
      (lists, huffman, tableSize) => {
        const enc = new HpackEncoder({ huffman, maxTableSize: tableSize });
        const dec = new HpackDecoder();
        for (const list of lists) {
          const got = dec.decode(enc.encode(list)).map(([n, v]) => [n, v]);
          assert.deepEqual(got, list);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("Huffman round-trips any bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      assert.deepEqual(huffmanDecode(huffmanEncode(data)), data);
    }),
    { numRuns: 500 },
  );
});

test("mutated and random header blocks raise only Http2Error", () => {
  fc.assert(
    fc.property(
      headerList,
      fc.array(mutation, { maxLength: 4 }),
      fc.uint8Array({ maxLength: 64 }),
      (list, muts, random) => {
        const block = new HpackEncoder().encode(list);
        for (const m of muts) if (block.length > 0) block[m.at % block.length] = m.value;
        onlyOwnErrors(() => new HpackDecoder().decode(block));
        onlyOwnErrors(() => new HpackDecoder().decode(random));
        onlyOwnErrors(() => huffmanDecode(random));
      },
    ),
    { numRuns: 1000 },
  );
});

test("a server connection fed mutated client traffic never throws", () => {
  fc.assert(
    fc.property(
      fc.array(frame, { maxLength: 8 }),
      fc.array(mutation, { maxLength: 3 }),
      cuts(400),
      (frames, muts, at) => {
        const client = new Http2Connection({ role: "client" });
        client.request([[":method", "GET"], [":scheme", "http"], [":path", "/"], [
          ":authority",
          "a",
        ]], false);
        const wire = concat(client.dataToSend(), ...frames.map(serializeFrame));
        for (const m of muts) {
          const i = PREFACE.length + (m.at % Math.max(1, wire.length - PREFACE.length));
          if (i < wire.length) wire[i] = m.value;
        }
        const server = new Http2Connection({ role: "server" });
        for (const chunk of splitAt(wire, at)) {
          server.receive(chunk); // must not throw: peer errors become events and GOAWAY/RST
          server.dataToSend();
        }
      },
    ),
    { numRuns: 500 },
  );
});

// ---- whole conversations ----

interface Exchange {
  requestBody: number;
  responseBody: number;
  requestTrailers: boolean;
  responseTrailers: boolean;
}

const exchange: fc.Arbitrary<Exchange> = fc.record({
  requestBody: fc.integer({ min: 0, max: 150_000 }),
  responseBody: fc.integer({ min: 0, max: 150_000 }),
  requestTrailers: fc.boolean(),
  responseTrailers: fc.boolean(),
});

/** Sum of (byte * position) mod 2^31: a cheap checksum that sees order and content. */
function checksum(sum: number, offset: number, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) sum = (sum + data[i] * (offset + i + 1)) % 2147483647;
  return sum;
}

function bodyOf(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

interface Received {
  length: number;
  sum: number;
  ended: boolean;
  trailers: boolean;
}

/**
 * Client and server connections exchange requests and responses with bodies and trailers; bytes
 * move in chunks of `maxChunk`, and each side acknowledges at most `ackStep` bytes per stream and
 * round, so windows close and reopen many times. Returns what each side received per stream.
 */
function converse(exchanges: Exchange[], maxChunk: number, ackStep: number, frameSize: number) {
  const client = new Http2Connection({
    role: "client",
    settings: { maxFrameSize: frameSize, initialWindowSize: 65535 },
    connectionWindowSize: 65535,
  });
  const server = new Http2Connection({ role: "server", settings: { maxFrameSize: frameSize } });
  const ids = exchanges.map((ex, i) => {
    const id = client.request(
      [[":method", "POST"], [":scheme", "http"], [":path", `/${i}`], [":authority", "a"]],
      ex.requestBody === 0 && !ex.requestTrailers,
    );
    if (ex.requestBody > 0) client.sendData(id, bodyOf(ex.requestBody, i), !ex.requestTrailers);
    if (ex.requestTrailers) client.sendTrailers(id, [["x-req", String(i)]]);
    return id;
  });
  const seen = new Map<string, Received>();
  const owed = new Map<Http2Connection, Map<number, number>>([
    [client, new Map()],
    [server, new Map()],
  ]);
  const entry = (key: string) => {
    let r = seen.get(key);
    if (r === undefined) seen.set(key, r = { length: 0, sum: 0, ended: false, trailers: false });
    return r;
  };
  const respond = (id: number) => {
    const i = ids.indexOf(id);
    const ex = exchanges[i];
    server.sendHeaders(id, [[":status", "200"]], ex.responseBody === 0 && !ex.responseTrailers);
    if (ex.responseBody > 0) {
      server.sendData(id, bodyOf(ex.responseBody, 100 + i), !ex.responseTrailers);
    }
    if (ex.responseTrailers) server.sendTrailers(id, [["x-res", String(i)]]);
  };
  const onEvent = (side: "client" | "server", conn: Http2Connection, ev: Http2Event) => {
    if (ev.type === "connectionError" || ev.type === "reset") {
      throw new Error(`${side}: ${JSON.stringify(ev)}`);
    }
    if (!("streamId" in ev) || ev.type === "drained") return;
    const r = entry(`${side}:${ev.streamId}`);
    if (ev.type === "data") {
      r.sum = checksum(r.sum, r.length, ev.data);
      r.length += ev.data.length;
      const o = owed.get(conn)!;
      o.set(ev.streamId, (o.get(ev.streamId) ?? 0) + ev.data.length);
    }
    if (ev.type === "trailers") r.trailers = true;
    const ends = ev.type === "trailers" || ("endStream" in ev && ev.endStream);
    if (ends) {
      r.ended = true;
      if (side === "server") respond(ev.streamId);
    }
  };
  const ack = (conn: Http2Connection) => {
    for (const [id, n] of owed.get(conn)!) {
      const step = Math.min(n, ackStep);
      if (step > 0) conn.acknowledgeData(id, step);
      owed.get(conn)!.set(id, n - step);
    }
  };
  const owes = () => [...owed.values()].some((m) => [...m.values()].some((n) => n > 0));
  for (let round = 0;; round++) {
    if (round > 200_000) throw new Error("the conversation did not finish");
    const c = client.dataToSend();
    const s = server.dataToSend();
    if (c.length === 0 && s.length === 0 && !owes()) break;
    for (let o = 0; o < c.length; o += maxChunk) {
      for (const ev of server.receive(c.subarray(o, o + maxChunk))) onEvent("server", server, ev);
    }
    for (let o = 0; o < s.length; o += maxChunk) {
      for (const ev of client.receive(s.subarray(o, o + maxChunk))) onEvent("client", client, ev);
    }
    ack(client);
    ack(server);
  }
  return { ids, seen, client, server };
}

test("random conversations arrive intact under random chunking and acknowledgement", {
  timeout: 120_000,
}, () => {
  fc.assert(
    fc.property(
      fc.array(exchange, { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1000, max: 40_000 }),
      fc.integer({ min: 1000, max: 200_000 }),
      fc.integer({ min: 16384, max: 100_000 }),
      (exchanges, maxChunk, ackStep, frameSize) => {
        const { ids, seen, client, server } = converse(exchanges, maxChunk, ackStep, frameSize);
        exchanges.forEach((ex, i) => {
          const req = seen.get(`server:${ids[i]}`)!;
          const res = seen.get(`client:${ids[i]}`)!;
          const want = (n: number, seed: number) => checksum(0, 0, bodyOf(n, seed));
          assert.deepEqual(
            [req.length, req.sum, req.ended, req.trailers],
            [ex.requestBody, want(ex.requestBody, i), true, ex.requestTrailers],
          );
          assert.deepEqual(
            [res.length, res.sum, res.ended, res.trailers],
            [ex.responseBody, want(ex.responseBody, 100 + i), true, ex.responseTrailers],
          );
        });
        assert.equal(client.activeStreams, 0);
        assert.equal(server.activeStreams, 0);
      },
    ),
    { numRuns: 30 },
  );
});

/** Frames on a few stream ids, some with valid header blocks: deeper into the state machine. */
const nearFrame: fc.Arbitrary<Frame> = fc.oneof(
  frame.map((f) => ("streamId" in f ? { ...f, streamId: f.streamId % 8 } as Frame : f)),
  fc.record({
    type: fc.constant("headers" as const),
    streamId: fc.integer({ min: 0, max: 9 }),
    block: fc.constantFrom(...[
      [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "a"]],
      [[":method", "POST"], [":scheme", "https"], [":path", "/x"], ["content-length", "3"]],
      [["x-trailer", "1"]],
    ].map((list) => new HpackEncoder({ huffman: "never" }).encode(list as [string, string][]))),
    endStream: fc.boolean(),
    endHeaders: fc.boolean(),
  }),
  fc.record({
    type: fc.constant("data" as const),
    streamId: fc.integer({ min: 0, max: 9 }),
    data: fc.uint8Array({ maxLength: 70000 }),
    endStream: fc.boolean(),
  }),
);

test("a server connection fed random frames on a few streams never throws", () => {
  fc.assert(
    fc.property(fc.array(nearFrame, { maxLength: 25 }), (frames) => {
      const server = new Http2Connection({ role: "server", settings: { maxFrameSize: 100000 } });
      const settings = serializeFrame({ type: "settings", ack: false, settings: [] });
      const events: Http2Event[] = [...server.receive(concat(PREFACE, settings))];
      for (const f of frames) {
        events.push(...server.receive(serializeFrame(f)));
        if (events.some((e) => e.type === "connectionError")) break;
      }
      const out = server.dataToSend();
      if (events.some((e) => e.type === "connectionError")) {
        // The last frame sent is the GOAWAY (type 7).
        const reader = new FrameReader();
        reader.maxFrameSize = 1 << 24;
        reader.feed(out);
        let last: Frame | null = null;
        for (let f = reader.next(); f !== null; f = reader.next()) last = f;
        assert.equal(last?.type, "goaway");
      }
    }),
    { numRuns: 1000 },
  );
});
