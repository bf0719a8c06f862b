/**
 * An in-memory connection: a pair of queues, no sockets, no timers. The driver joins layers with
 * such pipes (src/proxy/driver/driver.ts); tests build an in-memory network on it
 * (tests/fakes/memory_network.ts).
 */
import { type Address, type Conn, NetError } from "../types.ts";
import { closedWhileSending } from "./net_errors.ts";

/** Bytes a side may queue before write() asks the writer to wait. */
const HIGH_WATER = 64 * 1024;

class Pipe {
  chunks: Uint8Array[] = [];
  queued = 0;
  eof = false;
  reader: ((c: Uint8Array | null) => void) | null = null;
  readerFail: ((e: unknown) => void) | null = null;
}

export class MemoryConn implements Conn {
  readonly remote: Address;
  readonly local: Address;
  readonly closed: Promise<void>;
  peer!: MemoryConn;
  #in: Pipe = new Pipe();
  #closed = false;
  #wroteEof = false;
  /** This side's write() calls waiting for the peer to read. */
  #blockedWriters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  #resolveClosed!: () => void;

  constructor(local: Address, remote: Address) {
    this.local = local;
    this.remote = remote;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  static pair(a: Address, b: Address): [MemoryConn, MemoryConn] {
    const x = new MemoryConn(a, b);
    const y = new MemoryConn(b, a);
    x.peer = y;
    y.peer = x;
    return [x, y];
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  read(): Promise<Uint8Array | null> {
    const p = this.#in;
    const chunk = p.chunks.shift();
    if (chunk !== undefined) {
      p.queued -= chunk.length;
      if (p.queued < HIGH_WATER) this.peer.#releaseWriters();
      return Promise.resolve(chunk);
    }
    if (p.eof || this.#closed) return Promise.resolve(null);
    // As in every real runtime: a second pending read would silently steal the first's data.
    if (p.reader !== null) return Promise.reject(new Error("read() called concurrently"));
    return new Promise((resolve, reject) => {
      p.reader = resolve;
      p.readerFail = reject;
    });
  }

  write(data: Uint8Array): Promise<void> | undefined {
    if (this.#closed || this.#wroteEof) throw new NetError("closed", "connection is closed");
    if (data.length === 0) return undefined;
    return this.peer.#deliver(data.slice());
  }

  writev(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    let wait: Promise<void> | undefined;
    for (const c of chunks) wait = this.write(c) ?? wait;
    return wait;
  }

  /** write() copies the bytes, so they are never referenced after it returns. */
  flushed(): Promise<void> | undefined {
    return undefined;
  }

  closeWrite(): void {
    if (this.#wroteEof || this.#closed) return;
    this.#wroteEof = true;
    this.peer.#deliver(null);
  }

  close(): void {
    if (this.#closed) return;
    this.#finish();
    if (!this.peer.#closed) this.peer.#deliver(null);
    this.peer.#finish();
  }

  #finish(): void {
    this.#closed = true;
    const p = this.#in;
    if (p.reader) {
      const r = p.reader;
      p.reader = p.readerFail = null;
      r(null);
    }
    this.#failWriters();
    this.peer.#failWriters();
    this.#resolveClosed();
  }

  /** Called on the receiving side. */
  #deliver(chunk: Uint8Array | null): Promise<void> | undefined {
    const p = this.#in;
    if (this.#closed) return undefined;
    if (chunk === null) p.eof = true;
    if (p.reader) {
      const r = p.reader;
      p.reader = p.readerFail = null;
      r(chunk);
      return undefined;
    }
    if (chunk === null) return undefined;
    p.chunks.push(chunk);
    p.queued += chunk.length;
    if (p.queued < HIGH_WATER) return undefined;
    return new Promise((resolve, reject) => this.peer.#blockedWriters.push({ resolve, reject }));
  }

  /** Blocked writers learn that the connection closed (the error is made only for them). */
  #failWriters(): void {
    if (this.#blockedWriters.length === 0) return;
    this.#releaseWriters(closedWhileSending());
  }

  #releaseWriters(error?: unknown): void {
    const waiters = this.#blockedWriters;
    this.#blockedWriters = [];
    for (const w of waiters) error ? w.reject(error) : w.resolve();
  }
}
