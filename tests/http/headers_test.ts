import { test } from "node:test";
import { Buffer } from "node:buffer";
import assert from "node:assert/strict";
import {
  byteLength,
  concatBytes,
  encodeString,
  HeaderList,
  indexOfByte,
  latin1,
  sameName,
  tokens,
  writeString,
} from "../../src/http1/mod.ts";

function list(): HeaderList {
  return new HeaderList([
    "Host",
    "example.com",
    "Set-Cookie",
    "a=1",
    "Accept",
    "*/*",
    "set-cookie",
    "b=2",
    "SET-COOKIE",
    "c=3",
  ]);
}

test("HeaderList.get joins repeated fields with ', ' and ignores case", () => {
  const h = list();
  assert.equal(h.get("host"), "example.com");
  assert.equal(h.get("HOST"), "example.com");
  assert.equal(h.get("set-cookie"), "a=1, b=2, c=3");
  assert.equal(h.get("missing"), undefined);
  assert.equal(h.get("hos"), undefined, "a prefix is not a match");
});

test("HeaderList.get returns an empty value as '' rather than undefined", () => {
  const h = new HeaderList(["X-Empty", ""]);
  assert.equal(h.get("x-empty"), "");
  assert.equal(h.has("x-empty"), true);
});

test("HeaderList.getAll returns every value in order", () => {
  const h = list();
  assert.deepEqual(h.getAll("Set-Cookie"), ["a=1", "b=2", "c=3"]);
  assert.deepEqual(h.getAll("accept"), ["*/*"]);
  assert.deepEqual(h.getAll("nope"), []);
});

test("HeaderList.has ignores case", () => {
  const h = list();
  assert.equal(h.has("ACCEPT"), true);
  assert.equal(h.has("accept-encoding"), false);
});

test("HeaderList.size counts repeated names each time", () => {
  assert.equal(list().size, 5);
  assert.equal(new HeaderList().size, 0);
});

test("HeaderList.set replaces the first field in place and removes the others", () => {
  const h = list();
  assert.equal(h.set("set-cookie", "z=9"), h, "returns this");
  assert.deepEqual(h.raw, ["Host", "example.com", "Set-Cookie", "z=9", "Accept", "*/*"]);
});

test("HeaderList.set keeps the original name case and position", () => {
  const h = new HeaderList(["Host", "a", "X-Custom", "1", "Accept", "*/*"]);
  h.set("x-custom", "2");
  assert.deepEqual(h.raw, ["Host", "a", "X-Custom", "2", "Accept", "*/*"]);
});

test("HeaderList.set appends when the name is absent", () => {
  const h = new HeaderList(["Host", "a"]);
  h.set("X-Seen", "1");
  assert.deepEqual(h.raw, ["Host", "a", "X-Seen", "1"]);
});

test("HeaderList.set handles adjacent duplicates", () => {
  const h = new HeaderList(["A", "1", "a", "2", "A", "3", "B", "4", "a", "5"]);
  h.set("a", "x");
  assert.deepEqual(h.raw, ["A", "x", "B", "4"]);
});

test("HeaderList.append always adds at the end, even for existing names", () => {
  const h = new HeaderList(["Via", "1.1 a"]);
  assert.equal(h.append("via", "1.1 b"), h);
  assert.deepEqual(h.raw, ["Via", "1.1 a", "via", "1.1 b"]);
  assert.equal(h.get("Via"), "1.1 a, 1.1 b");
});

test("HeaderList.delete removes every occurrence and returns the count", () => {
  const h = list();
  assert.equal(h.delete("SET-cookie"), 3);
  assert.deepEqual(h.raw, ["Host", "example.com", "Accept", "*/*"]);
  assert.equal(h.delete("set-cookie"), 0);
  assert.equal(h.delete("host"), 1);
  assert.deepEqual(h.raw, ["Accept", "*/*"]);
});

test("HeaderList iterates [name, value] pairs in order", () => {
  const h = new HeaderList(["A", "1", "b", "2", "A", "3"]);
  assert.deepEqual([...h], [["A", "1"], ["b", "2"], ["A", "3"]]);
  assert.deepEqual([...h.entries()], [["A", "1"], ["b", "2"], ["A", "3"]]);
});

test("HeaderList.clone is independent of the original", () => {
  const h = new HeaderList(["A", "1"]);
  const c = h.clone();
  c.append("B", "2");
  c.set("a", "changed");
  assert.deepEqual(h.raw, ["A", "1"]);
  assert.deepEqual(c.raw, ["A", "changed", "B", "2"]);
});

test("HeaderList.from accepts pairs and plain objects", () => {
  assert.deepEqual(HeaderList.from([["Host", "a"], ["host", "b"]]).raw, [
    "Host",
    "a",
    "host",
    "b",
  ]);
  assert.deepEqual(HeaderList.from({ "Content-Type": "text/plain", Accept: "*/*" }).raw, [
    "Content-Type",
    "text/plain",
    "Accept",
    "*/*",
  ]);
  assert.deepEqual(HeaderList.from(new Map([["X", "1"]])).raw, ["X", "1"]);
});

test("sameName is an ASCII case-insensitive comparison", () => {
  assert.equal(sameName("Content-Length", "content-length"), true);
  assert.equal(sameName("Content-Length", "Content-Lengt"), false);
  assert.equal(sameName("a", "b"), false);
  assert.equal(sameName("", ""), true);
});

test("tokens splits comma lists into trimmed lowercase tokens", () => {
  assert.deepEqual(tokens(undefined), []);
  assert.deepEqual(tokens(""), []);
  assert.deepEqual(tokens("close"), ["close"]);
  assert.deepEqual(tokens(" Keep-Alive ,\tUpgrade"), ["keep-alive", "upgrade"]);
  assert.deepEqual(tokens("gzip,,  ,chunked"), ["gzip", "chunked"]);
});

// ---- bytes.ts ----

test("latin1 maps each byte to one char, including 0x80-0xFF", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const text = latin1(all);
  assert.equal(text.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(text.charCodeAt(i), i);
  assert.equal(latin1(all, 65, 68), "ABC");
  assert.equal(latin1(all, 10, 10), "");
});

test("latin1 handles inputs longer than its 2048-byte batch", () => {
  const big = new Uint8Array(5000).map((_, i) => (i * 7) & 0xff);
  const text = latin1(big);
  assert.equal(text.length, 5000);
  for (let i = 0; i < 5000; i += 97) assert.equal(text.charCodeAt(i), big[i]);
  assert.equal(latin1(big, 2040, 2060), latin1(big.subarray(2040, 2060)));
});

test("encodeString writes chars up to U+00FF as single bytes", () => {
  const bytes = encodeString("a\u00e9\u00ff");
  assert.deepEqual([...bytes], [0x61, 0xe9, 0xff]);
  assert.equal(byteLength("a\u00e9\u00ff"), 3);
});

test("encodeString falls back to UTF-8 for strings with chars above U+00FF", () => {
  const bytes = encodeString("\u00e9\u20ac");
  assert.deepEqual([...bytes], [0xc3, 0xa9, 0xe2, 0x82, 0xac]);
  assert.equal(byteLength("\u00e9\u20ac"), 5);
});

test("writeString returns the new offset", () => {
  const out = new Uint8Array(8);
  assert.equal(writeString("ab", out, 3), 5);
  assert.deepEqual([...out], [0, 0, 0, 0x61, 0x62, 0, 0, 0]);
  assert.equal(writeString("\u20ac", out, 0), 3);
});

test("indexOfByte searches only within [from, to)", () => {
  const bytes = Uint8Array.of(1, 2, 3, 2, 1);
  assert.equal(indexOfByte(bytes, 2, 0, 5), 1);
  assert.equal(indexOfByte(bytes, 2, 2, 5), 3);
  assert.equal(indexOfByte(bytes, 2, 2, 3), -1);
  assert.equal(indexOfByte(bytes, 9, 0, 5), -1);
  assert.equal(indexOfByte(bytes, 1, 1, 99), 4, "a range past the end runs to the end");
  assert.equal(indexOfByte(bytes, 1, 5, 5), -1);
  // A Buffer view into a larger array: positions are the view's, nothing outside it is seen.
  const inner = Buffer.from(Uint8Array.of(2, 7, 1, 2, 3, 7).buffer, 1, 4); // 7 1 2 3
  assert.equal(indexOfByte(inner, 2, 0, 4), 2);
  assert.equal(indexOfByte(inner, 7, 1, 4), -1);
  assert.equal(indexOfByte(inner, 7, 0, 4), 0);
});

test("concatBytes joins arrays into a new one", () => {
  const a = Uint8Array.of(1, 2);
  const out = concatBytes([a, new Uint8Array(0), Uint8Array.of(3)]);
  assert.deepEqual([...out], [1, 2, 3]);
  out[0] = 9;
  assert.equal(a[0], 1, "a copy, not a view");
});
