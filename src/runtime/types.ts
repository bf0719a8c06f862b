/**
 * The contract between the proxy and the runtime: byte connections, listening, connecting.
 * Everything that touches Deno.*, Bun.*, node:net or node:tls implements this in src/runtime/;
 * everything else uses only this file (and Web APIs).
 */

export interface Address {
  host: string;
  port: number;
}

/**
 * A bidirectional byte stream (a TCP connection, a TLS session, or an in-memory pipe in tests).
 * Reads are pulled, so a consumer that stops reading stops the peer (backpressure); writes report
 * a full send buffer by returning a promise to await before writing more.
 */
export interface Conn {
  readonly remote: Address;
  readonly local: Address;
  /** Next chunk received (owned by the caller), or null once the peer has sent FIN. */
  read(): Promise<Uint8Array | null>;
  /**
   * Queues bytes for sending. Returns undefined while there is room and a promise that resolves
   * when there is room again otherwise. Throws if the connection is already closed.
   */
  write(data: Uint8Array): Promise<void> | undefined;
  /** Queues several pieces as one batch (one system call where the runtime allows). */
  writev(chunks: readonly Uint8Array[]): Promise<void> | undefined;
  /**
   * Undefined when every byte written so far has been handed to the OS, otherwise a promise that
   * resolves then. After it, memory passed to write() may be reused.
   */
  flushed(): Promise<void> | undefined;
  /**
   * Optional: gives back a chunk returned by read() so that a later read() may fill the same
   * memory, instead of allocating (and leaving garbage for the GC: on Deno that is what keeps
   * memory flat during bulk transfers). Call it only when nothing refers to the chunk's bytes any
   * more: no view of it kept, every write of it flushed.
   */
  recycle?(chunk: Uint8Array): void;
  /** Sends FIN once queued bytes are out; reading continues. */
  closeWrite(): void;
  /** Closes both directions now; unsent bytes are dropped. Idempotent. */
  close(): void;
  /** True once closed in both directions (by either side) or after close(). */
  readonly isClosed: boolean;
  /** Resolves once the connection is closed. */
  readonly closed: Promise<void>;
}

export interface Listener {
  readonly address: Address;
  /** Stops accepting; existing connections are left alone. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Give up after this many milliseconds (a NetError with code "timeout"). */
  timeoutMs?: number;
}

export interface Network {
  listen(address: Address, onConn: (conn: Conn) => void): Promise<Listener>;
  /** Opens a TCP connection; rejects with a NetError. */
  connect(options: ConnectOptions): Promise<Conn>;
  /**
   * A host name's addresses, in the order to try them; rejects with a NetError ("dns"). Without
   * it (in-memory networks in tests), connect() is given the name.
   */
  resolve?(host: string): Promise<string[]>;
}

export type NetErrorCode =
  | "refused"
  | "dns"
  | "unreachable"
  | "timeout"
  | "reset"
  | "tls"
  | "tls-verify"
  | "closed"
  | "address-in-use"
  | "address-not-available"
  | "permission"
  | "other";

/** A network failure with a short, human explanation ("connection refused"). */
export class NetError extends Error {
  readonly code: NetErrorCode;
  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NetError";
    this.code = code;
  }
}
