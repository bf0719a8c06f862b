import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { newFlowId } from "../../src/flow/id.ts";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The 80-bit random part of an id as a number. */
function randomPart(id: string): bigint {
  let n = 0n;
  for (const c of id.slice(10)) n = n * 32n + BigInt(ALPHABET.indexOf(c));
  return n;
}

// Ids keep their order within the process: a time before the last id's counts as the same
// millisecond (a clock step). Other tests in the same process made ids at the real time, so these
// use times a little ahead of it.
describe("flow ids", () => {
  test("are 26 Crockford base32 characters that start with the time", () => {
    const now = Date.now() + 5;
    const id = newFlowId(now);
    assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    let t = 0;
    for (const c of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(c);
    assert.equal(t, now);
  });

  test("count up by one within a millisecond, across carries, and sort in order", () => {
    const now = Date.now() + 10;
    const ids = [newFlowId(now)];
    for (let i = 0; i < 5000; i++) ids.push(newFlowId(now));
    for (let i = 1; i < ids.length; i++) {
      const step = (randomPart(ids[i]) - randomPart(ids[i - 1]) + (1n << 80n)) % (1n << 80n);
      assert.equal(step, 1n, `${ids[i - 1]} -> ${ids[i]}`);
      assert.equal(ids[i].slice(0, 10), ids[0].slice(0, 10));
    }
    // Lexical order is creation order (unless the random part wrapped, one chance in 2^68).
    assert.deepEqual([...ids].sort(), ids);
  });

  test("a later millisecond starts a fresh random part and sorts after", () => {
    const t = Date.now() + 20;
    const a = newFlowId(t);
    const b = newFlowId(t + 1);
    assert.ok(b > a);
    assert.notEqual(randomPart(b) - randomPart(a), 1n);
  });
});
