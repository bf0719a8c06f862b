/**
 * The contract between the proxy and the runtime: byte connections, listening, connecting, TLS on
 * a connection, and the rest a runtime provides (`Runtime`: HTTP serving, SQLite, FFI, workers).
 * Everything that touches Deno.*, Bun.*, node:net or node:tls implements this in src/runtime/
 * (one folder per runtime, bun/ deno/ node/, with the same files in each; shared/ for what does
 * not depend on the runtime); everything else uses only this file, mod.ts (and Web APIs).
 */

export interface Address {
  host: string;
  port: number;
}

/**
 * A bidirectional byte stream (a TCP connection, a TLS session, or an in-memory pipe in tests).
 * Reads are pulled, so a consumer that stops reading stops the peer (backpressure); writes report
 * a full send buffer by returning a promise to await before writing more. An implementation may
 * offer more than this contract, such as a way to start TLS on its socket (see RuntimeTls): such
 * capabilities are looked up by name, never by the Conn's class.
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

// --- TLS on a connection --------------------------------------------------------------------

export interface ServerIdentity {
  certPem: string;
  keyPem: string;
}

export interface TlsServerOptions {
  identity: ServerIdentity;
  /** ALPN protocols we accept, in preference order. */
  alpn: string[];
  timeoutMs: number;
  /** NSS key-log lines (Bun reports them; Deno's node:tls does not). */
  onKeylog?: (line: Uint8Array) => void;
  /**
   * A read of the connection already started (by whoever read it before TLS): its bytes are
   * the handshake's. Upgraded in place, the socket's reader is handed over (the read gets an
   * empty chunk); otherwise TLS reads it first.
   */
  firstRead?: Promise<Uint8Array | null> | null;
}

export interface TlsSession {
  conn: Conn;
  /** The negotiated ALPN protocol, or null. */
  alpn: string | null;
  /** "TLSv1.3" and the like. */
  version: string | null;
}

export interface TlsClientOptions {
  /** The connection to run TLS over (already connected to the origin). */
  transport: Conn;
  /** The origin's host, for the name check when there is no SNI. */
  host: string;
  /** SNI to send; null for none, which node:tls honours only when `host` is an IP address. */
  servername: string | null;
  alpn: string[];
  /** Check the certificate chain and host name; on failure reject with code "tls-verify". */
  verify: boolean;
  /** Extra PEM CA certificates to trust, added to the runtime's default trust. */
  extraCa?: string[];
  timeoutMs: number;
  onKeylog?: (line: Uint8Array) => void;
  /** As in TlsServerOptions. */
  firstRead?: Promise<Uint8Array | null> | null;
}

export interface PeerCertificate {
  /** Subject CN, or null. */
  commonName: string | null;
  /** DNS names and IP addresses from subjectAltName. */
  altNames: string[];
  der: Uint8Array;
}

/** One certificate of an origin's chain, summarised for flows (shared/cert_chain.ts). */
export interface CertificateSummary {
  /** Distinguished name, "CN=example.com, O=Example" (as the certificate lists it). */
  subject: string;
  issuer: string;
  /** Validity, as ISO 8601 UTC times (null when the runtime did not report them). */
  notBefore: string | null;
  notAfter: string | null;
  /** SHA-256 of the DER encoding, lowercase hex. */
  sha256: string;
  /** DNS names and IP addresses from subjectAltName. */
  altNames: string[];
}

export interface TlsClientSession extends TlsSession {
  certificate: PeerCertificate | null;
  /** The origin's chain, leaf first (read once per connection). */
  chain: CertificateSummary[];
  /** The negotiated cipher suite ("TLS_AES_128_GCM_SHA256"), or null. */
  cipher: string | null;
  /** Why the chain or name does not verify (also set when verification is off), or null. */
  verifyError: string | null;
}

/**
 * Starting TLS on a connection, both ends of the proxy. Which engine runs it is the runtime's
 * business, asked of the Conn's capabilities and never of its class: a Conn that can be upgraded
 * in place by its runtime's own engine (Bun's sockets: `upgradeTls`) is, unless key logging is
 * wanted (only node:tls reports keys); a node:net socket hands itself to node:tls
 * (`handOverSocket`); any other Conn (Deno's sockets, in-memory pipes) gets node:tls over a
 * stream adapter.
 */
export interface RuntimeTls {
  /**
   * Completes a server-side TLS handshake on `conn` (the proxy impersonating an origin to its
   * client after CONNECT), whose first bytes (`leftover`, the ClientHello) were already read.
   * Rejects with a NetError if the client gives up (for instance because it does not trust our
   * certificate) or the handshake times out.
   */
  accept(conn: Conn, leftover: Uint8Array, options: TlsServerOptions): Promise<TlsSession>;
  /**
   * Runs a client-side TLS handshake with an origin over `options.transport`, with verification
   * done here so that a failure can be reported in words instead of a dropped connection.
   */
  connect(options: TlsClientOptions): Promise<TlsClientSession>;
}

// --- The rest of what a runtime provides ----------------------------------------------------

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface HttpServer {
  readonly address: Address;
  /** Stops listening and closes every connection, open streams included. */
  close(): Promise<void>;
}

export type SqlValue = number | bigint | string | null | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number | bigint };
  /** The first row, or undefined. */
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
}

export interface SqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

/** int f(int fd, [int level, int name,] void *buf, socklen_t *len) returning 0 or -1. */
export interface SocketCalls {
  getsockopt(fd: number, level: number, name: number, buf: Uint8Array, len: Uint8Array): number;
  getsockname(fd: number, buf: Uint8Array, len: Uint8Array): number;
  getpeername(fd: number, buf: Uint8Array, len: Uint8Array): number;
}

/**
 * One runtime: each folder's mod.ts (bun/, deno/, node/) exports one, and src/runtime/mod.ts picks
 * the one the process is on.
 */
export interface Runtime {
  readonly name: "deno" | "bun" | "node";
  readonly version: string;
  /** Its sockets: the fastest there, by measurement (docs/RUNTIME.md). */
  readonly network: Network;
  readonly tls: RuntimeTls;
  /**
   * Listens on `address` and answers every request with `handler` (a Hono app's `fetch`), with
   * streamed response bodies (Server-Sent Events need them); rejects with a NetError.
   */
  serveHttp(address: Address, handler: FetchHandler): Promise<HttpServer>;
  /**
   * Opens (creating it when missing, unless readOnly) the SQLite database file at `path`. Every
   * binding is synchronous and takes the same SQL: only positional parameters, and values that
   * are numbers, strings, null or Uint8Array (node:sqlite refuses booleans).
   */
  openSqlite(path: string, options?: { readOnly?: boolean }): SqlDatabase;
  /** Which SQLite binding openSqlite uses (for benchmarks and reports). */
  readonly sqliteBinding: string;
  /**
   * The libc calls transparent mode needs (getsockopt, getsockname, getpeername), through the
   * runtime's FFI, loaded on first use; rejects when FFI is not permitted or libc cannot be
   * opened. Linux/glibc only.
   */
  socketCalls(): Promise<SocketCalls>;
  /** Starts a module worker thread (the flow store's writer). */
  startModuleWorker(url: string): Worker;
}
