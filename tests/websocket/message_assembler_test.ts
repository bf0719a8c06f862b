import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageAssembler } from "../../src/websocket/message_assembler.ts";
import { FrameParser } from "../../src/websocket/frame_parser.ts";
import { closePayload, WebSocketProtocolError } from "../../src/websocket/close.ts";
import { encodeFrame, Opcode } from "../../src/websocket/frame.ts";
import { chunkings, concat, DEFLATE, hex, parseAll, randomBytes, RFC, text } from "./helpers.ts";

function messages(bytes: Uint8Array[], options = {}, deflate = false) {
  const parser = new FrameParser({ masked: null, allowRsv1: deflate });
  const asm = new MessageAssembler({ deflate, ...options });
  return parseAll(parser, bytes).map((f) => asm.push(f)).filter((m) => m !== null);
}

test("joins a fragmented message and delivers a ping that came between its fragments first", () => {
  const stream = concat(RFC.fragmentedHel, RFC.unmaskedPing, RFC.fragmentedLo, RFC.unmaskedHello);
  for (const [how, chunks] of chunkings(stream)) {
    const out = messages(chunks);
    assert.deepEqual(
      out.map((m) => [m.opcode, text(m.payload), m.frames.length]),
      [[9, "Hello", 1], [1, "Hello", 2], [1, "Hello", 1]],
      how,
    );
    // the frames of a message re-create its bytes exactly
    assert.deepEqual(
      concat(...out[1].frames.map((f) => f.raw)),
      concat(RFC.fragmentedHel, RFC.fragmentedLo),
    );
  }
});

test("binary messages over 64 KiB in many fragments are joined in order", () => {
  const payload = randomBytes(300_000);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < payload.length; i += 70_000) {
    frames.push(encodeFrame({
      opcode: i === 0 ? Opcode.Binary : Opcode.Continuation,
      fin: i + 70_000 >= payload.length,
      payload: payload.subarray(i, i + 70_000),
      mask: hex("11223344"),
    }));
  }
  const [m] = messages([concat(...frames)]);
  assert.equal(m.opcode, Opcode.Binary);
  assert.deepEqual(m.payload, payload);
  assert.equal(m.frames.length, 5);
});

function fails(bytes: Uint8Array, code: number, pattern: RegExp, options = {}, deflate = false) {
  assert.throws(() => messages([bytes], options, deflate), (e: unknown) => {
    assert.ok(e instanceof WebSocketProtocolError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

test("fragmentation errors: continuation with nothing to continue, a new message inside one", () => {
  fails(RFC.fragmentedLo, 1002, /continuation frame outside a message/);
  fails(concat(RFC.fragmentedHel, RFC.unmaskedHello), 1002, /before the fragmented message ended/);
});

test("text that is not UTF-8 fails with 1007, also when split inside a character", () => {
  fails(
    encodeFrame({ opcode: Opcode.Text, payload: hex("ce ba e1 bd b9 cf 80 ff"), mask: null }),
    1007,
    /not valid UTF-8/,
  );
  // é split across two fragments is fine; an unfinished sequence at the end is not
  const ok = concat(
    encodeFrame({ opcode: Opcode.Text, fin: false, payload: hex("c3"), mask: null }),
    encodeFrame({ opcode: Opcode.Continuation, payload: hex("a9"), mask: null }),
  );
  assert.equal(text(messages([ok])[0].payload), "é");
  fails(encodeFrame({ opcode: Opcode.Text, payload: hex("41 c3"), mask: null }), 1007, /UTF-8/);
  // binary messages are not checked
  assert.equal(
    messages([encodeFrame({ opcode: Opcode.Binary, payload: hex("ff"), mask: null })]).length,
    1,
  );
});

test("close frames: code and UTF-8 reason are checked", () => {
  const close = (payload: Uint8Array) => encodeFrame({ opcode: Opcode.Close, payload, mask: null });
  assert.equal(messages([close(closePayload(1000, "bye"))])[0].opcode, Opcode.Close);
  assert.equal(messages([close(new Uint8Array(0))]).length, 1);
  fails(close(hex("03")), 1002, /1-byte payload/);
  for (const bad of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
    fails(
      close(Uint8Array.of(bad >> 8, bad & 0xff)),
      1002,
      new RegExp(`invalid close code ${bad}`),
    );
  }
  fails(close(hex("03 e8 ff")), 1007, /close reason is not valid UTF-8/);
});

test("a message over maxMessage fails with 1009 even when each fragment is small", () => {
  const frag = (op: number, fin: boolean) =>
    encodeFrame({ opcode: op as 0, fin, payload: new Uint8Array(600), mask: null });
  fails(
    concat(frag(Opcode.Binary, false), frag(Opcode.Continuation, true)),
    1009,
    /over the limit of 1000/,
    {
      maxMessage: 1000,
    },
  );
});

test("permessage-deflate (RFC 7692 7.2.3): compressed, stored, fragmented and with context takeover", () => {
  const stream = concat(
    DEFLATE.hello,
    DEFLATE.helloAgain,
    DEFLATE.helloStored,
    ...DEFLATE.helloFragments,
  );
  for (const [how, chunks] of chunkings(stream)) {
    const out = messages(chunks, {}, true);
    assert.deepEqual(out.map((m) => [text(m.payload), m.compressed]), [
      ["Hello", true],
      ["Hello", true],
      ["Hello", true],
      ["Hello", true],
    ], how);
  }
  // an uncompressed message between compressed ones
  const mixed = messages([DEFLATE.hello, RFC.unmaskedHello, DEFLATE.helloAgain], {}, true);
  assert.deepEqual(mixed.map((m) => m.compressed), [true, false, true]);
  assert.equal(text(mixed[2].payload), "Hello");
});

test("permessage-deflate: garbage fails with 1007, a bomb over the limit with 1009", async () => {
  const zlib = (await import("node:zlib")).default;
  fails(hex("c1 03 ff ff ff"), 1007, /does not inflate/, {}, true);
  const bomb = zlib.deflateRawSync(new Uint8Array(1_000_000), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const frame = encodeFrame({
    opcode: Opcode.Binary,
    rsv1: true,
    payload: bomb.subarray(0, bomb.length - 4),
    mask: null,
  });
  assert.throws(() => messages([frame], { maxMessage: 100_000 }, true), (e: unknown) => {
    assert.ok(e instanceof WebSocketProtocolError);
    assert.equal(e.code, 1009);
    return true;
  });
  assert.equal(messages([frame], {}, true)[0].payload.length, 1_000_000);
});
