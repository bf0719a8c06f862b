/**
 * CONNECT host:port, eagerly, as mitmproxy does by default: the origin is connected before the
 * client gets "200 Connection Established", so an unreachable one is a 502 with the reason.
 * Then hosts that host:port alone excludes from interception are relayed untouched, and the
 * tunnel decides for the rest from the first bytes (tunnel.ts).
 */
import type { RequestHead, Target } from "../http1/mod.ts";
import { encodeString, formatAuthority } from "../http1/mod.ts";
import type { ClientSession } from "./session.ts";
import { MAGIC_HOST } from "./mitm_it.ts";
import { originFailureText } from "./origin_connect.ts";
import { relay } from "./pump.ts";
import { runTunnel, type TunnelOrigin, type TunnelTarget } from "./tunnel.ts";
import { originKey } from "./route.ts";
import { dialTcp } from "./modes/upstream.ts";

const ESTABLISHED = encodeString("HTTP/1.1 200 Connection Established\r\n\r\n");

export async function connectTunnel(
  session: ClientSession,
  _head: RequestHead,
  target: Extract<Target, { form: "authority" }>,
): Promise<boolean> {
  const { ctx } = session;
  session.reader.next(); // the CONNECT request's "end"
  const authority = formatAuthority(target.host, target.port);
  let origin: TunnelOrigin;
  try {
    origin = await openTunnelOrigin(session, target.host, target.port);
  } catch (e) {
    const why = (e as Error).message;
    ctx.log.info(`CONNECT ${authority}: could not connect (${why})`);
    return session.respondAndClose(502, originFailureText(authority, why));
  }
  try {
    await session.conn.write(ESTABLISHED);
  } catch {
    if (typeof origin === "object") origin?.close();
    return false;
  }
  await afterEstablished(session, target, origin);
  return false;
}

/**
 * The origin side of a new tunnel to host:port: "pooled" when the pool holds a live connection
 * to it (a new client connection then costs one TLS handshake, not two), null for mitm.it (the
 * proxy answers it itself), else a new connection. Rejects with a NetError saying why.
 */
export async function openTunnelOrigin(
  session: ClientSession,
  host: string,
  port: number,
): Promise<TunnelOrigin> {
  const { ctx } = session;
  if (host === MAGIC_HOST) return null;
  // Lazy (always under server replay, whose origins may be offline): no connection until a
  // request inside the tunnel needs one; the leaf is made from the SNI alone.
  const lazy = ctx.options.connection_strategy === "lazy" || ctx.options.server_replay.length > 0;
  if (lazy && ctx.intercepts(host, port, undefined)) return null;
  if (
    ctx.intercepts(host, port, undefined) &&
    ctx.pool.hasIdleOrigin(originKey("https", host, port))
  ) {
    return "pooled";
  }
  return await dialTcp(ctx, host, port);
}

/**
 * Once the client was told the tunnel is open (CONNECT's 200, the SOCKS5 reply): relay untouched
 * if host:port alone rules interception out (before the ClientHello nothing else is known),
 * else let the tunnel decide from its first bytes.
 */
export async function afterEstablished(
  session: ClientSession,
  target: TunnelTarget,
  origin: TunnelOrigin,
): Promise<void> {
  if (
    typeof origin === "object" && origin !== null &&
    !session.ctx.intercepts(target.host, target.port, undefined)
  ) {
    await relay(
      session.conn,
      session.read,
      session.reader.takeBuffered(),
      origin,
      () => origin.read(),
      new Uint8Array(0),
    );
  } else {
    await runTunnel(session, target, origin);
  }
}
