import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FrameParser } from "../../src/websocket/frame_parser.ts";
import { WebSocketProtocolError } from "../../src/websocket/close.ts";
import { encodeFrame, Opcode } from "../../src/websocket/frame.ts";
import { chunkings, concat, DEFLATE, hex, parseAll, randomBytes, RFC, text } from "./helpers.ts";

const fromServer = () => new FrameParser({ masked: false });
const fromClient = () => new FrameParser({ masked: true });

test("parses RFC 6455 5.7's frames whole, byte by byte and in random pieces", () => {
  const stream = concat(RFC.unmaskedHello, RFC.fragmentedHel, RFC.unmaskedPing, RFC.fragmentedLo);
  for (const [how, chunks] of chunkings(stream)) {
    const frames = parseAll(fromServer(), chunks);
    assert.deepEqual(
      frames.map((f) => [f.fin, f.opcode, text(f.payload)]),
      [[true, 1, "Hello"], [false, 1, "Hel"], [true, 9, "Hello"], [true, 0, "lo"]],
      how,
    );
    // raw is exactly the bytes each frame arrived as
    assert.deepEqual(concat(...frames.map((f) => f.raw)), stream, how);
  }
});

test("unmasks a masked frame, keeps its key, and keeps raw still masked", () => {
  for (const [how, chunks] of chunkings(concat(RFC.maskedHello, RFC.maskedPong))) {
    const [a, b] = parseAll(fromClient(), chunks);
    assert.equal(text(a.payload), "Hello", how);
    assert.deepEqual(a.mask, hex("37fa213d"));
    assert.deepEqual(a.raw, RFC.maskedHello);
    assert.equal(b.opcode, Opcode.Pong);
    assert.equal(text(b.payload), "Hello");
  }
});

test("reads 16-bit and 64-bit lengths (256 bytes and 64 KiB, RFC 5.7) in pieces", () => {
  for (const n of [0, 125, 126, 256, 65535, 65536, 200_000]) {
    const payload = randomBytes(n);
    const masked = encodeFrame({ opcode: Opcode.Binary, payload, mask: hex("01020304") });
    for (const [how, chunks] of chunkings(masked, n)) {
      if (how === "byte by byte" && n > 70_000) continue;
      const frames = parseAll(fromClient(), chunks);
      assert.equal(frames.length, 1, `${n} ${how}`);
      assert.deepEqual(frames[0].payload, payload, `${n} ${how}`);
    }
  }
});

test("a frame that ends a chunk with an empty payload completes at once; nothing past it is used", () => {
  const p = fromServer();
  assert.deepEqual(p.push(hex("89")), []);
  const [ping] = p.push(hex("00"));
  assert.equal(ping.opcode, Opcode.Ping);
  assert.equal(ping.payload.length, 0);
  assert.ok(p.idle);
  assert.deepEqual(p.push(hex("81 02 68")), []);
  assert.ok(!p.idle);
});

function rejects(bytes: Uint8Array, code: number, pattern: RegExp, parser = fromServer()) {
  assert.throws(() => parser.push(bytes), (e: unknown) => {
    assert.ok(e instanceof WebSocketProtocolError);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
  // and stays failed
  assert.throws(() => parser.push(new Uint8Array(1)), WebSocketProtocolError);
}

test("protocol errors fail with 1002: reserved bits, opcodes, control frame rules, masking", () => {
  rejects(hex("c1 00"), 1002, /RSV1 set without/);
  rejects(hex("a1 00"), 1002, /RSV2\/RSV3/);
  rejects(hex("91 00"), 1002, /RSV2\/RSV3/);
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    rejects(Uint8Array.of(0x80 | op, 0), 1002, /reserved opcode/);
  }
  rejects(hex("09 00"), 1002, /fragmented control frame/);
  rejects(hex("89 7e 00 7e"), 1002, /over 125 bytes/);
  rejects(hex("88 7e"), 1002, /over 125 bytes/);
  rejects(RFC.unmaskedHello, 1002, /unmasked frame from the client/, fromClient());
  rejects(RFC.maskedHello, 1002, /masked frame from the server/, fromServer());
  rejects(hex("82 7f 80 00 00 00 00 00 00 00"), 1002, /top bit/);
});

test("RSV1 is allowed only on data frames' first frame when deflate was negotiated", () => {
  const deflate = () => new FrameParser({ masked: false, allowRsv1: true });
  assert.equal(deflate().push(DEFLATE.hello)[0].rsv1, true);
  rejects(hex("c9 00"), 1002, /RSV1 set on an opcode 0x9/, deflate());
  rejects(hex("c0 00"), 1002, /RSV1 set on an opcode 0x0/, deflate());
});

test("a frame over maxPayload fails with 1009 from its header, before any payload", () => {
  const p = new FrameParser({ masked: null, maxPayload: 1000 });
  rejects(hex("82 7e 03 e9"), 1009, /1001 bytes is over the limit of 1000/, p);
  // a 2^62-byte length is refused without allocating
  rejects(hex("82 7f 40 00 00 00 00 00 00 00"), 1009, /over the limit/);
  assert.equal(
    new FrameParser({ masked: null, maxPayload: 1000 }).push(
      encodeFrame({ opcode: Opcode.Binary, payload: new Uint8Array(1000), mask: null }),
    ).length,
    1,
  );
});

test("masked: null accepts both", () => {
  const p = new FrameParser({ masked: null });
  assert.equal(p.push(concat(RFC.maskedHello, RFC.unmaskedHello)).length, 2);
});

test("frames before a violation in the same chunk are returned; the next push throws", () => {
  const p = fromClient();
  const frames = p.push(concat(RFC.maskedHello, RFC.unmaskedHello));
  assert.equal(frames.length, 1);
  assert.equal(p.failed?.code, 1002);
  assert.throws(() => p.push(RFC.maskedHello), /unmasked frame from the client/);
});

test("any frames and garbage, in any pieces: the same frames, then the same violation (fast-check)", () => {
  const frame = fc.record({
    fin: fc.boolean(),
    opcode: fc.constantFrom(Opcode.Text, Opcode.Binary, Opcode.Continuation, Opcode.Ping),
    payload: fc.uint8Array({ maxLength: 300 }),
    masked: fc.boolean(),
  }).map(({ fin, opcode, payload, masked }) =>
    encodeFrame({
      // Control frames are never fragmented and carry at most 125 bytes (5.5).
      fin: opcode === Opcode.Ping || fin,
      opcode,
      payload: opcode === Opcode.Ping ? payload.subarray(0, 125) : payload,
      mask: masked ? Uint8Array.of(1, 2, 3, 4) : null,
    })
  );
  /** Frames until the first violation, and its close code (0: none). */
  const outcome = (chunks: Uint8Array[], masked: boolean | null) => {
    const parser = new FrameParser({ masked, maxPayload: 200 });
    const frames: string[] = [];
    try {
      for (const c of chunks) {
        for (const f of parser.push(c)) frames.push(`${f.opcode} ${f.fin} ${f.payload.join(",")}`);
      }
    } catch (e) {
      assert.ok(e instanceof WebSocketProtocolError, String(e));
      return { frames, code: e.code };
    }
    return { frames, code: parser.failed?.code ?? 0 };
  };
  fc.assert(
    fc.property(
      fc.array(frame, { maxLength: 5 }),
      fc.uint8Array({ maxLength: 16 }),
      fc.constantFrom<boolean | null>(true, false, null),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
      (frames, garbage, masked, sizes) => {
        const stream = concat(...frames, garbage);
        const pieces: Uint8Array[] = [];
        for (let at = 0, i = 0; at < stream.length; i++) {
          const size = sizes[i % sizes.length];
          pieces.push(stream.subarray(at, at + size));
          at += size;
        }
        assert.deepEqual(outcome(pieces, masked), outcome([stream], masked));
      },
    ),
    { numRuns: 2000 },
  );
});
