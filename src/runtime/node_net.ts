/**
 * Conn, Listener and Network over node:net: the fallback on every runtime and what Node uses. Deno
 * and Bun default to their native sockets, which measured faster there (docs/RUNTIME.md); node:net
 * stays the route to node:tls server-side TLS on Deno.
 */
import net from "node:net";
import {
  type Address,
  type Conn,
  type ConnectOptions,
  type Listener,
  NetError,
  type Network,
} from "./types.ts";
import { toNetError } from "./net_errors.ts";

/** Bytes buffered before the socket is paused (pull-based backpressure). */
const HIGH_WATER = 256 * 1024;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export class SocketConn implements Conn {
  readonly #socket: net.Socket;
  readonly remote: Address;
  readonly local: Address;
  readonly closed: Promise<void>;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #eof = false;
  #error: Error | null = null;
  #closed = false;
  #reader: Waiter<Uint8Array | null> | null = null;
  #drain: Promise<void> | null = null;
  #drainWaiter: Waiter<void> | null = null;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    this.remote = { host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    this.local = { host: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => {
      this.#eof = true;
      this.#wakeReader();
    });
    socket.on("error", (e: Error) => {
      this.#error ??= toNetError(e);
      this.#wakeReader();
      this.#wakeDrain();
    });
    socket.on("close", () => {
      this.#closed = true;
      this.#wakeReader();
      this.#wakeDrain();
      resolveClosed();
    });
    socket.on("drain", () => this.#wakeDrain());
    // After end() node:net emits no "drain", only "finish" once everything is written.
    socket.on("finish", () => this.#wakeDrain());
  }

  /** The underlying socket, for runtime code that upgrades it (TLS). */
  get socket(): net.Socket {
    return this.#socket;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #onData(chunk: Uint8Array): void {
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

  #wakeReader(): void {
    const reader = this.#reader;
    if (reader === null) return;
    this.#reader = null;
    if (this.#error) reader.reject(this.#error);
    else reader.resolve(null);
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

  read(): Promise<Uint8Array | null> {
    if (this.#queue.length > 0) {
      const chunk = this.#queue.shift()!;
      this.#queued -= chunk.length;
      if (this.#paused && this.#queued < HIGH_WATER / 2) {
        this.#paused = false;
        this.#socket.resume();
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
    if (this.#socket.write(data)) return undefined;
    return this.#waitDrain();
  }

  writev(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    if (chunks.length === 1) return this.write(chunks[0]);
    this.#checkWritable();
    const socket = this.#socket;
    let total = 0;
    for (const c of chunks) total += c.length;
    // Small batches are cheaper copied into one buffer than corked (one syscall either way).
    if (total <= 16 * 1024) {
      const joined = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        joined.set(c, o);
        o += c.length;
      }
      return socket.write(joined) ? undefined : this.#waitDrain();
    }
    socket.cork();
    let ok = true;
    for (const c of chunks) ok = socket.write(c) && ok;
    socket.uncork();
    return ok ? undefined : this.#waitDrain();
  }

  #checkWritable(): void {
    if (this.#closed || this.#socket.destroyed) {
      throw this.#error ?? new NetError("closed", "connection is closed");
    }
  }

  #waitDrain(): Promise<void> {
    if (this.#drain === null) {
      this.#drain = new Promise<void>((resolve, reject) => {
        this.#drainWaiter = { resolve, reject };
      });
    }
    return this.#drain;
  }

  flushed(): Promise<void> | undefined {
    const socket = this.#socket;
    if (socket.writableLength === 0 || this.#closed) return undefined;
    // The callback of an empty write runs once everything queued before it has been written.
    return new Promise((resolve) => socket.write(new Uint8Array(0), () => resolve()));
  }

  closeWrite(): void {
    if (!this.#closed) this.#socket.end();
  }

  close(): void {
    if (this.#socket.destroyed) return;
    this.#socket.destroy();
  }
}

function prepare(socket: net.Socket): SocketConn {
  socket.setNoDelay(true);
  return new SocketConn(socket);
}

export const nodeNetwork: Network = {
  listen(address: Address, onConn: (conn: Conn) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true }, (socket) => onConn(prepare(socket)));
      server.once("error", (e) => reject(toNetError(e)));
      server.listen({ host: address.host, port: address.port }, () => {
        const a = server.address() as net.AddressInfo;
        resolve({
          address: { host: a.address, port: a.port },
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      });
    });
  },

  connect(options: ConnectOptions): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: options.host, port: options.port, allowHalfOpen: true });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(toNetError(e));
      };
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(
          () => fail(new NetError("timeout", `timed out after ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
      }
      socket.once("error", fail);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", fail);
        resolve(prepare(socket));
      });
    });
  },
};
