/** Small synchronisation pieces shared by the Conn implementations. */
import type { Conn } from "../types.ts";

/**
 * A promise that any number of callers wait on until it is opened (resolved) or failed
 * (rejected); after either it re-arms for the next wait. Used for "the send buffer has room
 * again" and "everything written has been flushed".
 */
export class Gate {
  #promise: Promise<void> | null = null;
  #resolve: (() => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;

  wait(): Promise<void> {
    if (this.#promise === null) {
      this.#promise = new Promise<void>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
    }
    return this.#promise;
  }

  open(): void {
    const resolve = this.#resolve;
    this.#reset();
    resolve?.();
  }

  fail(error: unknown): void {
    const reject = this.#reject;
    this.#reset();
    reject?.(error);
  }

  /**
   * Fails whoever waits, with an error made only if someone does (an error made for nobody costs
   * a stack trace, on every connection that closes).
   */
  failWaiting(makeError: () => unknown): void {
    if (this.#reject !== null) this.fail(makeError());
  }

  #reset(): void {
    this.#promise = null;
    this.#resolve = this.#reject = null;
  }
}

/**
 * Turns chunks pushed by a socket's data events into pulled reads. Above `highWater` queued bytes
 * the source is paused, so a consumer that stops reading stops the peer (TCP backpressure).
 */
export class ReadQueue {
  #chunks: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #ended = false;
  #error: Error | null = null;
  #reader: { resolve(c: Uint8Array | null): void; reject(e: unknown): void } | null = null;
  readonly #pause: () => void;
  readonly #resume: () => void;
  readonly #highWater: number;
  readonly #onTaken: ((bytes: number) => void) | null;

  /**
   * `onTaken`, if given, hears of every chunk handed to a reader (its size), and of a reader that
   * found nothing queued and waits (0).
   */
  constructor(
    pause: () => void,
    resume: () => void,
    highWater: number,
    onTaken?: (bytes: number) => void,
  ) {
    this.#pause = pause;
    this.#resume = resume;
    this.#highWater = highWater;
    this.#onTaken = onTaken ?? null;
  }

  push(chunk: Uint8Array): void {
    // Node Buffers (node:tls, Bun's sockets) as plain views: their subarray() and indexOf() are
    // slower than the typed array's own (Deno's are JavaScript), and the codec uses both.
    if (chunk.constructor !== Uint8Array) {
      chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    const reader = this.#reader;
    if (reader !== null && this.#chunks.length === 0) {
      this.#reader = null;
      this.#onTaken?.(chunk.length);
      reader.resolve(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= this.#highWater && !this.#paused) {
      this.#paused = true;
      this.#pause();
    }
  }

  /** No more data: reads return what is queued, then null (or the error given to fail()). */
  end(): void {
    this.#ended = true;
    this.#wakeReader();
  }

  /** Reads return what is queued, then reject with `error` (the first one given). */
  fail(error: Error): void {
    this.#error ??= error;
    this.#ended = true;
    this.#wakeReader();
  }

  /**
   * Removes and returns the chunks received but not read yet (handing the source over). A read
   * still waiting gets an empty chunk: what comes from now on is no longer this queue's.
   */
  takeQueued(): Uint8Array[] {
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#queued = 0;
    const reader = this.#reader;
    this.#reader = null;
    reader?.resolve(new Uint8Array(0));
    return chunks;
  }

  get error(): Error | null {
    return this.#error;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#chunks.length > 0) {
      const chunk = this.#chunks.shift()!;
      this.#queued -= chunk.length;
      this.#onTaken?.(chunk.length);
      if (this.#paused && this.#queued < this.#highWater / 2) {
        this.#paused = false;
        if (!this.#ended) this.#resume();
      }
      return Promise.resolve(chunk);
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    if (this.#reader !== null) return Promise.reject(new Error("read() called concurrently"));
    const waiting = new Promise<Uint8Array | null>((resolve, reject) => {
      this.#reader = { resolve, reject };
    });
    this.#onTaken?.(0);
    return waiting;
  }

  #wakeReader(): void {
    const reader = this.#reader;
    if (reader === null) return;
    this.#reader = null;
    if (this.#error) reader.reject(this.#error);
    else reader.resolve(null);
  }
}

/**
 * Runs of queued pieces up to this size are joined into one write (one system call, and one TLS
 * record rather than one per piece): an HTTP/2 DATA frame (a 9-byte header and up to 16 KiB of
 * payload) and then some.
 */
export const JOIN_LIMIT = 64 * 1024;

/** `chunks` copied into one new array of `total` bytes (one system call for small batches). */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  return joinInto(chunks, chunks.length, new Uint8Array(total));
}

/** The first `count` of `chunks` copied one after another to the start of `into`: that part. */
export function joinInto(
  chunks: readonly Uint8Array[],
  count: number,
  into: Uint8Array,
): Uint8Array {
  let o = 0;
  for (let i = 0; i < count; i++) {
    into.set(chunks[i], o);
    o += chunks[i].length;
  }
  return o === into.length ? into : into.subarray(0, o);
}

/**
 * Closes `conn` once every byte written to it has been handed to the OS, or after `maxMs` if the
 * peer stops reading: close() alone drops what is still queued (a last response, a close_notify).
 */
export async function closeWhenFlushed(conn: Conn, maxMs: number): Promise<void> {
  const flushed = conn.isClosed ? undefined : conn.flushed();
  if (flushed !== undefined) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((r) => (timer = setTimeout(r, maxMs)));
    await Promise.race([flushed.catch(() => {}), late]);
    clearTimeout(timer);
  }
  conn.close();
}

/** What a Conn is by contract (types.ts); anything else an implementation has is a capability. */
const CONN_CONTRACT = new Set<PropertyKey>([
  "remote",
  "local",
  "read",
  "write",
  "writev",
  "flushed",
  "recycle",
  "closeWrite",
  "close",
  "isClosed",
  "closed",
]);

/** `conn`, except that its next read() is `first` (a read already started on it). */
export function withFirstRead(conn: Conn, first: Promise<Uint8Array | null>): Conn {
  let pending: Promise<Uint8Array | null> | null = first;
  const read = () => {
    const r = pending ?? conn.read();
    pending = null;
    return r;
  };
  // The Conn contract alone, without the capabilities of the Conn underneath: node:tls then
  // reads through read() rather than taking the socket over (handOverSocket), which would lose
  // the read already started.
  return new Proxy(conn, {
    get(target, key) {
      if (key === "read") return read;
      if (!CONN_CONTRACT.has(key)) return undefined;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
