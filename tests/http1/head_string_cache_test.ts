/** Field strings come from a small cache of recent ones: what a parse returns must still be exact. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFields } from "../../src/http1/head.ts";

const enc = new TextEncoder();

function parse(lines: [string, string][]): string[] {
  const text = lines.map(([n, v]) => `${n}: ${v}\r\n`).join("");
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  return parseFields(bytes, 0, bytes.length, 1000, 400, "request").raw;
}

test("names and values that share length, first, middle and last byte come back exact", () => {
  // Same hash inputs, different inner bytes: a hit must be compared in full.
  const pairs: [string, string][] = [
    ["X-Aaaaa-Z", "abcdefz"],
    ["X-Abbba-Z", "abxdefz"],
    ["X-Aaaaa-Z", "abcdefz"],
    ["X-Acaca-Z", "abcxefz"],
  ];
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(parse(pairs), pairs.flat());
  }
});

test("random short fields parsed again and again read back exactly", () => {
  let seed = 42;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  const TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";
  const word = (alphabet: string, len: number) =>
    Array.from({ length: len }, () => alphabet[rand(alphabet.length)]).join("");
  const values = "abc xyz/;=,\t\u00e9\u00ff" + TOKEN;
  for (let round = 0; round < 300; round++) {
    const pairs: [string, string][] = Array.from({ length: 1 + rand(8) }, () => {
      const value = word(values, rand(40));
      return [word(TOKEN.slice(0, 4 + rand(4)), 1 + rand(36)), value.trim()];
    });
    assert.deepEqual(parse(pairs), pairs.flat(), JSON.stringify(pairs));
  }
});

test("bytes above 0x7F are one char each, cached or not", () => {
  const bytes = enc.encode("X-Name: caf\u00e9\r\n"); // UTF-8: two bytes for the e-acute
  const raw = parseFields(bytes, 0, bytes.length, 10, 400, "request").raw;
  const again = parseFields(bytes, 0, bytes.length, 10, 400, "request").raw;
  assert.deepEqual(raw, ["X-Name", "caf\u00c3\u00a9"]);
  assert.deepEqual(again, raw);
});
