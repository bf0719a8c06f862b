import { test } from "node:test";
import assert from "node:assert/strict";
import { applyMask, encodeFrame, headerLength, Opcode } from "../../src/websocket/frame.ts";
import { hex, RFC, utf8 } from "./helpers.ts";

test("encodeFrame gives RFC 6455 5.7's unmasked and masked 'Hello' byte for byte", () => {
  assert.deepEqual(
    encodeFrame({ opcode: Opcode.Text, payload: utf8("Hello"), mask: null }),
    RFC.unmaskedHello,
  );
  assert.deepEqual(
    encodeFrame({ opcode: Opcode.Text, payload: utf8("Hello"), mask: hex("37fa213d") }),
    RFC.maskedHello,
  );
  assert.deepEqual(
    encodeFrame({ opcode: Opcode.Pong, payload: utf8("Hello"), mask: hex("37fa213d") }),
    RFC.maskedPong,
  );
  assert.deepEqual(
    encodeFrame({ opcode: Opcode.Text, fin: false, payload: utf8("Hel"), mask: null }),
    RFC.fragmentedHel,
  );
  assert.deepEqual(
    encodeFrame({ opcode: Opcode.Continuation, payload: utf8("lo"), mask: null }),
    RFC.fragmentedLo,
  );
});

test("encodeFrame uses 7-, 16- and 64-bit lengths at the RFC's boundaries", () => {
  const cases: [number, string][] = [
    [0, "8200"],
    [125, "827d"],
    [126, "827e007e"],
    [256, "827e0100"],
    [65535, "827effff"],
    [65536, "827f0000000000010000"],
    [70000, "827f0000000000011170"],
  ];
  for (const [n, head] of cases) {
    const frame = encodeFrame({ opcode: Opcode.Binary, payload: new Uint8Array(n), mask: null });
    assert.deepEqual(frame.subarray(0, head.length / 2), hex(head), `length ${n}`);
    assert.equal(frame.length, headerLength(n, false) + n);
  }
});

test("encodeFrame sets RSV1 and leaves the caller's payload unmasked", () => {
  const payload = utf8("abc");
  const frame = encodeFrame({ opcode: Opcode.Text, rsv1: true, payload, mask: hex("01020304") });
  assert.equal(frame[0], 0xc1);
  assert.deepEqual(payload, utf8("abc"));
});

test("applyMask matches a byte-wise XOR for every length, alignment and key offset", () => {
  const mask = hex("a1b2c3d4");
  for (const offset of [0, 1, 2, 3]) {
    for (let start = 0; start < 4; start++) {
      for (const n of [0, 1, 3, 4, 15, 16, 17, 63, 64, 65, 1000]) {
        const buf = new Uint8Array(start + n);
        crypto.getRandomValues(buf);
        const data = buf.subarray(start);
        const expected = Uint8Array.from(data, (b, i) => b ^ mask[(i + offset) & 3]);
        applyMask(data, mask, offset);
        assert.deepEqual(data, expected, `n=${n} start=${start} offset=${offset}`);
      }
    }
  }
});
