/**
 * BunConn's write side (src/runtime/bun/net.ts) over a scripted socket, no network: runs of
 * small pieces go out as one write from a buffer shared by every connection, and a rest the
 * socket did not take survives that buffer's reuse by another connection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BunConn, type BunSocket } from "../../src/runtime/bun/net.ts";

/** A socket that takes at most `room` bytes per write (Infinity: all), recording copies. */
function scriptedSocket(room = Infinity) {
  const writes: number[][] = [];
  const socket = {
    data: undefined,
    remoteAddress: "127.0.0.1",
    remotePort: 1,
    localAddress: "127.0.0.1",
    localPort: 2,
    room,
    write(data: Uint8Array): number {
      const n = Math.min(data.length, socket.room);
      writes.push([...data.subarray(0, n)]);
      return n;
    },
    shutdown() {},
    end() {},
    pause() {},
    resume() {},
    setNoDelay: () => true,
  };
  return { socket, writes, conn: new BunConn(socket as unknown as BunSocket) };
}

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test("writev: an HTTP/2 frame header and its payload go out in one write", () => {
  const { conn, writes } = scriptedSocket();
  const header = bytes(9, 1);
  const payload = bytes(16384, 2);
  assert.equal(conn.writev([header, payload, bytes(9, 3), bytes(100, 4)]), undefined);
  assert.equal(writes.length, 1);
  assert.equal(writes[0].length, 9 + 16384 + 9 + 100);
  assert.deepEqual(writes[0].slice(0, 10), [1, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
  assert.equal(conn.flushed(), undefined, "nothing left queued");
});

test("a rest the socket did not take is kept intact while other connections reuse the buffer", async () => {
  const slow = scriptedSocket(5);
  slow.conn.writev([bytes(4, 1), bytes(4, 2), bytes(4, 3)]); // joined; the socket takes 5 of 12
  assert.deepEqual(slow.writes, [[1, 1, 1, 1, 2]]);
  const flushed = slow.conn.flushed();
  assert.ok(flushed !== undefined, "the rest waits for drain");
  // Another connection joins its own pieces meanwhile, in the same shared buffer.
  const other = scriptedSocket();
  other.conn.writev([bytes(6, 8), bytes(6, 9)]);
  assert.deepEqual(other.writes, [[8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9]]);
  // Later pieces queue behind the rest, in order.
  slow.conn.write(bytes(2, 7));
  slow.socket.room = Infinity;
  slow.conn.onDrain();
  await flushed;
  assert.deepEqual(slow.writes.flat(), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 7, 7]);
  assert.equal(slow.conn.flushed(), undefined);
});

test("a piece larger than the join limit is written as it is, not copied", () => {
  const { conn, socket, writes } = scriptedSocket();
  const seen: Uint8Array[] = [];
  const write = socket.write;
  socket.write = (data: Uint8Array) => {
    seen.push(data);
    return write(data);
  };
  const big = bytes(256 * 1024, 5);
  conn.writev([bytes(9, 1), big]);
  assert.equal(writes.length, 2);
  assert.equal(seen[1], big);
});
