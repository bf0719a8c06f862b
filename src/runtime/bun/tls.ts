/**
 * TLS in Bun's own TLS engine on a Bun socket that is already open, upgraded in place with
 * `socket.upgradeTLS()`: the server side for a client connection accepted with Bun.listen (after
 * CONNECT; `isServer: true` is what Bun 1.4.5's node:tls itself uses for
 * `new TLSSocket(netSocket, { isServer: true })`), and the client side for a connection to an
 * origin. The decrypted side is a BunConn like any other. Compared with node:tls over a stream
 * adapter, no node:stream sits on either side of the TLS engine: encrypted bytes never reach
 * JavaScript, decrypted ones arrive through the same handlers as plain TCP (numbers in
 * docs/BENCHMARKS.md).
 */
import { BunConn, type BunSocket, type BunSocketHandler, HANDLERS } from "./net.ts";
import { joinChunks } from "../shared/conn_parts.ts";
import { tlsHandshakeError } from "../shared/net_errors.ts";
import { NetError } from "../types.ts";
import { watchedTimeout } from "../shared/watched_time.ts";

/** The upgrade call on Bun 1.4.5 sockets (`isServer` and `initialData` are undocumented). */
interface UpgradableSocket extends BunSocket {
  upgradeTLS?(options: {
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
  }): [BunSocket, BunSocket] | undefined;
}

/** A TLS socket as Bun reports it. */
interface BunTlsSocket extends BunSocket {
  readonly alpnProtocol: string | false | null;
  getTLSVersion?(): string | null;
  /** node:tls's shape (subject, subjectaltname, raw ...); empty object or null without one. */
  getPeerCertificate?(detailed?: boolean): { raw?: Uint8Array } | null;
  getCipher?(): { name?: string } | null;
}

export interface BunTlsSession {
  conn: BunConn;
  alpn: string | null;
  version: string | null;
}

export interface BunTlsClientSession extends BunTlsSession {
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

/** True when `conn` is a Bun socket this Bun can upgrade in place. */
export function canUpgradeInPlace(conn: unknown): conn is BunConn {
  return conn instanceof BunConn &&
    typeof (conn.socket as UpgradableSocket).upgradeTLS === "function";
}

export interface BunTlsServerOptions {
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
export async function upgradeServerTls(
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

export interface BunTlsClientOptions {
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
export function upgradeClientTls(
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
  how: Pick<Parameters<NonNullable<UpgradableSocket["upgradeTLS"]>>[0], "isServer" | "tls">,
): Promise<BunTlsClientSession> {
  const unread = [leftover, ...conn.handOver()].filter((c) => c.length > 0);
  const initialData = unread.length <= 1
    ? unread[0]
    : joinChunks(unread, unread.reduce((n, c) => n + c.length, 0));
  const handshake = new Handshake(!how.isServer, conn);
  let upgraded: [BunSocket, BunSocket] | undefined;
  try {
    upgraded = (conn.socket as UpgradableSocket).upgradeTLS!({
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
