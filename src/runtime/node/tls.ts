/**
 * TLS in node:tls, which Deno and Bun both implement (the one portable API with server-side
 * handshakes on an accepted connection, peer certificates and verification results). It is the
 * fallback on every runtime, Deno's TLS on both ends (deno/tls.ts), and Bun's when key logging is
 * wanted, since only node:tls reports keys (bun/tls.ts).
 * A Conn that can hand its node:net socket over (`handOverSocket`, node/net.ts) is wrapped at the
 * socket level; any other Conn (Deno's native sockets, Bun's, in-memory pipes) through a stream
 * adapter (shared/conn_duplex.ts). What the Conn can do decides, not its class.
 * - Server side: the proxy impersonating an origin to its client after CONNECT.
 * - Client side: the proxy talking to an origin, with verification done here so that a failure
 *   can be reported in words instead of a dropped connection.
 */
import type net from "node:net";
import tls from "node:tls";
import { SocketConn } from "./net.ts";
import { ConnDuplex } from "../shared/conn_duplex.ts";
import { withFirstRead } from "../shared/conn_parts.ts";
import { claimUncaught } from "../shared/last_resort.ts";
import { trustedCas } from "../shared/trust.ts";
import { certificateChain } from "../shared/cert_chain.ts";
import { peerCertificate, verificationError } from "../shared/tls_verify.ts";
import { watchedTimeout } from "../shared/watched_time.ts";
import { tlsHandshakeError, toNetError } from "../shared/net_errors.ts";
import {
  type Conn,
  NetError,
  type RuntimeTls,
  type ServerIdentity,
  type TlsClientOptions,
  type TlsClientSession,
  type TlsServerOptions,
  type TlsSession,
} from "../types.ts";

const contexts = new WeakMap<ServerIdentity, tls.SecureContext>();

function contextFor(identity: ServerIdentity): tls.SecureContext {
  let ctx = contexts.get(identity);
  if (!ctx) {
    ctx = tls.createSecureContext({
      cert: identity.certPem,
      key: identity.keyPem,
    });
    contexts.set(identity, ctx);
  }
  return ctx;
}

/** A Conn that can hand its node:net socket over to node:tls (SocketConn). */
interface SocketOwner extends Conn {
  handOverSocket(leftover: Uint8Array): net.Socket;
}

/**
 * What node:tls runs over: the Conn's own node:net socket when it can hand it over (the Conn is
 * unusable afterwards), with `leftover` put back in front of its input; otherwise a stream adapter
 * over read() and write(), which reads `leftover` first. A Conn with a read already started
 * (withFirstRead) shows nothing but the Conn contract, so it gets the adapter, which keeps that
 * read.
 */
function transportFor(
  conn: Conn,
  leftover: Uint8Array,
): { under: net.Socket | ConnDuplex; adapter: ConnDuplex | null } {
  const owner = conn as Partial<SocketOwner>;
  if (typeof owner.handOverSocket === "function") {
    return { under: owner.handOverSocket(leftover), adapter: null };
  }
  const adapter = new ConnDuplex(conn, leftover);
  return { under: adapter, adapter };
}

/**
 * Completes a server-side TLS handshake on `conn`, whose first bytes (`leftover`, the
 * ClientHello) were already read. Rejects with a NetError if the client gives up (for instance
 * because it does not trust our certificate) or the handshake times out.
 */
function acceptTls(
  conn: Conn,
  leftover: Uint8Array,
  options: TlsServerOptions,
): Promise<TlsSession> {
  if (options.firstRead) conn = withFirstRead(conn, options.firstRead);
  const addresses = { remote: conn.remote, local: conn.local };
  const { under, adapter } = transportFor(conn, leftover);
  const socket = new tls.TLSSocket(under as never, {
    isServer: true,
    secureContext: contextFor(options.identity),
    ALPNProtocols: options.alpn,
  });
  if (options.onKeylog) socket.on("keylog", options.onKeylog);
  if (adapter) closeWithTransport(socket, conn);
  // Whether our first flight (ServerHello ... Certificate) went out tells a client that left
  // early from one that read our certificate and closed (how some say they do not trust it).
  const sentFlight = adapter ? () => adapter.written > 0 : undefined;
  const onFail = () => conn.close();
  return handshake(socket, "secure", options.timeoutMs, onFail, sentFlight).then(() => {
    if (adapter) adapter.recordOverhead = recordOverhead(socket);
    return {
      conn: new SocketConn(socket, addresses, under),
      alpn: socket.alpnProtocol || null,
      version: socket.getProtocol?.() ?? null,
    };
  });
}

/** Runs a client-side TLS handshake with an origin over `options.transport`. */
function connectTls(options: TlsClientOptions): Promise<TlsClientSession> {
  const transport = options.firstRead
    ? withFirstRead(options.transport, options.firstRead)
    : options.transport;
  const addresses = { remote: transport.remote, local: transport.local };
  const { under, adapter } = transportFor(transport, new Uint8Array(0));
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
  if (adapter) closeWithTransport(socket, transport);
  return handshake(socket, "secureConnect", options.timeoutMs, () => transport.close()).then(() => {
    const raw = socket.getPeerCertificate(true);
    const code = socket.authorized ? null : String(socket.authorizationError ?? "unknown error");
    const verifyError = verificationError(code, raw, options);
    if (verifyError !== null && options.verify) {
      socket.destroy();
      transport.close();
      throw new NetError("tls-verify", `certificate verify failed: ${verifyError}`);
    }
    if (adapter) adapter.recordOverhead = recordOverhead(socket);
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

/** TLS in node:tls over any Conn. */
export const nodeTls: RuntimeTls = { accept: acceptTls, connect: connectTls };

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

/** Bytes a record adds to its plaintext: tag, and content type (1.3) or explicit nonce (1.2 GCM). */
function recordOverhead(socket: tls.TLSSocket): number {
  if (socket.getProtocol?.() === "TLSv1.3") return 17;
  return /GCM|CCM/i.test(socket.getCipher?.()?.name ?? "") ? 24 : 16;
}
