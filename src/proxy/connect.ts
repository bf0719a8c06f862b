/**
 * CONNECT host:port, eagerly, as mitmproxy does by default: the origin is connected before the
 * client gets "200 Connection Established", so an unreachable one is a 502 with the reason.
 * Then hosts that host:port alone excludes from interception are relayed untouched, and the
 * tunnel decides for the rest from the first bytes (tunnel.ts).
 */
import type { RequestHead, Target } from "../http1/mod.ts";
import { encodeString, formatAuthority } from "../http1/mod.ts";
import type { Conn } from "../runtime/mod.ts";
import type { ClientSession } from "./session.ts";
import { MAGIC_HOST } from "./mitm_it.ts";
import { originFailureText } from "./origin_connect.ts";
import { relay } from "./pump.ts";
import { runTunnel } from "./tunnel.ts";

const ESTABLISHED = encodeString("HTTP/1.1 200 Connection Established\r\n\r\n");

export async function connectTunnel(
  session: ClientSession,
  _head: RequestHead,
  target: Extract<Target, { form: "authority" }>,
): Promise<boolean> {
  const { ctx } = session;
  session.reader.next(); // the CONNECT request's "end"
  const authority = formatAuthority(target.host, target.port);
  // mitm.it is answered by the proxy itself: there is no origin to connect to.
  let origin: Conn | null = null;
  if (target.host !== MAGIC_HOST) {
    try {
      origin = await ctx.network.connect({
        host: target.host,
        port: target.port,
        timeoutMs: ctx.options.connect_timeout * 1000,
        // What goes through a tunnel is usually TLS, intercepted or not.
        forTls: true,
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
    origin?.close();
    return false;
  }
  // Before the ClientHello only host:port is known: pass through now only if that settles it.
  if (origin !== null && !ctx.intercepts(target.host, target.port, undefined)) {
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
