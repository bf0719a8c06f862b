import { test } from "node:test";
import assert from "node:assert/strict";
import { ReceiveBuffer } from "../../src/http1/mod.ts";
import { b, mulberry32, s } from "./helpers.ts";

function pending(buf: ReceiveBuffer): string {
  return s(buf.bytes.subarray(buf.start, buf.end));
}

test("ReceiveBuffer starts empty", () => {
  const buf = new ReceiveBuffer();
  assert.equal(buf.length, 0);
  assert.equal(buf.takeAll().length, 0);
});

test("ReceiveBuffer adopts a chunk without copying when nothing is pending", () => {
  const buf = new ReceiveBuffer();
  const chunk = b("hello");
  buf.push(chunk);
  assert.equal(buf.bytes, chunk);
  assert.equal(buf.length, 5);
  const view = buf.take(2);
  assert.equal(view.buffer, chunk.buffer, "take returns a view");
  assert.equal(s(view), "he");
  assert.equal(pending(buf), "llo");
});

test("ReceiveBuffer ignores empty pushes", () => {
  const buf = new ReceiveBuffer();
  buf.push(new Uint8Array(0));
  assert.equal(buf.length, 0);
  buf.push(b("ab"));
  buf.push(new Uint8Array(0));
  assert.equal(pending(buf), "ab");
});

test("ReceiveBuffer never writes into a chunk it adopted", () => {
  const buf = new ReceiveBuffer();
  const backing = b("abcXYZ");
  const chunk = backing.subarray(0, 3); // spare bytes after it belong to the caller
  buf.push(chunk);
  buf.push(b("def"));
  assert.equal(s(backing), "abcXYZ", "caller's bytes untouched");
  assert.equal(pending(buf), "abcdef");
});

test("ReceiveBuffer views from take() survive later pushes (no overwrite)", () => {
  const buf = new ReceiveBuffer();
  buf.push(b("abc"));
  buf.push(b("def")); // now in a buffer of its own, with spare room
  const v1 = buf.take(2);
  assert.equal(s(v1), "ab");
  buf.push(b("ghi")); // appended into the spare room
  const v2 = buf.take(3);
  assert.equal(s(v2), "cde");
  for (let i = 0; i < 2000; i++) buf.push(b("0123456789")); // forces reallocations
  const v3 = buf.take(4);
  assert.equal(s(v1), "ab");
  assert.equal(s(v2), "cde");
  assert.equal(s(v3), "fghi");
  buf.takeAll();
  buf.push(b("zzzzzz")); // after emptying: adopted, never reusing the old array
  assert.equal(s(v1), "ab");
  assert.equal(s(v2), "cde");
  assert.equal(s(v3), "fghi");
});

test("ReceiveBuffer views survive pushes after take() emptied an owned buffer", () => {
  const buf = new ReceiveBuffer();
  buf.push(b("12"));
  buf.push(b("34"));
  const owned = buf.bytes;
  const v = buf.take(4);
  assert.equal(buf.length, 0);
  buf.push(b("56"));
  buf.push(b("78"));
  assert.notEqual(buf.bytes, owned, "the emptied array is not reused");
  assert.equal(s(v), "1234");
  assert.equal(pending(buf), "5678");
});

test("ReceiveBuffer grows across many small pushes and keeps every byte in order", () => {
  const buf = new ReceiveBuffer();
  let expected = "";
  for (let i = 0; i < 5000; i++) {
    const piece = String.fromCharCode(0x41 + (i % 26)) + String.fromCharCode(0x80 + (i % 0x7f));
    buf.push(b(piece));
    expected += piece;
  }
  assert.equal(buf.length, expected.length);
  assert.equal(s(buf.takeAll()), expected);
  assert.equal(buf.length, 0);
});

test("ReceiveBuffer interleaved random pushes and takes keep all views intact", () => {
  const rand = mulberry32(7);
  const buf = new ReceiveBuffer();
  const taken: Uint8Array[] = [];
  let sent = "";
  let counter = 0;
  for (let round = 0; round < 3000; round++) {
    if (rand() < 0.6) {
      const n = Math.floor(rand() * 40);
      let piece = "";
      for (let i = 0; i < n; i++) piece += String.fromCharCode(counter++ & 0xff);
      buf.push(b(piece));
      sent += piece;
    } else {
      taken.push(buf.take(Math.floor(rand() * (buf.length + 1))));
    }
  }
  taken.push(buf.takeAll());
  assert.equal(taken.map(s).join(""), sent);
});

test("ReceiveBuffer.skip drops bytes and start/end/length track it", () => {
  const buf = new ReceiveBuffer();
  buf.push(b("abcdef"));
  buf.skip(2);
  assert.equal(buf.length, 4);
  assert.equal(buf.end - buf.start, 4);
  assert.equal(pending(buf), "cdef");
  buf.skip(4);
  assert.equal(buf.length, 0);
  assert.equal(buf.start, 0);
  assert.equal(buf.end, 0);
});
