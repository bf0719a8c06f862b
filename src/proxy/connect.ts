/**
 * CONNECT host:port. Until HTTPS interception lands, the tunnel relays bytes untouched: the client
 * talks TLS with the origin directly.
 */
import type { RequestHead, Target } from "../http1/mod.ts";
import { encodeString, formatAuthority } from "../http1/mod.ts";
import type { ClientSession } from "./session.ts";
import { relay } from "./pump.ts";

const ESTABLISHED = encodeString("HTTP/1.1 200 Connection Established\r\n\r\n");

export async function connectTunnel(
  session: ClientSession,
  _head: RequestHead,
  target: Extract<Target, { form: "authority" }>,
): Promise<boolean> {
  const { ctx } = session;
  const authority = formatAuthority(target.host, target.port);
  let origin;
  try {
    origin = await ctx.network.connect({
      host: target.host,
      port: target.port,
      timeoutMs: ctx.options.connect_timeout * 1000,
    });
  } catch (e) {
    const why = (e as Error).message;
    ctx.log.info(`CONNECT ${authority}: could not connect (${why})`);
    return session.respondAndClose(502, connectFailureText(authority, why));
  }
  try {
    await session.conn.write(ESTABLISHED);
  } catch {
    origin.close();
    return false;
  }
  await relay(
    session.conn,
    session.read,
    session.reader.takeBuffered(),
    origin,
    () => origin.read(),
    new Uint8Array(0),
  );
  return false;
}

/** One line: what failed and what to check. */
export function connectFailureText(authority: string, why: string): string {
  return `mitm.ts could not connect to ${authority}: ${why}. Check the host name and that the server is up.`;
}
