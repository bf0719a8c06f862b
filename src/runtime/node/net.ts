/**
 * Conn, Listener and Network over node:net: the fallback on every runtime and what Node uses. Deno
 * and Bun default to their native sockets, which measured faster there (docs/RUNTIME.md). A
 * SocketConn can hand its socket to node:tls (handOverSocket), so TLS over it needs no adapter.
 */
import net from "node:net";
import type { Writable } from "node:stream";
import {
  type Address,
  type Conn,
  type ConnectOptions,
  type Listener,
  NetError,
  type Network,
} from "../types.ts";
import { closedWhileSending, toNetError } from "../shared/net_errors.ts";
import { Gate, JOIN_LIMIT, joinChunks, ReadQueue } from "../shared/conn_parts.ts";
import { resolveHost } from "../shared/resolve.ts";
import type { MeteredTransport } from "../shared/conn_duplex.ts";

/** Bytes buffered before the socket is paused (pull-based backpressure). */
const HIGH_WATER = 256 * 1024;

export class SocketConn implements Conn {
  readonly #socket: net.Socket;
  readonly remote: Address;
  readonly local: Address;
  readonly closed: Promise<void>;
  readonly #input: ReadQueue;
  readonly #drain = new Gate();
  #closed = false;
  /** Writes handed to the socket whose callback has not run yet (see flushed()). */
  #unwritten = 0;
  /** flushed() callers, told when #unwritten comes down to 0. */
  #flushWaiters: (() => void)[] = [];
  /** One callback for every write: node:net runs write callbacks in order. */
  readonly #written = () => {
    if (--this.#unwritten > 0 || this.#flushWaiters.length === 0) return;
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const resolve of waiters) resolve();
  };

  // deno-lint-ignore no-explicit-any
  readonly #handlers: Array<[string, (...args: any[]) => void]>;

  /** The stream a TLS socket runs over, when it is not a net.Socket (see #transportFull). */
  readonly #transport: Writable | null;

  /**
   * `addresses` stands in for the socket's own when it has none (TLS over a stream);
   * `transport` is that stream.
   */
  constructor(
    socket: net.Socket,
    addresses?: { remote: Address; local: Address },
    transport?: Writable,
  ) {
    this.#socket = socket;
    this.#transport = transport ?? null;
    this.remote = addresses?.remote ??
      { host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    this.local = addresses?.local ??
      { host: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    const metered = transport !== undefined && "delivered" in transport
      ? transport as MeteredTransport
      : null;
    this.#input = new ReadQueue(
      () => socket.pause(),
      () => socket.resume(),
      HIGH_WATER,
      metered ? (bytes) => metered.delivered(bytes) : undefined,
    );
    let resolveClosed!: () => void;
    this.closed = new Promise((r) => (resolveClosed = r));
    this.#handlers = [
      ["data", (chunk: Uint8Array) => this.#input.push(chunk)],
      ["end", () => this.#input.end()],
      ["error", (e: Error) => {
        const error = toNetError(e);
        this.#input.fail(error);
        this.#drain.fail(error);
      }],
      ["close", () => {
        this.#closed = true;
        // Writes that never went: nothing more will, so no one waits for them.
        for (const resolve of this.#flushWaiters.splice(0)) resolve();
        this.#input.end();
        this.#drain.failWaiting(() => this.#input.error ?? closedWhileSending());
        resolveClosed();
      }],
      ["drain", () => this.#drain.open()],
      // After end() node:net emits no "drain", only "finish" once everything is written.
      ["finish", () => this.#drain.open()],
    ];
    for (const [event, handler] of this.#handlers) socket.on(event, handler);
  }

  /**
   * Hands the socket over (to node:tls, node/tls.ts: TLS at the socket level, the capability it
   * looks for): stops listening to it, pauses it, and puts `leftover` and any chunks received but
   * not yet read back in front of its input. This Conn is unusable afterwards.
   */
  handOverSocket(leftover: Uint8Array): net.Socket {
    const socket = this.#socket;
    for (const [event, handler] of this.#handlers) socket.off(event, handler);
    socket.pause();
    const unread = this.#input.takeQueued();
    // unshift() puts a chunk in front, so the last one goes first.
    for (let i = unread.length - 1; i >= 0; i--) socket.unshift(unread[i]);
    if (leftover.length > 0) socket.unshift(leftover);
    this.#closed = true;
    return socket;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  read(): Promise<Uint8Array | null> {
    return this.#input.read();
  }

  write(data: Uint8Array): Promise<void> | undefined {
    this.#checkWritable();
    this.#unwritten++;
    if (!this.#socket.write(data, this.#written)) return this.#drain.wait();
    return this.#transportFull();
  }

  /**
   * Bun's TLS hands encrypted bytes to a stream transport without heeding its write() result, so
   * the TLS socket never looks full while the transport's buffer grows (36 MB seen in a 1 GiB
   * download): wait for the transport to drain as well.
   */
  #transportFull(): Promise<void> | undefined {
    const t = this.#transport;
    if (t === null || !t.writableNeedDrain) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        t.off("drain", done);
        t.off("close", done);
        resolve();
      };
      t.on("drain", done);
      t.on("close", done);
    });
  }

  writev(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    if (chunks.length === 1) return this.write(chunks[0]);
    this.#checkWritable();
    const socket = this.#socket;
    socket.cork();
    let ok = true;
    // Runs of pieces up to JOIN_LIMIT go as one buffer: over TLS each write may be its own
    // record, and an HTTP/2 DATA frame comes as a 9-byte header and its payload.
    for (let i = 0; i < chunks.length;) {
      let end = i + 1;
      let total = chunks[i].length;
      while (end < chunks.length && total + chunks[end].length <= JOIN_LIMIT) {
        total += chunks[end++].length;
      }
      const piece = end - i === 1 ? chunks[i] : joinChunks(chunks.slice(i, end), total);
      this.#unwritten++;
      ok = socket.write(piece, this.#written) && ok;
      i = end;
    }
    socket.uncork();
    return ok ? this.#transportFull() : this.#drain.wait();
  }

  #checkWritable(): void {
    if (this.#closed || this.#socket.destroyed) {
      throw this.#input.error ?? new NetError("closed", "connection is closed");
    }
  }

  flushed(): Promise<void> | undefined {
    const socket = this.#socket;
    if (socket.writableLength === 0 || this.#closed) return undefined;
    if (socket.writableEnded) {
      return new Promise((resolve) => {
        socket.once("finish", resolve);
        socket.once("close", resolve);
      });
    }
    // Not an empty write to wait on: Deno's node:tls fails a lone zero-length write with EPERM
    // (which ended an upload to a TLS origin once a read buffer waited for its bytes to go).
    if (this.#unwritten === 0) return undefined;
    return new Promise((resolve) => this.#flushWaiters.push(resolve));
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
  resolve: resolveHost,

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
