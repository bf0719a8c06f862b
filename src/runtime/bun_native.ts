/**
 * Conn, Listener and Network over Bun's native sockets (Bun.listen / Bun.connect).
 *
 * Bun calls handlers (open, data, drain, end, close, error) instead of returning a stream, so this
 * file turns them into the pull-based Conn:
 * - Reading: `data` chunks (a fresh Buffer per call, checked on Bun 1.4.5) queue up until read();
 *   at HIGH_WATER queued bytes the socket is paused with `socket.pause()` (present on Bun 1.4.5
 *   sockets though thinly documented), so the kernel receive buffer fills and TCP flow control
 *   stops the peer; read() resumes it below HIGH_WATER / 2. Memory per connection is therefore
 *   bounded by HIGH_WATER plus one chunk.
 * - Writing: `socket.write()` returns how many bytes the kernel took (no buffering inside Bun for
 *   plain TCP). The rest is kept here and written from the `drain` handler; write() returns a
 *   promise while more than WRITE_HIGH_WATER bytes wait.
 * - Half-close: `socket.shutdown()` sends FIN and keeps reading (with `allowHalfOpen: true`);
 *   `socket.end()` closes both directions, so closeWrite() uses shutdown().
 * Only this file may touch Bun.*; it is loaded on every runtime but calls Bun only when used.
 */
import {
  type Address,
  type Conn,
  type ConnectOptions,
  type Listener,
  NetError,
  type Network,
} from "./types.ts";
import { toNetError } from "./net_errors.ts";

/** The part of Bun's TCP socket used here (see bun-types `Socket`). */
export interface BunSocket {
  data: BunConn | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Bytes written (the kernel took them), or -1 when the socket is closed. */
  write(data: Uint8Array): number;
  /** shutdown(2): without an argument, the write half (sends FIN). */
  shutdown(halfClose?: boolean): void;
  /** Closes the socket (both directions). */
  end(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
}

interface BunSocketHandler {
  open?(socket: BunSocket): void;
  data?(socket: BunSocket, data: Uint8Array): void;
  drain?(socket: BunSocket): void;
  end?(socket: BunSocket): void;
  close?(socket: BunSocket, error?: Error): void;
  error?(socket: BunSocket, error: Error): void;
  connectError?(socket: BunSocket, error: Error): void;
}

interface BunTcpListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}

declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen?: boolean;
    socket: BunSocketHandler;
  }): BunTcpListener;
  connect(options: {
    hostname: string;
    port: number;
    allowHalfOpen?: boolean;
    socket: BunSocketHandler;
  }): Promise<BunSocket>;
};

/** Received bytes queued before the socket is paused. */
const HIGH_WATER = 256 * 1024;
/** Unsent bytes kept here before write() asks the caller to wait. */
const WRITE_HIGH_WATER = 64 * 1024;
/** writev() joins batches up to this size into one buffer (one system call). */
const JOIN_LIMIT = 16 * 1024;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export class BunConn implements Conn {
  readonly #socket: BunSocket;
  readonly remote: Address;
  readonly local: Address;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  // Read side.
  #queue: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #eof = false;
  #reader: Waiter<Uint8Array | null> | null = null;
  // Write side: bytes the kernel has not taken yet, oldest first.
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #finWanted = false;
  #finSent = false;
  #drain: Promise<void> | null = null;
  /** flushed() callers waiting for #pending to empty. */
  #flushWaiters: Array<() => void> = [];
  #drainWaiter: Waiter<void> | null = null;
  // Both.
  #error: NetError | null = null;
  #closed = false;

  constructor(socket: BunSocket) {
    this.#socket = socket;
    this.remote = { host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    this.local = { host: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  /** The underlying Bun socket, for runtime code that upgrades it (TLS). */
  get socket(): BunSocket {
    return this.#socket;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  // --- handlers, called through BUN_HANDLERS ---

  onData(chunk: Uint8Array): void {
    const reader = this.#reader;
    if (reader !== null && this.#queue.length === 0) {
      this.#reader = null;
      reader.resolve(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (this.#queued >= HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  onEnd(): void {
    this.#eof = true;
    this.#wakeReader();
  }

  onDrain(): void {
    if (this.#closed) return;
    this.#flushPending();
  }

  onError(error: unknown): void {
    this.#error ??= toNetError(error);
    this.#wakeReader();
    this.#wakeDrain();
  }

  onClose(error?: unknown): void {
    if (error !== undefined && error !== null) this.#error ??= toNetError(error);
    this.#finish();
  }

  // --- Conn ---

  read(): Promise<Uint8Array | null> {
    if (this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      this.#queued -= chunk.length;
      if (this.#paused && this.#queued < HIGH_WATER / 2) {
        this.#paused = false;
        if (!this.#closed) this.#socket.resume();
      }
      return Promise.resolve(chunk);
    }
    if (this.#error) return Promise.reject(this.#error);
    if (this.#eof || this.#closed) return Promise.resolve(null);
    if (this.#reader !== null) return Promise.reject(new Error("read() called concurrently"));
    return new Promise((resolve, reject) => (this.#reader = { resolve, reject }));
  }

  write(data: Uint8Array): Promise<void> | undefined {
    this.#checkWritable();
    if (data.length === 0) return undefined;
    if (this.#pendingBytes === 0) {
      const n = this.#socket.write(data);
      if (n === data.length) return undefined;
      if (n < 0) return this.#lost();
      data = data.subarray(n);
    }
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    return this.#pendingBytes > WRITE_HIGH_WATER ? this.#waitDrain() : undefined;
  }

  writev(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    if (chunks.length === 1) return this.write(chunks[0]);
    let total = 0;
    for (const c of chunks) total += c.length;
    if (total <= JOIN_LIMIT) {
      const joined = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        joined.set(c, o);
        o += c.length;
      }
      return this.write(joined);
    }
    let wait: Promise<void> | undefined;
    for (const c of chunks) wait = this.write(c) ?? wait;
    return wait;
  }

  flushed(): Promise<void> | undefined {
    if (this.#pendingBytes === 0 || this.#closed) return undefined;
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
  }

  closeWrite(): void {
    if (this.#closed || this.#finWanted) return;
    this.#finWanted = true;
    if (this.#pendingBytes === 0) this.#sendFin();
  }

  close(): void {
    if (this.#closed) return;
    this.#socket.end();
    // Bun calls the close handler synchronously or soon after; don't depend on it.
    this.#finish();
  }

  // --- internals ---

  #checkWritable(): void {
    if (this.#closed) throw this.#error ?? new NetError("closed", "connection is closed");
    if (this.#finWanted) throw new NetError("closed", "connection is closed for writing");
  }

  /** write() saw -1: the socket went away between handler calls. */
  #lost(): Promise<void> {
    const error = this.#error ?? new NetError("closed", "connection closed while sending");
    this.#finish();
    return Promise.reject(error);
  }

  #flushPending(): void {
    const pending = this.#pending;
    while (pending.length > 0) {
      const chunk = pending[0];
      const n = this.#socket.write(chunk);
      if (n < 0) {
        this.#error ??= new NetError("closed", "connection closed while sending");
        this.#finish();
        return;
      }
      this.#pendingBytes -= n;
      if (n < chunk.length) {
        pending[0] = chunk.subarray(n);
        break;
      }
      pending.shift();
    }
    if (this.#pendingBytes <= WRITE_HIGH_WATER / 2) this.#wakeDrain();
    if (this.#pendingBytes === 0) this.#wakeFlushed();
    if (this.#pendingBytes === 0 && this.#finWanted) this.#sendFin();
  }

  #sendFin(): void {
    if (this.#finSent || this.#closed) return;
    this.#finSent = true;
    this.#socket.shutdown();
  }

  #wakeFlushed(): void {
    const waiters = this.#flushWaiters;
    if (waiters.length === 0) return;
    this.#flushWaiters = [];
    for (const w of waiters) w();
  }

  #wakeReader(): void {
    const reader = this.#reader;
    if (reader === null) return;
    this.#reader = null;
    if (this.#error) reader.reject(this.#error);
    else reader.resolve(null);
  }

  #waitDrain(): Promise<void> {
    if (this.#drain === null) {
      this.#drain = new Promise<void>((resolve, reject) => {
        this.#drainWaiter = { resolve, reject };
      });
    }
    return this.#drain;
  }

  #wakeDrain(): void {
    const waiter = this.#drainWaiter;
    if (waiter === null) return;
    this.#drainWaiter = null;
    this.#drain = null;
    if (this.#closed || this.#error) {
      waiter.reject(this.#error ?? new NetError("closed", "connection closed while sending"));
    } else waiter.resolve();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#wakeReader();
    this.#wakeDrain();
    this.#wakeFlushed(); // nothing queued will be written, nor referenced, any more
    this.#resolveClosed();
  }
}

/** One handler table for every socket; the Conn lives in `socket.data`. */
const HANDLERS: BunSocketHandler = {
  open(socket) {
    socket.setNoDelay(true);
    socket.data = new BunConn(socket);
  },
  data(socket, data) {
    socket.data?.onData(data);
  },
  drain(socket) {
    socket.data?.onDrain();
  },
  end(socket) {
    socket.data?.onEnd();
  },
  error(socket, error) {
    socket.data?.onError(error);
  },
  close(socket, error) {
    socket.data?.onClose(error);
  },
};

export const bunNetwork: Network = {
  listen(address: Address, onConn: (conn: Conn) => void): Promise<Listener> {
    let server: BunTcpListener;
    try {
      server = Bun.listen({
        hostname: address.host,
        port: address.port,
        allowHalfOpen: true,
        socket: {
          ...HANDLERS,
          open(socket) {
            HANDLERS.open!(socket);
            onConn(socket.data!);
          },
        },
      });
    } catch (e) {
      return Promise.reject(toNetError(e));
    }
    return Promise.resolve({
      address: { host: server.hostname, port: server.port },
      close() {
        server.stop(false);
        return Promise.resolve();
      },
    });
  },

  connect(options: ConnectOptions): Promise<Conn> {
    const connecting = Bun.connect({
      hostname: options.host,
      port: options.port,
      allowHalfOpen: true,
      socket: { ...HANDLERS, connectError() {} },
    });
    const opened = connecting.then(
      (socket) => socket.data!,
      (e) => Promise.reject(toNetError(e)),
    );
    const ms = options.timeoutMs;
    if (ms === undefined) return opened;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new NetError("timeout", `timed out after ${ms} ms`));
      }, ms);
      opened.then(
        (conn) => {
          clearTimeout(timer);
          if (timedOut) conn.close();
          else resolve(conn);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  },
};
