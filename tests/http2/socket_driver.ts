/**
 * Test-only glue between a sans-IO Http2Connection and a real socket (node:net or node:tls): bytes
 * read are fed to the connection, events go to a callback, and whatever the connection wants to
 * send is written after every step. Used by the interop tests only; the proxy has its own I/O.
 */
import type { Duplex } from "node:stream";
import type { Http2Connection, Http2Event } from "../../src/http2/mod.ts";

export class SocketDriver {
  readonly conn: Http2Connection;
  readonly socket: Duplex;
  #onEvent: (ev: Http2Event) => void;
  #closed = false;

  constructor(conn: Http2Connection, socket: Duplex, onEvent: (ev: Http2Event) => void) {
    this.conn = conn;
    this.socket = socket;
    this.#onEvent = onEvent;
    socket.on("data", (chunk: Uint8Array) => {
      for (const ev of conn.receive(chunk)) this.#onEvent(ev);
      this.flush();
    });
    socket.on("error", () => {});
    socket.on("close", () => (this.#closed = true));
    this.flush();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes what the connection has to send; ends the socket once the connection is over. */
  flush(): void {
    if (this.#closed) return;
    const chunks = this.conn.takeChunks();
    if (chunks.length === 1) this.socket.write(chunks[0]);
    else if (chunks.length > 1) {
      // Many small pieces (frame headers, payload views): one write each, sent together.
      const s = this.socket as Duplex & { cork?: () => void; uncork?: () => void };
      s.cork?.();
      for (const c of chunks) s.write(c);
      s.uncork?.();
    }
    if (this.conn.closed) this.socket.end();
  }
}

/** A reusable block of patterned bytes: the body generators send views of it. */
export const PATTERN: Uint8Array = Uint8Array.from(
  { length: 16384 },
  (_, i) => (i * 31 + 7) & 0xff,
);

/**
 * Sends `total` patterned bytes on a stream without ever queuing more than `high` bytes beyond
 * the peer's windows: call `pump()` again on each "drained" event of the stream.
 */
export function bodySender(
  driver: SocketDriver,
  streamId: number,
  total: number,
  high = 65536,
): { pump: () => void; done: () => boolean } {
  let left = total;
  let finished = false;
  const pump = () => {
    if (finished) return;
    const conn = driver.conn;
    while (left > 0 && conn.queuedBytes(streamId) < high) {
      const n = Math.min(left, PATTERN.length);
      left -= n;
      conn.sendData(streamId, PATTERN.subarray(0, n), left === 0);
    }
    if (left === 0) {
      if (total === 0) conn.sendData(streamId, new Uint8Array(0), true);
      finished = true;
    }
    driver.flush();
  };
  return { pump, done: () => finished };
}
