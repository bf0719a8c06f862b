/** ReadQueue (src/runtime/conn_parts.ts), the inbound queue of every Conn: no sockets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ReadQueue } from "../../src/runtime/shared/conn_parts.ts";

test("ReadQueue hands out Buffers as plain Uint8Array views of the same bytes, queued or awaited", async () => {
  const q = new ReadQueue(() => {}, () => {}, 1 << 20);
  const backing = Uint8Array.of(9, 1, 2, 3, 9);
  const waiting = q.read();
  q.push(Buffer.from(backing.buffer, 1, 3)); // to the waiting reader
  q.push(Buffer.from(backing.buffer, 2, 2)); // queued
  for (const [chunk, bytes] of [[await waiting, [1, 2, 3]], [await q.read(), [2, 3]]] as const) {
    assert.equal(chunk!.constructor, Uint8Array);
    assert.deepEqual([...chunk!], bytes);
    assert.equal(chunk!.buffer, backing.buffer, "a view, not a copy");
  }
});
