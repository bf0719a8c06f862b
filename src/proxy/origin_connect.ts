/** Opening connections to origins: TCP for http, TCP + TLS (verified by default) for https. */
export { originFailureText } from "../http/responses.ts";
import type { ServerPeer } from "../flow/flow.ts";
import { type Conn, connectTls, type TlsClientSession } from "../runtime/mod.ts";
import type { ProxyContext } from "./context.ts";
import { OriginConn } from "./origin_pool.ts";
import { type Route, routeKey } from "./route.ts";
import { dialTcp, dialUpstream, upstreamOf } from "./modes/upstream.ts";

export interface OriginConnection {
  origin: OriginConn;
  /** The TLS session, for https routes. */
  tls: TlsClientSession | null;
}

/**
 * Connects to the route's origin (over `tcp` when a connection is already open); rejects with a
 * NetError whose message says why.
 */
export async function connectOrigin(
  ctx: ProxyContext,
  route: Route,
  tcp?: Conn,
): Promise<OriginConnection> {
  const tcpStart = Date.now();
  // In upstream mode http requests go to the upstream proxy itself (absolute-form), everything
  // else through a CONNECT tunnel it opens.
  const upstream = upstreamOf(ctx);
  const conn = tcp ??
    await (upstream !== null && route.scheme === "http"
      ? dialUpstream(ctx, upstream)
      : dialTcp(ctx, route.host, route.port));
  const server: ServerPeer = {
    address: conn.remote.host,
    port: conn.remote.port,
    tls: null,
    timestampTcpStart: tcpStart,
    timestampTcpEnd: Date.now(),
  };
  if (route.scheme === "http") {
    return { origin: new OriginConn(conn, routeKey(route), ctx.limits, server), tls: null };
  }
  server.timestampTlsStart = Date.now();
  const tls = await connectTls({
    transport: conn,
    host: route.host,
    servername: route.sni,
    alpn: ["http/1.1"],
    verify: !ctx.options.ssl_insecure,
    extraCa: ctx.tls.extraCa,
    timeoutMs: ctx.options.tls_handshake_timeout * 1000,
    onKeylog: ctx.tls.keylog ?? undefined,
  });
  server.timestampTlsEnd = Date.now();
  server.tls = {
    sni: route.sni,
    alpn: tls.alpn,
    version: tls.version,
    cipher: tls.cipher,
    certificates: tls.chain,
  };
  const origin = new OriginConn(tls.conn, routeKey(route), ctx.limits, server);
  origin.certificate = tls.certificate;
  return { origin, tls };
}
