/** Moving parsed messages between connections: the small I/O loops around the sans-IO codec. */
import type { BodyWriter, HeaderList, ReadEvent } from "../http1/mod.ts";
import { concatBytes, HttpError } from "../http1/mod.ts";
import type { Conn } from "../runtime/types.ts";

/** What the pumps need from a RequestReader or ResponseReader. */
export interface EventReader<H> {
  next(): ReadEvent<H> | null;
  /** Bytes fed but not yet consumed; 0 means the reader holds no view of any fed chunk. */
  readonly bufferedLength: number;
  feed(chunk: Uint8Array): void;
  feedEof(): void;
}

export type ReadFn = () => Promise<Uint8Array | null>;
/** Conn.recycle of the connection a ReadFn reads from, when it has one. */
export type RecycleFn = (chunk: Uint8Array) => void;

/**
 * Gives `chunk` back to its connection once nothing refers to it: the caller has checked that no
 * parser holds its bytes, and this waits until `dst` has flushed every write that might.
 */
async function recycleAfterFlush(dst: Conn, chunk: Uint8Array, recycle: RecycleFn) {
  const wait = dst.flushed();
  if (wait) await wait;
  recycle(chunk);
}

/** Reads until the reader yields an event. */
export async function nextEvent<H>(reader: EventReader<H>, read: ReadFn): Promise<ReadEvent<H>> {
  let eof = false;
  for (;;) {
    const ev = reader.next();
    if (ev !== null) return ev;
    if (eof) throw new HttpError(502, "connection closed unexpectedly");
    const chunk = await read();
    if (chunk === null) {
      eof = true;
      reader.feedEof();
    } else reader.feed(chunk);
  }
}

/** Writes `out` as one batch and empties it, waiting if the peer is slow. */
export async function flush(dst: Conn, out: Uint8Array[]): Promise<void> {
  if (out.length === 0) return;
  const wait = dst.writev(out);
  out.length = 0;
  if (wait) await wait;
}

/** Flush when this much is batched even if more events are ready. */
const MAX_BATCH = 256 * 1024;

/**
 * Streams the body of the current message from `reader` to `dst`, framed by `writer`. `out` may
 * already hold bytes (the head) to send in the same batch. Bytes go out as they arrive; reading
 * waits while `dst` is full, so memory stays bounded by the socket buffers. Returns the trailers.
 * With `dst` null the body is read and dropped (draining a request nobody will answer).
 */
export async function pumpBody<H>(
  reader: EventReader<H>,
  read: ReadFn,
  dst: Conn | null,
  writer: BodyWriter,
  out: Uint8Array[],
  recycle?: RecycleFn,
  collect?: BodyCollector,
): Promise<HeaderList | null> {
  let eof = false;
  let batched = 0;
  /** The chunk fed last, while it may still be recycled. */
  let fed: Uint8Array | null = null;
  for (;;) {
    const ev = reader.next();
    if (ev === null) {
      if (dst !== null) {
        await flush(dst, out);
        if (fed !== null && recycle !== undefined && reader.bufferedLength === 0) {
          await recycleAfterFlush(dst, fed, recycle);
        }
      }
      fed = null;
      batched = 0;
      if (eof) throw new HttpError(502, "connection closed unexpectedly");
      const chunk = await read();
      if (chunk === null) {
        eof = true;
        reader.feedEof();
      } else {
        reader.feed(chunk);
        fed = chunk;
      }
      continue;
    }
    if (ev.type === "data") {
      collect?.add(ev.data);
      if (dst === null) continue;
      writer.data(ev.data, out);
      batched += ev.data.length;
      if (batched >= MAX_BATCH) {
        await flush(dst, out);
        batched = 0;
      }
    } else if (ev.type === "end") {
      if (dst !== null) {
        writer.end(ev.trailers, out);
        await flush(dst, out);
      }
      return ev.trailers;
    } else {
      throw new HttpError(502, `unexpected ${ev.type} event in a body`);
    }
  }
}

/**
 * Copies of the body bytes that pass through, for the flow, up to `limit` bytes; past it the
 * copy is dropped and only the size is counted. Copies, because pumped views may point into read
 * buffers that are recycled.
 */
export class BodyCollector {
  readonly limit: number;
  #parts: Uint8Array[] = [];
  size = 0;
  overflow = false;

  constructor(limit: number, initial: readonly Uint8Array[] = []) {
    this.limit = limit;
    for (const part of initial) this.add(part);
  }

  add(data: Uint8Array): void {
    this.size += data.length;
    if (this.overflow) return;
    if (this.size > this.limit) {
      this.overflow = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(data.slice());
  }

  /** The whole body, or null when it outgrew the limit. */
  result(): Uint8Array | null {
    if (this.overflow) return null;
    return this.#parts.length === 1 ? this.#parts[0] : concatBytes(this.#parts);
  }
}

export type WholeBody =
  | { complete: true; body: Uint8Array; trailers: HeaderList | null }
  /** Outgrew `limit`: what was read so far; the rest is still to be pumped. */
  | { complete: false; read: Uint8Array[] };

/**
 * Reads the body of the current message into memory, up to `limit` bytes (for hooks that may
 * change it). The views kept are not recycled, so they stay valid.
 */
export async function readWholeBody<H>(
  reader: EventReader<H>,
  read: ReadFn,
  limit: number,
): Promise<WholeBody> {
  const parts: Uint8Array[] = [];
  let size = 0;
  let eof = false;
  for (;;) {
    const ev = reader.next();
    if (ev === null) {
      if (eof) throw new HttpError(502, "connection closed unexpectedly");
      const chunk = await read();
      if (chunk === null) {
        eof = true;
        reader.feedEof();
      } else reader.feed(chunk);
      continue;
    }
    if (ev.type === "data") {
      parts.push(ev.data);
      size += ev.data.length;
      if (size > limit) return { complete: false, read: parts };
    } else if (ev.type === "end") {
      const body = parts.length === 1 ? parts[0] : concatBytes(parts);
      return { complete: true, body, trailers: ev.trailers };
    } else {
      throw new HttpError(502, `unexpected ${ev.type} event in a body`);
    }
  }
}

/**
 * Relays raw bytes both ways until both sides have finished (a CONNECT tunnel, or a connection
 * after 101 Switching Protocols). A FIN is passed on as a FIN; an error closes both.
 */
export async function relay(
  a: Conn,
  readA: ReadFn,
  leftoverA: Uint8Array,
  b: Conn,
  readB: ReadFn,
  leftoverB: Uint8Array,
): Promise<void> {
  const oneWay = async (read: ReadFn, leftover: Uint8Array, dst: Conn, recycle?: RecycleFn) => {
    try {
      if (leftover.length > 0) await dst.write(leftover);
      for (;;) {
        const chunk = await read();
        if (chunk === null) break;
        const wait = dst.write(chunk);
        if (wait) await wait;
        if (recycle) await recycleAfterFlush(dst, chunk, recycle);
      }
      dst.closeWrite();
    } catch {
      a.close();
      b.close();
    }
  };
  const aToB = oneWay(readA, leftoverA, b, a.recycle?.bind(a));
  const bToA = oneWay(readB, leftoverB, a, b.recycle?.bind(b));
  // A side closed outright (proxy shutdown, reset) can receive nothing more: once what it sent
  // has been passed on, close the other side too, or a silent peer would hold the relay open.
  a.closed.then(() => aToB.then(() => b.close()));
  b.closed.then(() => bToA.then(() => a.close()));
  await Promise.all([aToB, bToA]);
  a.close();
  b.close();
}
