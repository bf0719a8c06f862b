/**
 * Frames (RFC 9113 sections 4 and 6): every type parsed and serialized, fed whole, byte by byte
 * and followed by the start of another frame, plus the size and layout errors h2spec checks
 * (sections 4.2, 6.x).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ErrorCode,
  type Frame,
  FrameReader,
  Http2ConnectionError,
  Http2Error,
  Http2StreamError,
  serializeFrame,
} from "../../src/http2/mod.ts";
import { b, byteByByte, concat, hex, unhex } from "./helpers.ts";

/** Plain objects with hex payloads, for deepEqual. */
function norm(f: Frame): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) out[k] = v instanceof Uint8Array ? hex(v) : v;
  return out;
}

function readAll(
  chunks: Iterable<Uint8Array>,
  max?: number,
): { frames: Frame[]; reader: FrameReader } {
  const reader = new FrameReader();
  if (max !== undefined) reader.maxFrameSize = max;
  const frames: Frame[] = [];
  for (const c of chunks) {
    reader.feed(c);
    for (let f = reader.next(); f !== null; f = reader.next()) frames.push(f);
  }
  return { frames, reader };
}

/** The start of another frame (a header only): must stay buffered. */
const NEXT = unhex("000004080000000000");

function checkIO(bytes: Uint8Array, expected: Frame[]): void {
  const want = expected.map(norm);
  assert.deepEqual(readAll([bytes]).frames.map(norm), want, "whole");
  assert.deepEqual(readAll(byteByByte(bytes)).frames.map(norm), want, "byte by byte");
  const t = readAll([concat(bytes, NEXT)]);
  assert.deepEqual(t.frames.map(norm), want, "with trailing bytes");
  assert.equal(t.reader.bufferedLength, NEXT.length, "trailing bytes kept");
  const tb = readAll(byteByByte(concat(bytes, NEXT)));
  assert.deepEqual(tb.frames.map(norm), want, "trailing, byte by byte");
}

const SAMPLES: [string, Frame, string][] = [
  [
    "DATA",
    { type: "data", streamId: 1, data: b("hello"), endStream: true },
    "000005000100000001" + "68656c6c6f",
  ],
  [
    "DATA, padded",
    { type: "data", streamId: 3, data: b("hi"), endStream: false, padLength: 3 },
    "000006000800000003" + "03" + "6869" + "000000",
  ],
  [
    "HEADERS with priority and padding",
    {
      type: "headers",
      streamId: 1,
      block: unhex("8286"),
      endStream: true,
      endHeaders: true,
      priority: { dependency: 3, exclusive: true, weight: 16 },
      padLength: 2,
    },
    "00000a012d00000001" + "02" + "800000030f" + "8286" + "0000",
  ],
  ["HEADERS", {
    type: "headers",
    streamId: 5,
    block: unhex("82"),
    endStream: false,
    endHeaders: false,
  }, "000001010000000005" + "82"],
  [
    "PRIORITY",
    { type: "priority", streamId: 7, priority: { dependency: 1, exclusive: false, weight: 256 } },
    "000005020000000007" + "00000001ff",
  ],
  [
    "RST_STREAM",
    { type: "rst_stream", streamId: 1, code: ErrorCode.CANCEL },
    "000004030000000001" + "00000008",
  ],
  [
    "SETTINGS",
    { type: "settings", ack: false, settings: [[3, 100], [4, 65536]] },
    "00000c040000000000" + "000300000064" + "000400010000",
  ],
  ["SETTINGS ACK", { type: "settings", ack: true, settings: [] }, "000000040100000000"],
  [
    "PUSH_PROMISE",
    {
      type: "push_promise",
      streamId: 1,
      promisedStreamId: 2,
      block: unhex("82"),
      endHeaders: true,
    },
    "000005050400000001" + "00000002" + "82",
  ],
  [
    "PING",
    { type: "ping", ack: false, data: b("12345678") },
    "000008060000000000" + "3132333435363738",
  ],
  [
    "PING ACK",
    { type: "ping", ack: true, data: b("12345678") },
    "000008060100000000" + "3132333435363738",
  ],
  [
    "GOAWAY",
    { type: "goaway", lastStreamId: 5, code: 0, debug: b("bye") },
    "00000b070000000000" + "0000000500000000" + "627965",
  ],
  [
    "WINDOW_UPDATE",
    { type: "window_update", streamId: 0, increment: 65536 },
    "000004080000000000" + "00010000",
  ],
  [
    "CONTINUATION",
    { type: "continuation", streamId: 1, block: unhex("84"), endHeaders: true },
    "000001090400000001" + "84",
  ],
  [
    "unknown type",
    { type: "unknown", frameType: 0xfa, streamId: 9, flags: 0xff, payload: b("x") },
    "000001faff00000009" + "78",
  ],
];

describe("frames: serialize and parse every type", () => {
  for (const [name, frame, bytes] of SAMPLES) {
    test(name, () => {
      assert.equal(hex(serializeFrame(frame)), bytes, "serialized");
      checkIO(unhex(bytes), [frame]);
    });
  }
  test("all of them back to back", () => {
    const all = concat(...SAMPLES.map(([, , h]) => unhex(h)));
    checkIO(all, SAMPLES.map(([, f]) => f));
  });
  test("the reserved bit of the stream id is ignored (4.1)", () => {
    const { frames } = readAll([unhex("000000040080000000")]);
    assert.deepEqual(frames.map(norm), [{ type: "settings", ack: false, settings: [] }]);
  });
  test("unknown flags are ignored (4.1)", () => {
    const { frames } = readAll([unhex("000008060200000000" + "0000000000000000")]);
    assert.equal(frames[0].type, "ping");
    assert.equal((frames[0] as { ack: boolean }).ack, false);
  });
});

function errorOf(bytes: Uint8Array, max?: number): Http2Error {
  for (const chunks of [[bytes], byteByByte(bytes)]) {
    try {
      readAll(chunks, max);
    } catch (e) {
      if (!(e instanceof Http2Error)) throw e;
      continue;
    }
    assert.fail("no error");
  }
  try {
    readAll([bytes], max);
  } catch (e) {
    return e as Http2Error;
  }
  throw new Error("unreachable");
}

function connError(bytes: string, code: number, re: RegExp, max?: number): void {
  const e = errorOf(unhex(bytes), max);
  assert.ok(e instanceof Http2ConnectionError, `connection error, got ${e.name}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
}

describe("frame errors (h2spec 4.2, 6.x)", () => {
  test("a frame above SETTINGS_MAX_FRAME_SIZE fails at its header, before the payload", () => {
    const reader = new FrameReader();
    reader.feed(unhex("004001000100000001")); // 16385-byte DATA: only the header arrived
    assert.throws(() => reader.next(), (e: unknown) => {
      assert.ok(e instanceof Http2ConnectionError);
      assert.equal(e.code, ErrorCode.FRAME_SIZE_ERROR);
      return true;
    });
  });
  test("a larger SETTINGS_MAX_FRAME_SIZE admits larger frames", () => {
    const payload = new Uint8Array(20000);
    const frame = serializeFrame({ type: "data", streamId: 1, data: payload, endStream: false });
    assert.equal(readAll([frame], 32768).frames.length, 1);
    connError(hex(frame), ErrorCode.FRAME_SIZE_ERROR, /exceeds SETTINGS_MAX_FRAME_SIZE 16384/);
  });
  test("DATA on stream 0", () =>
    connError("000000000000000000", ErrorCode.PROTOCOL_ERROR, /stream 0/));
  test("HEADERS on stream 0", () =>
    connError("000001010400000000" + "82", ErrorCode.PROTOCOL_ERROR, /stream 0/));
  test("padding as long as the payload", () => {
    connError("000003000800000001" + "03" + "6869", ErrorCode.PROTOCOL_ERROR, /padding/);
  });
  test("padded frame without its pad length", () => {
    connError("000000000800000001", ErrorCode.FRAME_SIZE_ERROR, /no pad length/);
  });
  test("HEADERS too short for its priority", () => {
    connError("000003012400000001" + "000000", ErrorCode.FRAME_SIZE_ERROR, /priority/);
  });
  test("PRIORITY of the wrong length is a stream error (6.3)", () => {
    const e = errorOf(unhex("000004020000000001" + "00000000"));
    assert.ok(e instanceof Http2StreamError);
    assert.equal(e.code, ErrorCode.FRAME_SIZE_ERROR);
  });
  test("PRIORITY on stream 0", () =>
    connError("000005020000000000" + "0000000110", ErrorCode.PROTOCOL_ERROR, /stream 0/));
  test("RST_STREAM of the wrong length", () =>
    connError("000003030000000001" + "000000", ErrorCode.FRAME_SIZE_ERROR, /not 4/));
  test("RST_STREAM on stream 0", () =>
    connError("000004030000000000" + "00000008", ErrorCode.PROTOCOL_ERROR, /stream 0/));
  test("SETTINGS on a stream", () =>
    connError("000000040000000001", ErrorCode.PROTOCOL_ERROR, /not 0/));
  test("SETTINGS ACK with a payload", () =>
    connError("000006040100000000" + "000300000064", ErrorCode.FRAME_SIZE_ERROR, /payload/));
  test("SETTINGS not a multiple of 6", () =>
    connError("000003040000000000" + "000300", ErrorCode.FRAME_SIZE_ERROR, /multiple of 6/));
  test("PING of the wrong length", () =>
    connError("000006060000000000" + "000000000000", ErrorCode.FRAME_SIZE_ERROR, /not 8/));
  test("PING on a stream", () =>
    connError("000008060000000001" + "0000000000000000", ErrorCode.PROTOCOL_ERROR, /not 0/));
  test("GOAWAY on a stream", () =>
    connError("000008070000000001" + "0000000000000000", ErrorCode.PROTOCOL_ERROR, /not 0/));
  test("GOAWAY too short", () =>
    connError("000004070000000000" + "00000000", ErrorCode.FRAME_SIZE_ERROR, /GOAWAY/));
  test("WINDOW_UPDATE of the wrong length", () =>
    connError("000003080000000000" + "000001", ErrorCode.FRAME_SIZE_ERROR, /not 4/));
  test("CONTINUATION on stream 0", () =>
    connError("000001090400000000" + "82", ErrorCode.PROTOCOL_ERROR, /stream 0/));
  test("messages are one line", () => {
    const e = errorOf(unhex("000003030000000001" + "000000"));
    assert.doesNotMatch(e.message, /[\r\n]/);
  });
});

describe("frame payloads: views, copies only of split frames", () => {
  const data = (n: number, fill: number) =>
    serializeFrame({
      type: "data",
      streamId: 1,
      data: new Uint8Array(n).fill(fill),
      endStream: false,
    });

  test("a frame split across reads is copied alone; the frames after it stay views", () => {
    // A bulk transfer splits a frame at nearly every read: copying the whole next read along with
    // the split frame would allocate every byte of the stream twice.
    const [first, second, third] = [data(1000, 1), data(1000, 2), data(1000, 3)];
    const all = concat(first, second, third);
    const cut = first.length + 500; // inside the second frame
    const a = all.slice(0, cut);
    const rest = all.slice(cut);
    const reader = new FrameReader();
    const frames: Frame[] = [];
    for (const chunk of [a, rest]) {
      reader.feed(chunk);
      for (let f = reader.next(); f !== null; f = reader.next()) frames.push(f);
    }
    const payloads = frames.map((f) => (f as Frame & { type: "data" }).data);
    assert.deepEqual(payloads.map((p) => [p.length, p[0], p[999]]), [
      [1000, 1, 1],
      [1000, 2, 2],
      [1000, 3, 3],
    ]);
    assert.equal(payloads[0].buffer, a.buffer, "a whole frame of a read is a view of it");
    assert.notEqual(payloads[1].buffer, a.buffer);
    assert.notEqual(payloads[1].buffer, rest.buffer);
    assert.equal(payloads[1].buffer.byteLength, 1009, "the split frame is copied alone");
    assert.equal(payloads[2].buffer, rest.buffer, "the frame after the split one is a view");
    assert.equal(reader.bufferedLength, 0);
  });

  test("a frame header split across three reads, its payload in a fourth", () => {
    const frame = data(300, 7);
    const chunks = [frame.slice(0, 2), frame.slice(2, 5), frame.slice(5, 9), frame.slice(9)];
    const reader = new FrameReader();
    const got: Frame[] = [];
    for (const c of chunks) {
      reader.feed(c);
      for (let f = reader.next(); f !== null; f = reader.next()) got.push(f);
    }
    assert.equal(got.length, 1);
    assert.deepEqual(
      norm(got[0]),
      norm({
        type: "data",
        streamId: 1,
        data: new Uint8Array(300).fill(7),
        endStream: false,
      }),
    );
    assert.equal(reader.bufferedLength, 0);
  });
});
