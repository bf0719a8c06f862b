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
