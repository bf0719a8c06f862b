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
import { runTunnel, type TunnelOrigin } from "./tunnel.ts";
import { originKey } from "./route.ts";

const ESTABLISHED = encodeString("HTTP/1.1 200 Connection Established\r\n\r\n");

export async function connectTunnel(
  session: ClientSession,
  _head: RequestHead,
  target: Extract<Target, { form: "authority" }>,
): Promise<boolean> {
  const { ctx } = session;
  session.reader.next(); // the CONNECT request's "end"
  const authority = formatAuthority(target.host, target.port);
  // mitm.it is answered by the proxy itself: there is no origin to connect to. An origin with a
  // connection idling in the pool is up: the tunnel reuses that one instead of dialling another
  // (a new client connection then costs one TLS handshake, not two).
  let origin: TunnelOrigin = null;
  if (
    target.host !== MAGIC_HOST && ctx.intercepts(target.host, target.port, undefined) &&
    ctx.pool.hasIdleOrigin(originKey("https", target.host, target.port))
  ) {
    origin = "pooled";
  } else if (target.host !== MAGIC_HOST) {
    try {
      origin = await ctx.network.connect({
        host: target.host,
        port: target.port,
        timeoutMs: ctx.options.connect_timeout * 1000,
      });
    } catch (e) {
      const why = (e as Error).message;
      ctx.log.info(`CONNECT ${authority}: could not connect (${why})`);
      return session.respondAndClose(502, originFailureText(authority, why));
    }
  }
  try {
    await session.conn.write(ESTABLISHED);
  } catch {
    if (typeof origin === "object") origin?.close();
    return false;
  }
  // Before the ClientHello only host:port is known: pass through now only if that settles it.
  if (
    typeof origin === "object" && origin !== null &&
    !ctx.intercepts(target.host, target.port, undefined)
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
  return false;
}
