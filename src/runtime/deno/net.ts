/**
 * Conn, Listener and Network over Deno's native TCP API (Deno.listen / Deno.connect).
 *
 * Deno.Conn is already pull-based: `conn.read(buffer)` resolves with what the kernel had, and
 * nothing is read while nobody asks, so backpressure toward the peer is TCP flow control itself.
 * Each read() here reads into a buffer that grows from 16 KiB to 256 KiB while reads fill it (bulk
 * transfers: fewer, bigger operations) and shrinks back when they don't; a mostly full buffer is
 * handed over as is (no copy), a small read is copied out so the buffer can be reused.
 * `conn.write(bytes)` is an asynchronous operation that may write part of the bytes; write() queues
 * the bytes, one loop per connection writes the queue (joining small pieces), and write() returns a
 * promise while more than WRITE_HIGH_WATER bytes wait.
 * closeWrite() sends FIN (shutdown(2)) after the queue is written; the connection counts as closed
 * once FIN went both ways, or on an error, or after close().
 * Only deno/ touches Deno.*; this file is loaded on every runtime but calls Deno only when used.
 */
import {
  type Address,
  type Conn,
  type ConnectOptions,
  type Listener,
  NetError,
  type Network,
} from "../types.ts";
import { closedWhileSending, toNetError } from "../shared/net_errors.ts";
import { Gate, JOIN_LIMIT, joinInto } from "../shared/conn_parts.ts";
import { resolveHost } from "../shared/resolve.ts";

/** Size of the buffer read() fills: starts small, doubles while reads fill it, up to MAX. */
const MIN_READ_SIZE = 16 * 1024;
const MAX_READ_SIZE = 256 * 1024;
/** Unsent bytes queued before write() asks the caller to wait. */
const WRITE_HIGH_WATER = 256 * 1024;
/** Runs at least this big are joined into the connection's reused buffer (see #takeBatch). */
const JOIN_REUSE_FROM = 16 * 1024;

/** Deno's errors carry `code` for most OS errors but not for every case; fill it in, then map. */
function denoNetError(e: unknown): NetError {
  if (e instanceof NetError) return e;
  const err = e as { code?: string; name?: string; message?: string };
  if (err?.code) return toNetError(e);
  let code = "";
  const message = err?.message ?? "";
  switch (err?.name) {
    case "ConnectionRefused":
      code = "ECONNREFUSED";
      break;
    case "ConnectionReset":
      code = "ECONNRESET";
      break;
    case "ConnectionAborted":
      code = "ECONNABORTED";
      break;
    case "BrokenPipe":
      code = "EPIPE";
      break;
    case "TimedOut":
      code = "ETIMEDOUT";
      break;
    case "AddrInUse":
      code = "EADDRINUSE";
      break;
    case "AddrNotAvailable":
      code = "EADDRNOTAVAIL";
      break;
    case "PermissionDenied":
    case "NotCapable":
      code = "EACCES";
      break;
    default:
      if (/lookup address|name or service not known|no address associated/i.test(message)) {
        code = "ENOTFOUND";
      }
  }
  if (code === "") return toNetError(e);
  return toNetError(Object.assign(new Error(message, { cause: e }), { code }));
}

export class DenoConn implements Conn {
  readonly #conn: Deno.TcpConn;
  readonly remote: Address;
  readonly local: Address;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  // Read side.
  #buf: Uint8Array | null = null;
  /** The last buffer handed over whole by read(), the only one recycle() accepts. */
  #handedOver: ArrayBuffer | null = null;
  /** A handed-over buffer given back by recycle(), to be filled by the next read. */
  #spare: Uint8Array | null = null;
  #readSize = MIN_READ_SIZE;
  #reading = false;
  #eof = false;
  // Write side.
  #queue: Uint8Array[] = [];
  /** Where #takeBatch joins small pieces (one per connection, made on first use). */
  #joinBuffer: Uint8Array | null = null;
  #queued = 0;
  #writing = false;
  #finWanted = false;
  #finSent = false;
  /** Opens when the queue falls to WRITE_HIGH_WATER / 2. */
  readonly #drain = new Gate();
  /** Opens when the queue is empty and nothing is being written. */
  readonly #flushed = new Gate();
  // Both.
  #error: NetError | null = null;
  #closed = false;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    const r = conn.remoteAddr;
    const l = conn.localAddr;
    this.remote = { host: r.hostname, port: r.port };
    this.local = { host: l.hostname, port: l.port };
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
  }

  /** The underlying connection, for runtime code that upgrades it (Deno.startTls to an origin). */
  get tcpConn(): Deno.TcpConn {
    return this.#conn;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#eof || this.#closed) return Promise.resolve(null);
    if (this.#reading) return Promise.reject(new Error("read() called concurrently"));
    return this.#read();
  }

  async #read(): Promise<Uint8Array | null> {
    this.#reading = true;
    try {
      for (;;) {
        const size = this.#readSize;
        let buf = this.#buf;
        if (buf === null || buf.length !== size) {
          const spare = this.#spare;
          this.#spare = null;
          buf = this.#buf = spare !== null && spare.length === size ? spare : new Uint8Array(size);
        }
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.#eof = true;
          this.#buf = null;
          if (this.#finSent) this.#finish();
          return null;
        }
        if (n === 0) continue;
        // Bulk transfers get bigger reads (fewer operations); chatty ones keep a small buffer.
        if (n === size && size < MAX_READ_SIZE) this.#readSize = size * 2;
        else if (n < size / 8 && size > MIN_READ_SIZE) this.#readSize = size / 2;
        if (n >= size / 2) {
          // Mostly full: hand the buffer over instead of copying (recycle() may give it back).
          this.#buf = null;
          this.#handedOver = buf.buffer as ArrayBuffer;
          return buf.subarray(0, n);
        }
        return buf.slice(0, n);
      }
    } catch (e) {
      if (this.#closed && this.#error === null) return null;
      this.#fail(e);
      throw this.#error;
    } finally {
      this.#reading = false;
    }
  }

  recycle(chunk: Uint8Array): void {
    const buffer = chunk.buffer;
    if (buffer !== this.#handedOver || chunk.byteOffset !== 0) return;
    this.#handedOver = null;
    this.#spare = new Uint8Array(buffer as ArrayBuffer);
  }

  flushed(): Promise<void> | undefined {
    if ((!this.#writing && this.#queue.length === 0) || this.#closed) return undefined;
    return this.#flushed.wait();
  }

  write(data: Uint8Array): Promise<void> | undefined {
    this.#checkWritable();
    if (data.length === 0) return undefined;
    this.#queue.push(data);
    this.#queued += data.length;
    return this.#afterQueue();
  }

  writev(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    this.#checkWritable();
    // Queue every piece before writing starts, so that the write loop joins them into one write.
    for (const c of chunks) {
      if (c.length === 0) continue;
      this.#queue.push(c);
      this.#queued += c.length;
    }
    return this.#afterQueue();
  }

  #checkWritable(): void {
    if (this.#closed) throw this.#error ?? new NetError("closed", "connection is closed");
    if (this.#finWanted) throw new NetError("closed", "connection is closed for writing");
  }

  #afterQueue(): Promise<void> | undefined {
    if (!this.#writing && this.#queue.length > 0) this.#writeLoop();
    return this.#queued > WRITE_HIGH_WATER ? this.#drain.wait() : undefined;
  }

  closeWrite(): void {
    if (this.#closed || this.#finWanted) return;
    this.#finWanted = true;
    if (!this.#writing) this.#writeLoop();
  }

  close(): void {
    if (this.#closed) return;
    this.#finish();
  }

  /** Writes the queue until it is empty, then sends FIN if asked. One loop per connection. */
  async #writeLoop(): Promise<void> {
    this.#writing = true;
    const conn = this.#conn;
    try {
      while (this.#queue.length > 0) {
        const chunk = this.#takeBatch();
        let off = 0;
        while (off < chunk.length) {
          off += await conn.write(off === 0 ? chunk : chunk.subarray(off));
          if (this.#closed) return;
        }
        this.#queued -= chunk.length;
        if (this.#queued <= WRITE_HIGH_WATER / 2) this.#drain.open();
      }
      this.#writing = false;
      this.#flushed.open();
      if (this.#finWanted && !this.#finSent) {
        this.#finSent = true;
        await conn.closeWrite();
        if (this.#eof) this.#finish();
      }
    } catch (e) {
      if (!this.#closed) this.#fail(e);
    } finally {
      this.#writing = false;
    }
  }

  /** The next piece to write: the first queued chunk, joined with the following small ones. */
  #takeBatch(): Uint8Array {
    const q = this.#queue;
    const first = q[0];
    let count = 1;
    let total = first.length;
    while (count < q.length && total + q[count].length <= JOIN_LIMIT) total += q[count++].length;
    if (count === 1) {
      q.shift();
      return first;
    }
    // A big run (HTTP/2 DATA frames and their headers in a transfer) is joined into this
    // connection's own buffer: the write loop waits for each write before it takes the next
    // batch, so the buffer is free again by then (a new 64 KiB per batch was garbage the collector
    // was slow to return). A small run gets a buffer of its own, so that a connection that never
    // moves much (an idle HTTP/2 one after its SETTINGS) keeps no 64 KiB.
    const into = total < JOIN_REUSE_FROM
      ? new Uint8Array(total)
      : (this.#joinBuffer ??= new Uint8Array(JOIN_LIMIT));
    const joined = joinInto(q, count, into);
    q.splice(0, count);
    return joined;
  }

  #fail(e: unknown): void {
    this.#error ??= denoNetError(e);
    this.#finish();
  }

  /** Closes the resource once; a pending read resolves null (or rejects with #error). */
  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#drain.failWaiting(() => this.#error ?? closedWhileSending());
    this.#flushed.open(); // nothing queued will be written, nor referenced, any more
    this.#resolveClosed();
  }
}

function prepare(conn: Deno.TcpConn): DenoConn {
  try {
    conn.setNoDelay(true);
  } catch { /* closed already; the first read reports it */ }
  return new DenoConn(conn);
}

export const denoNetwork: Network = {
  resolve: resolveHost,

  listen(address: Address, onConn: (conn: Conn) => void): Promise<Listener> {
    let listener: Deno.TcpListener;
    try {
      listener = Deno.listen({ hostname: address.host, port: address.port, transport: "tcp" });
    } catch (e) {
      return Promise.reject(denoNetError(e));
    }
    let stopped = false;
    const accepting = (async () => {
      while (!stopped) {
        let conn: Deno.TcpConn;
        try {
          conn = await listener.accept();
        } catch (e) {
          if (stopped || e instanceof Deno.errors.BadResource) return;
          // EMFILE and the like: wait a little instead of spinning.
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        onConn(prepare(conn));
      }
    })();
    const a = listener.addr;
    return Promise.resolve({
      address: { host: a.hostname, port: a.port },
      async close() {
        if (stopped) return;
        stopped = true;
        try {
          listener.close();
        } catch { /* closed already */ }
        await accepting;
      },
    });
  },

  async connect(options: ConnectOptions): Promise<Conn> {
    const ms = options.timeoutMs;
    // Not AbortSignal.timeout(): Deno would close the connection when it fires after connecting.
    const abort = ms === undefined ? undefined : new AbortController();
    const timer = abort && setTimeout(() => abort.abort(), ms);
    try {
      const conn = await Deno.connect({
        hostname: options.host,
        port: options.port,
        transport: "tcp",
        signal: abort?.signal,
      });
      return prepare(conn);
    } catch (e) {
      if (abort?.signal.aborted) {
        throw new NetError("timeout", `timed out after ${ms} ms`, { cause: e });
      }
      throw denoNetError(e);
    } finally {
      clearTimeout(timer);
    }
  },
};
