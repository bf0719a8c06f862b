/**
 * TLS on both ends of the proxy. On Bun, a Bun socket is upgraded in place by Bun's own TLS engine
 * (bun_tls.ts: no node:stream layers, measured cheaper per request). Otherwise node:tls, which
 * Deno and Bun both implement (the one portable API with server-side handshakes on an accepted
 * connection, peer certificates and verification results): a node:net connection is wrapped at
 * the socket level, any other Conn (Deno's native sockets) through a stream adapter. Key logging
 * always takes the node:tls route, since only it reports keys.
 * - Server side: the proxy impersonating an origin to its client after CONNECT.
 * - Client side: the proxy talking to an origin, with verification done here so that a failure
 *   can be reported in words instead of a dropped connection.
 */
import { Duplex } from "node:stream";
import tls from "node:tls";
import { type MeteredTransport, SocketConn } from "./net.ts";
import { canUpgradeInPlace, upgradeClientTls, upgradeServerTls } from "../bun/tls.ts";
import { closeWhenFlushed, withFirstRead } from "../shared/conn_parts.ts";
import { claimUncaught } from "../shared/last_resort.ts";
import { trustedCas } from "../shared/trust.ts";
import { certificateChain, type CertificateSummary } from "../shared/cert_chain.ts";
import { watchedTimeout } from "../shared/watched_time.ts";
import { tlsHandshakeError, toNetError } from "../shared/net_errors.ts";
import { type Conn, NetError } from "../types.ts";

export interface ServerIdentity {
  certPem: string;
  keyPem: string;
  /** The certificate followed by its issuers, presented when given (else certPem alone). */
  chainPem?: string;
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

const contexts = new WeakMap<ServerIdentity, tls.SecureContext>();

function contextFor(identity: ServerIdentity): tls.SecureContext {
  let ctx = contexts.get(identity);
  if (!ctx) {
    ctx = tls.createSecureContext({
      cert: identity.chainPem ?? identity.certPem,
      key: identity.keyPem,
    });
    contexts.set(identity, ctx);
  }
  return ctx;
}

/**
 * Completes a server-side TLS handshake on `conn`, whose first bytes (`leftover`, the
 * ClientHello) were already read. Rejects with a NetError if the client gives up (for instance
 * because it does not trust our certificate) or the handshake times out.
 */
export function startTlsServer(
  conn: Conn,
  leftover: Uint8Array,
  options: TlsServerOptions,
): Promise<TlsSession> {
  // Bun's own TLS engine, in place, unless key logging is wanted (only node:tls reports keys).
  if (!options.onKeylog && canUpgradeInPlace(conn)) {
    return upgradeServerTls(conn, leftover, {
      certPem: options.identity.chainPem ?? options.identity.certPem,
      keyPem: options.identity.keyPem,
      alpn: options.alpn,
      timeoutMs: options.timeoutMs,
    });
  }
  if (options.firstRead) conn = withFirstRead(conn, options.firstRead);
  const addresses = { remote: conn.remote, local: conn.local };
  const transport = conn instanceof SocketConn
    ? conn.detach(leftover)
    : new ConnDuplex(conn, leftover);
  const socket = new tls.TLSSocket(transport as never, {
    isServer: true,
    secureContext: contextFor(options.identity),
    ALPNProtocols: options.alpn,
  });
  if (options.onKeylog) socket.on("keylog", options.onKeylog);
  if (!(conn instanceof SocketConn)) closeWithTransport(socket, conn);
  // Whether our first flight (ServerHello ... Certificate) went out tells a client that left
  // early from one that read our certificate and closed (how some say they do not trust it).
  const sentFlight = transport instanceof ConnDuplex ? () => transport.written > 0 : undefined;
  const onFail = () => conn.close();
  return handshake(socket, "secure", options.timeoutMs, onFail, sentFlight).then(() => {
    if (transport instanceof ConnDuplex) transport.recordOverhead = recordOverhead(socket);
    return {
      conn: new SocketConn(socket, addresses, transport),
      alpn: socket.alpnProtocol || null,
      version: socket.getProtocol?.() ?? null,
    };
  });
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

export interface TlsClientSession extends TlsSession {
  certificate: PeerCertificate | null;
  /** The origin's chain, leaf first (read once per connection). */
  chain: CertificateSummary[];
  /** The negotiated cipher suite ("TLS_AES_128_GCM_SHA256"), or null. */
  cipher: string | null;
  /** Why the chain or name does not verify (also set when verification is off), or null. */
  verifyError: string | null;
}

/** Runs a client-side TLS handshake with an origin over `options.transport`. */
export function connectTls(options: TlsClientOptions): Promise<TlsClientSession> {
  if (!options.onKeylog && canUpgradeInPlace(options.transport)) return connectTlsInPlace(options);
  const transport = options.firstRead
    ? withFirstRead(options.transport, options.firstRead)
    : options.transport;
  const addresses = { remote: transport.remote, local: transport.local };
  const under = transport instanceof SocketConn
    ? transport.detach(new Uint8Array(0))
    : new ConnDuplex(transport, new Uint8Array(0));
  const socket = tls.connect({
    socket: under as never,
    servername: options.servername ?? undefined,
    // Without SNI, node:tls checks the certificate against `host` (default "localhost").
    host: options.host,
    ALPNProtocols: options.alpn,
    // Checked below, so that the reason can be reported.
    rejectUnauthorized: false,
    ca: trustedCas(options.extraCa),
  });
  if (options.onKeylog) socket.on("keylog", options.onKeylog);
  if (!(transport instanceof SocketConn)) closeWithTransport(socket, transport);
  return handshake(socket, "secureConnect", options.timeoutMs, () => transport.close()).then(() => {
    const raw = socket.getPeerCertificate(true);
    const code = socket.authorized ? null : String(socket.authorizationError ?? "unknown error");
    const verifyError = verificationError(code, raw, options);
    if (verifyError !== null && options.verify) {
      socket.destroy();
      transport.close();
      throw new NetError("tls-verify", `certificate verify failed: ${verifyError}`);
    }
    if (under instanceof ConnDuplex) under.recordOverhead = recordOverhead(socket);
    return {
      conn: new SocketConn(socket, addresses, under),
      alpn: socket.alpnProtocol || null,
      version: socket.getProtocol?.() ?? null,
      certificate: peerCertificate(raw),
      chain: certificateChain(raw),
      cipher: socket.getCipher?.()?.name ?? null,
      verifyError,
    };
  });
}

/** connectTls in Bun's TLS engine, on a Bun socket (bun_tls.ts). */
async function connectTlsInPlace(options: TlsClientOptions): Promise<TlsClientSession> {
  const session = await upgradeClientTls(
    options.transport as Parameters<typeof upgradeClientTls>[0],
    {
      servername: options.servername,
      alpn: options.alpn,
      ca: trustedCas(options.extraCa),
      timeoutMs: options.timeoutMs,
    },
  );
  const raw = session.peerCertificate as tls.PeerCertificate | null;
  const verifyError = verificationError(session.verifyCode, raw, options);
  if (verifyError !== null && options.verify) {
    session.conn.close();
    throw new NetError("tls-verify", `certificate verify failed: ${verifyError}`);
  }
  return {
    conn: session.conn,
    alpn: session.alpn,
    version: session.version,
    certificate: peerCertificate(raw),
    chain: certificateChain(raw),
    cipher: session.cipher,
    verifyError,
  };
}

function handshake(
  socket: tls.TLSSocket,
  event: "secure" | "secureConnect",
  timeoutMs: number,
  onFail: () => void,
  sentFlight?: () => boolean,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => {
      cleanup();
      socket.destroy();
      onFail();
      reject(e instanceof NetError ? e : tlsError(e));
    };
    const closed = () => {
      const when = sentFlight === undefined
        ? ""
        : sentFlight()
        ? " after our certificate"
        : " before our certificate";
      fail(new NetError("closed", `connection closed during the TLS handshake${when}`));
    };
    // A peer that leaves mid-handshake may show up only as end-of-input (over a stream adapter).
    // Watched time: a stalled event loop must not time out a handshake whose bytes are waiting.
    const timer = watchedTimeout(timeoutMs);
    timer.elapsed.then(() =>
      fail(new NetError("timeout", `TLS handshake not done after ${timeoutMs} ms`))
    );
    const done = () => {
      cleanup();
      resolve();
    };
    // An error the runtime's TLS code throws from its own callbacks reaches no caller (Deno's
    // node:tls did so for ClientHellos it rejects, see ConnDuplex._read). It is this connection's
    // if it comes from TLS code while this socket, mid-handshake, is already destroyed.
    const unclaim = claimUncaught((e) => {
      if (!socket.destroyed || !/tls/i.test((e as Error)?.stack ?? "")) return false;
      fail(tlsHandshakeError((e as Error).message, e));
      return true;
    });
    const cleanup = () => {
      unclaim();
      timer.cancel();
      socket.off(event, done);
      socket.off("error", fail);
      socket.off("close", closed);
      socket.off("end", closed);
    };
    socket.once(event, done);
    socket.once("error", fail);
    socket.once("close", closed);
    socket.once("end", closed);
  });
}

function tlsError(e: Error): NetError {
  const code = (e as { code?: string }).code ?? "";
  if (/^ERR_SSL|^ERR_TLS|SSL|alert/i.test(code + " " + e.message)) {
    return tlsHandshakeError(e.message, e);
  }
  return toNetError(e);
}

const VERIFY_MESSAGES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in certificate chain",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unable to verify the first certificate",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unable to get local issuer certificate",
  CERT_HAS_EXPIRED: "certificate has expired",
  CERT_NOT_YET_VALID: "certificate is not yet valid",
  ERR_TLS_CERT_ALTNAME_INVALID: "certificate does not match the host name",
};

/**
 * Why the origin's certificate does not verify, in words, or null. `code` is OpenSSL's verdict on
 * the chain (null when it verified); the name is checked here, since not every runtime checks it
 * when rejectUnauthorized is false.
 */
function verificationError(
  code: string | null,
  raw: tls.PeerCertificate | null,
  options: TlsClientOptions,
): string | null {
  if (code !== null) return VERIFY_MESSAGES[code] ?? code.toLowerCase().replace(/_/g, " ");
  if (raw?.raw && tls.checkServerIdentity(options.servername ?? options.host, raw)) {
    return VERIFY_MESSAGES.ERR_TLS_CERT_ALTNAME_INVALID;
  }
  return null;
}

function peerCertificate(c: tls.PeerCertificate | null): PeerCertificate | null {
  if (!c || !c.raw) return null;
  const altNames: string[] = [];
  for (const part of (c.subjectaltname ?? "").split(",")) {
    const m = /^\s*(DNS|IP Address):(.+)$/.exec(part);
    if (m) altNames.push(m[1] === "DNS" ? m[2].trim() : normalizeIp(m[2].trim()));
  }
  const cn = c.subject?.CN;
  return {
    commonName: Array.isArray(cn) ? cn[0] : cn ?? null,
    altNames,
    der: new Uint8Array(c.raw),
  };
}

/** OpenSSL prints IPv6 SANs in full ("0:0:0:0:0:0:0:1"); keep a form URL.hostname accepts. */
function normalizeIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}

/**
 * Over a ConnDuplex, node:tls on Bun and Deno sees the transport's end only as EOF: the TLS socket
 * emits "end" but never "close", so its Conn's `closed` would never resolve (and a relay waiting
 * for it, after 101 Switching Protocols inside an intercepted tunnel, would outlive the client and
 * hang proxy.close()). Once the TLS socket has delivered all it received ("end") and the transport
 * is closed in both directions, nothing more can pass: destroy it, which emits "close".
 */
function closeWithTransport(socket: tls.TLSSocket, transport: Conn): void {
  let ended = false;
  let transportClosed = false;
  const check = () => {
    if (ended && transportClosed && !socket.destroyed) socket.destroy();
  };
  socket.once("end", () => {
    ended = true;
    check();
  });
  transport.closed.then(() => {
    transportClosed = true;
    check();
  });
}

/** How long a closing TLS connection may take to hand its last bytes to the OS. */
const FLUSH_BEFORE_CLOSE_MS = 2000;

/**
 * How much received plaintext the TLS socket may hold that its reader has not taken. Deno's
 * node:tls keeps pulling from its transport while the TLS socket is paused, and later emits what
 * piled up as one chunk: with a client reading slower than the origin sends, 1 GiB downloads
 * peaked at 0.5-1.8 GB RSS, with single chunks of 100 MB. So the adapter stops reading from the
 * connection while this much is held (TCP flow control then slows the peer).
 */
const TLS_HELD_LIMIT = 1024 * 1024;

/**
 * Counts the plaintext in a stream of TLS records (records may span chunks): each application-data
 * record's length less the suite's overhead, which is known once the handshake is done (an
 * estimate: CBC suites vary; see ConnDuplex.delivered for why that cannot stall a reader).
 */
class RecordMeter {
  plaintext = 0;
  overhead = 17;
  readonly #header = new Uint8Array(5);
  #headerHave = 0;
  #recordLeft = 0;

  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#recordLeft > 0) {
        const n = Math.min(this.#recordLeft, chunk.length - i);
        this.#recordLeft -= n;
        i += n;
        continue;
      }
      this.#header[this.#headerHave++] = chunk[i++];
      if (this.#headerHave < 5) continue;
      this.#headerHave = 0;
      this.#recordLeft = (this.#header[3] << 8) | this.#header[4];
      if (this.#header[0] === APPLICATION_DATA) {
        this.plaintext += Math.max(0, this.#recordLeft - this.overhead);
      }
    }
  }
}

const APPLICATION_DATA = 23;

/** Bytes a record adds to its plaintext: tag, and content type (1.3) or explicit nonce (1.2 GCM). */
function recordOverhead(socket: tls.TLSSocket): number {
  if (socket.getProtocol?.() === "TLSv1.3") return 17;
  return /GCM|CCM/i.test(socket.getCipher?.()?.name ?? "") ? 24 : 16;
}

/** A node:stream Duplex over a Conn, so node:tls can run on a Conn that is not a net.Socket. */
class ConnDuplex extends Duplex implements MeteredTransport {
  readonly #conn: Conn;
  #first: Uint8Array | null;
  #reading = false;
  /** Plaintext in the records read from the connection. */
  readonly #received = new RecordMeter();
  /** Plaintext the TLS socket has emitted to its reader. */
  #delivered = 0;
  /** _read() was called while too much was held: read once the reader catches up. */
  #readWanted = false;
  /** Bytes handed to the connection so far. */
  written = 0;

  constructor(conn: Conn, first: Uint8Array) {
    super();
    this.#conn = conn;
    this.#first = first.length > 0 ? first : null;
  }

  /** Set once the suite is known (before, only handshake records pass). */
  set recordOverhead(bytes: number) {
    this.#received.overhead = bytes;
  }

  /**
   * The reader took `plaintext` bytes, or found nothing and waits (0). A waiting reader means
   * the TLS socket has nothing it can hand out, whatever the meter says (it may drift with
   * suites whose overhead varies), so reading resumes then in any case.
   */
  delivered(plaintext: number): void {
    this.#delivered += plaintext;
    if (!this.#readWanted) return;
    if (plaintext === 0) this.#delivered = this.#received.plaintext;
    if (this.#held() <= TLS_HELD_LIMIT / 2) {
      this.#readWanted = false;
      this._read();
    }
  }

  #held(): number {
    return this.#received.plaintext - this.#delivered;
  }

  override _read(): void {
    if (this.#first !== null) {
      const first = this.#first;
      this.#first = null;
      // Deno's node:tls starts a server-side handshake in a nextTick; bytes that reach it before
      // then are processed inside start(), and a ClientHello it rejects there destroys the socket
      // under start() and throws an uncaught TypeError that ends the process. A macrotask later
      // the handshake has started and a rejected hello is an ordinary "error".
      setTimeout(() => {
        if (!this.destroyed) this.push(first);
      }, 0);
      return;
    }
    if (this.#reading) return;
    if (this.#held() > TLS_HELD_LIMIT) {
      this.#readWanted = true;
      return;
    }
    this.#reading = true;
    this.#conn.read().then(
      (chunk) => {
        this.#reading = false;
        if (chunk !== null) this.#received.feed(chunk);
        this.push(chunk);
      },
      (e) => this.destroy(e),
    );
  }

  override _write(chunk: Uint8Array, _encoding: string, done: (e?: Error | null) => void): void {
    this.written += chunk.length;
    try {
      const wait = this.#conn.write(chunk);
      if (wait) wait.then(() => done(), done);
      else done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _final(done: () => void): void {
    this.#conn.closeWrite();
    done();
  }

  override _destroy(error: Error | null, done: (e: Error | null) => void): void {
    // Encrypted bytes handed to the transport (a close_notify, the last response) may still be
    // queued there: let them out first, for a bounded time, unless this is an abort.
    if (error === null) closeWhenFlushed(this.#conn, FLUSH_BEFORE_CLOSE_MS);
    else this.#conn.close();
    done(error);
  }
}
