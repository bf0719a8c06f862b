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
 * Only bun/ touches Bun.*; this file is loaded on every runtime but calls Bun only when used.
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
import { Gate, JOIN_LIMIT, joinInto, ReadQueue } from "../shared/conn_parts.ts";
import { resolveHost } from "../shared/resolve.ts";

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
  /** Upgrades the socket to TLS in place (Bun 1.4.5; see UpgradeTls). */
  upgradeTLS?: UpgradeTls;
}

/**
 * Bun 1.4.5's in-place TLS upgrade of an open socket (`isServer` and `initialData` are
 * undocumented): the raw and the TLS socket, or undefined when the socket is closed.
 */
export type UpgradeTls = (options: {
  isServer?: boolean;
  tls: {
    cert?: string;
    key?: string;
    ca?: string[];
    serverName?: string;
    rejectUnauthorized?: boolean;
    /** Protocol names in the TLS wire format (each prefixed by its length). */
    ALPNProtocols: Uint8Array;
  };
  socket: BunSocketHandler;
  data: unknown;
  /** Bytes already read from the socket (the ClientHello), handed to the engine first. */
  initialData?: Uint8Array;
}) => [BunSocket, BunSocket] | undefined;

/** What Bun calls on a socket; `socket.data` carries the Conn. */

export interface BunSocketHandler {
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
/**
 * Where pieces are joined before a write: one for the whole process, allocated on first use.
 * `socket.write()` copies what it takes before returning (the rest is copied out), so no write
 * holds on to it.
 */
let scratch: Uint8Array | null = null;

export class BunConn implements Conn {
  readonly #socket: BunSocket;
  readonly remote: Address;
  readonly local: Address;
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;
  readonly #input: ReadQueue;
  // Write side: bytes the kernel has not taken yet, oldest first.
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #finWanted = false;
  #finSent = false;
  /** Opens when #pendingBytes falls to WRITE_HIGH_WATER / 2. */
  readonly #drain = new Gate();
  /** Opens when #pending is empty. */
  readonly #flushed = new Gate();
  #error: NetError | null = null;
  #closed = false;
  /** Handed to Bun's TLS engine: the raw bytes Bun still reports here are not ours to read. */
  #handedOver = false;
  /** The Conn that took over the socket (TLS); closing this one closes it too. */
  #successor: Conn | null = null;

  /**
   * `sameEnds`: the Conn that had this socket before (TLS upgraded in place): its addresses are
   * this one's, without asking the kernel again (each property is a system call).
   */
  constructor(socket: BunSocket, sameEnds?: Conn) {
    this.#socket = socket;
    this.remote = sameEnds?.remote ??
      { host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    this.local = sameEnds?.local ??
      { host: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    this.#input = new ReadQueue(() => socket.pause(), () => socket.resume(), HIGH_WATER);
  }

  /**
   * Starting TLS in place, in Bun's own engine (bun/tls.ts): the capability the runtime's TLS asks
   * the Conn for, or undefined where this Bun's sockets cannot upgrade.
   */
  get upgradeTls(): UpgradeTls | undefined {
    const socket = this.#socket;
    if (typeof socket.upgradeTLS !== "function") return undefined;
    return (options) => socket.upgradeTLS!(options);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Gives up reading: returns the received bytes not read yet, and ignores what Bun reports from
   * now on (after a TLS upgrade Bun still shows this socket the encrypted bytes). Closing and
   * `closed` keep working, for the connection as a whole.
   */
  handOver(): Uint8Array[] {
    this.#handedOver = true;
    return this.#input.takeQueued();
  }

  /** After handOver(): the Conn now running over the socket, closed along with this one. */
  set successor(conn: Conn) {
    this.#successor = conn;
    conn.closed.then(() => this.close());
  }

  // --- handlers, called through HANDLERS ---

  onData(chunk: Uint8Array): void {
    if (!this.#handedOver) this.#input.push(chunk);
  }

  onEnd(): void {
    if (!this.#handedOver) this.#input.end();
  }

  onDrain(): void {
    if (this.#closed) return;
    this.#flushPending();
  }

  onError(error: unknown): void {
    this.#error ??= toNetError(error);
    this.#input.fail(this.#error);
    this.#drain.fail(this.#error);
  }

  onClose(error?: unknown): void {
    if (error !== undefined && error !== null) this.#error ??= toNetError(error);
    this.#finish();
  }

  // --- Conn ---

  read(): Promise<Uint8Array | null> {
    return this.#input.read();
  }

  write(data: Uint8Array): Promise<void> | undefined {
    this.#checkWritable();
    if (data.length === 0) return undefined;
    const idle = this.#pendingBytes === 0;
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    return this.#afterQueue(idle);
  }

  writev(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    this.#checkWritable();
    const idle = this.#pendingBytes === 0;
    for (const c of chunks) {
      if (c.length === 0) continue;
      this.#pending.push(c);
      this.#pendingBytes += c.length;
    }
    return this.#afterQueue(idle);
  }

  /** Writes what was queued unless a drain is awaited; asks the caller to wait when full. */
  #afterQueue(idle: boolean): Promise<void> | undefined {
    if (idle && !this.#flushPending()) {
      return Promise.reject(this.#error ?? closedWhileSending());
    }
    return this.#pendingBytes > WRITE_HIGH_WATER ? this.#drain.wait() : undefined;
  }

  flushed(): Promise<void> | undefined {
    if (this.#pendingBytes === 0 || this.#closed) return undefined;
    return this.#flushed.wait();
  }

  closeWrite(): void {
    if (this.#closed || this.#finWanted) return;
    this.#finWanted = true;
    if (this.#pendingBytes === 0) this.#sendFin();
  }

  close(): void {
    this.#successor?.close();
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

  /**
   * Writes queued bytes until the socket takes less than offered. Runs of small pieces (frame
   * headers, heads) go out joined in the shared scratch buffer: one system call, and one TLS
   * record rather than one per piece, without a new buffer per write. False: the socket is gone.
   */
  #flushPending(): boolean {
    const pending = this.#pending;
    while (pending.length > 0) {
      let count = 1;
      let total = pending[0].length;
      while (count < pending.length && total + pending[count].length <= JOIN_LIMIT) {
        total += pending[count++].length;
      }
      const joined = count > 1;
      const chunk = joined
        ? joinInto(pending, count, scratch ??= new Uint8Array(JOIN_LIMIT))
        : pending[0];
      const n = this.#socket.write(chunk);
      if (n < 0) {
        this.#error ??= closedWhileSending();
        this.#finish();
        return false;
      }
      this.#pendingBytes -= n;
      if (n < chunk.length) {
        // The rest waits for `drain`: copied out of the scratch buffer, which the next write reuses.
        pending.splice(0, count, joined ? chunk.slice(n) : chunk.subarray(n));
        break;
      }
      if (joined) pending.splice(0, count);
      else pending.shift();
    }
    if (this.#pendingBytes <= WRITE_HIGH_WATER / 2) this.#drain.open();
    if (this.#pendingBytes === 0) {
      this.#flushed.open();
      if (this.#finWanted) this.#sendFin();
    }
    return true;
  }

  #sendFin(): void {
    if (this.#finSent || this.#closed) return;
    this.#finSent = true;
    this.#socket.shutdown();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#error) this.#input.fail(this.#error);
    else this.#input.end();
    this.#drain.failWaiting(() => this.#error ?? closedWhileSending());
    this.#flushed.open(); // nothing queued will be written, nor referenced, any more
    this.#resolveClosed();
  }
}

/** One handler table for every socket; the Conn lives in `socket.data`. */
export const HANDLERS: BunSocketHandler = {
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
  resolve: resolveHost,

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
