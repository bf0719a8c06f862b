/**
 * TLS on Bun. A Bun socket (Bun.listen / Bun.connect) is upgraded in place by Bun's own TLS engine
 * with `socket.upgradeTLS()`: the server side for a client connection (after CONNECT;
 * `isServer: true` is what Bun 1.4.5's node:tls itself uses for
 * `new TLSSocket(netSocket, { isServer: true })`), and the client side for a connection to an
 * origin. The decrypted side is a BunConn like any other. Compared with node:tls over a stream
 * adapter, no node:stream sits on either side of the TLS engine: encrypted bytes never reach
 * JavaScript, decrypted ones arrive through the same handlers as plain TCP (numbers in
 * docs/BENCHMARKS.md). Key logging takes node:tls (node/tls.ts: only it reports keys), and so
 * does a Conn that cannot be upgraded so (node:net on Bun, an in-memory pipe).
 */
import type tls from "node:tls";
import {
  BunConn,
  type BunSocket,
  type BunSocketHandler,
  HANDLERS,
  type UpgradeTls,
} from "./net.ts";
import { nodeTls } from "../node/tls.ts";
import { joinChunks } from "../shared/conn_parts.ts";
import { certificateChain } from "../shared/cert_chain.ts";
import { tlsHandshakeError } from "../shared/net_errors.ts";
import { peerCertificate, verificationError } from "../shared/tls_verify.ts";
import { trustedCas } from "../shared/trust.ts";
import { watchedTimeout } from "../shared/watched_time.ts";
import {
  type Conn,
  NetError,
  type RuntimeTls,
  type TlsClientOptions,
  type TlsClientSession,
} from "../types.ts";

/** A TLS socket as Bun reports it. */
interface BunTlsSocket extends BunSocket {
  readonly alpnProtocol: string | false | null;
  getTLSVersion?(): string | null;
  /** node:tls's shape (subject, subjectaltname, raw ...); empty object or null without one. */
  getPeerCertificate?(detailed?: boolean): { raw?: Uint8Array } | null;
  getCipher?(): { name?: string } | null;
}

interface BunTlsSession {
  conn: BunConn;
  alpn: string | null;
  version: string | null;
}

interface BunTlsClientSession extends BunTlsSession {
  /** The peer certificate as node:tls describes it (with its issuers), or null. */
  peerCertificate: { raw?: Uint8Array } | null;
  /** The negotiated cipher suite's name, or null. */
  cipher: string | null;
  /** OpenSSL's verification code ("DEPTH_ZERO_SELF_SIGNED_CERT"), or null when it verified. */
  verifyCode: string | null;
}

/** Waits for one socket's handshake. */
class Handshake {
  readonly isClient: boolean;
  /** The plain Conn upgraded in place: same socket, same addresses. */
  readonly raw: BunConn;
  readonly done: Promise<BunTlsClientSession>;
  resolve!: (session: BunTlsClientSession) => void;
  reject!: (error: NetError) => void;
  constructor(isClient: boolean, raw: BunConn) {
    this.isClient = isClient;
    this.raw = raw;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** Handshakes not finished yet, by the Conn of their TLS socket. */
const pending = new WeakMap<BunConn, Handshake>();

/**
 * The plain handlers plus the handshake. `data` passed to upgradeTLS is the Handshake, which the
 * open handler swaps for the BunConn (so decrypted bytes that come early are queued, not lost).
 */
const TLS_HANDLERS: BunSocketHandler & {
  handshake(socket: BunSocket, success: boolean, error: Error | null): void;
} = {
  ...HANDLERS,
  open(socket) {
    const handshake = socket.data as unknown as Handshake;
    // No setNoDelay: the plain socket's option already holds for the descriptor they share.
    const conn = new BunConn(socket, handshake.raw);
    socket.data = conn;
    pending.set(conn, handshake);
  },
  handshake(socket, success, error) {
    const conn = socket.data;
    const handshake = conn && pending.get(conn);
    if (!conn || !handshake) return;
    pending.delete(conn);
    const tlsSocket = socket as BunTlsSocket;
    // Detailed: the issuers come along (issuerCertificate), read once per connection.
    const peer = tlsSocket.getPeerCertificate?.(true) ?? null;
    // A client-side handshake reports failure for a certificate that does not verify or name the
    // host, even with rejectUnauthorized off, yet the session works: the caller judges the
    // certificate. A handshake that really failed has no peer certificate to judge.
    if (!success && handshake.isClient && peer?.raw && !conn.isClosed) success = true;
    if (!success) {
      conn.close();
      const why = error?.message ?? "the peer gave up";
      handshake.reject(tlsHandshakeError(why));
      return;
    }
    handshake.resolve({
      conn,
      alpn: tlsSocket.alpnProtocol || null,
      version: tlsSocket.getTLSVersion?.() ?? null,
      peerCertificate: peer?.raw ? peer : null,
      cipher: tlsSocket.getCipher?.()?.name ?? null,
      // On the client side, with rejectUnauthorized off, why the chain did not verify.
      verifyCode: error ? String((error as { code?: string }).code ?? error.message) : null,
    });
  },
  close(socket, error) {
    const conn = socket.data;
    const handshake = conn && pending.get(conn);
    if (conn && handshake) {
      pending.delete(conn);
      const why = error ? `: ${error.message}` : "";
      handshake.reject(new NetError("closed", `connection closed during the TLS handshake${why}`));
    }
    HANDLERS.close!(socket, error);
  },
};

/**
 * `conn` when Bun's engine can take its socket over in place: asked of the Conn (its `upgradeTls`
 * capability, a BunConn's where this Bun's sockets have upgradeTLS), not of its class.
 */
function upgradable(conn: Conn): BunConn | null {
  return typeof (conn as Partial<BunConn>).upgradeTls === "function" ? conn as BunConn : null;
}

interface BunTlsServerOptions {
  certPem: string;
  keyPem: string;
  alpn: string[];
  timeoutMs: number;
}

/**
 * Runs the server side of a TLS handshake on `conn`, whose first bytes (`leftover`, the
 * ClientHello) were already read. Rejects with a NetError if the client gives up or the handshake
 * takes longer than `timeoutMs`; `conn` is closed then.
 */
async function upgradeServerTls(
  conn: BunConn,
  leftover: Uint8Array,
  options: BunTlsServerOptions,
): Promise<BunTlsSession> {
  const { conn: tlsConn, alpn, version } = await upgrade(conn, leftover, options.timeoutMs, {
    isServer: true,
    tls: { cert: options.certPem, key: options.keyPem, ALPNProtocols: alpnWire(options.alpn) },
  });
  return { conn: tlsConn, alpn, version };
}

interface BunTlsClientOptions {
  /** SNI, or null for none. */
  servername: string | null;
  alpn: string[];
  /** CA certificates to verify against (PEM), or undefined for the built-in roots. */
  ca?: string[];
  timeoutMs: number;
}

/**
 * Runs the client side of a TLS handshake on `conn` (connected to an origin). Verification is
 * reported (`verifyCode`), not enforced: the caller decides, so that it can say why.
 */
function upgradeClientTls(
  conn: BunConn,
  options: BunTlsClientOptions,
): Promise<BunTlsClientSession> {
  return upgrade(conn, new Uint8Array(0), options.timeoutMs, {
    tls: {
      serverName: options.servername ?? undefined,
      rejectUnauthorized: false,
      ca: options.ca,
      ALPNProtocols: alpnWire(options.alpn),
    },
  });
}

function upgrade(
  conn: BunConn,
  leftover: Uint8Array,
  timeoutMs: number,
  how: Pick<Parameters<UpgradeTls>[0], "isServer" | "tls">,
): Promise<BunTlsClientSession> {
  const unread = [leftover, ...conn.handOver()].filter((c) => c.length > 0);
  const initialData = unread.length <= 1
    ? unread[0]
    : joinChunks(unread, unread.reduce((n, c) => n + c.length, 0));
  const handshake = new Handshake(!how.isServer, conn);
  let upgraded: [BunSocket, BunSocket] | undefined;
  try {
    upgraded = conn.upgradeTls!({
      ...how,
      socket: TLS_HANDLERS,
      data: handshake,
      initialData,
    });
  } catch (e) {
    conn.close();
    return Promise.reject(new NetError("tls", `TLS set-up failed: ${(e as Error).message}`));
  }
  if (!upgraded) {
    conn.close();
    return Promise.reject(new NetError("closed", "connection closed before the TLS handshake"));
  }
  const tlsSocket = upgraded[1];
  // Watched time: a stalled event loop must not time out a handshake whose bytes are waiting.
  const timer = watchedTimeout(timeoutMs);
  timer.elapsed.then(() => {
    handshake.reject(new NetError("timeout", `TLS handshake not done after ${timeoutMs} ms`));
  });
  return handshake.done.then(
    (session) => {
      timer.cancel();
      // Whoever holds the raw side's Conn (the server, closing all at shutdown) closes both.
      conn.successor = session.conn;
      return session;
    },
    (error) => {
      timer.cancel();
      const tlsConn = tlsSocket.data;
      if (tlsConn) {
        pending.delete(tlsConn);
        tlsConn.close();
      } else {
        tlsSocket.end();
      }
      conn.close();
      throw error;
    },
  );
}

const ALPN_WIRE = new Map<string, Uint8Array>();

/** ALPN protocol names in the TLS wire format (each prefixed by its length), as Bun wants them. */
function alpnWire(names: string[]): Uint8Array {
  const key = names.join("\n");
  let wire = ALPN_WIRE.get(key);
  if (!wire) {
    const bytes: number[] = [];
    for (const name of names) bytes.push(name.length, ...new TextEncoder().encode(name));
    wire = new Uint8Array(bytes);
    ALPN_WIRE.set(key, wire);
  }
  return wire;
}

/**
 * TLS on Bun: Bun's own engine in place when the Conn can be upgraded so (a Bun socket) and key
 * logging is not wanted; node:tls otherwise (node/tls.ts).
 */
export const bunTls: RuntimeTls = {
  accept(conn, leftover, options) {
    const own = options.onKeylog ? null : upgradable(conn);
    if (own === null) return nodeTls.accept(conn, leftover, options);
    return upgradeServerTls(own, leftover, {
      certPem: options.identity.certPem,
      keyPem: options.identity.keyPem,
      alpn: options.alpn,
      timeoutMs: options.timeoutMs,
    });
  },
  connect(options) {
    const own = options.onKeylog ? null : upgradable(options.transport);
    if (own === null) return nodeTls.connect(options);
    return connectInPlace(own, options);
  },
};

/** The client side in Bun's engine, with the certificate judged as node:tls's route does. */
async function connectInPlace(
  conn: BunConn,
  options: TlsClientOptions,
): Promise<TlsClientSession> {
  const session = await upgradeClientTls(conn, {
    servername: options.servername,
    alpn: options.alpn,
    ca: trustedCas(options.extraCa),
    timeoutMs: options.timeoutMs,
  });
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
