/**
 * socks5 mode: the SOCKS5 handshake (socks5.ts), then the origin is connected and the tunnel
 * runs exactly as after a CONNECT's "200 Connection Established" (interception, passthrough).
 */
import { NetError } from "../../runtime/mod.ts";
import { afterEstablished, openTunnelOrigin } from "../connect.ts";
import type { ModeHandler } from "../session.ts";
import {
  Socks5Reply,
  socks5Reply,
  socks5ReplyForError,
  type Socks5Request,
} from "../layers/socks5.ts";
import { Socks5Handshake } from "../layers/socks5.ts";
import type { TunnelOrigin } from "../tunnel.ts";
import { parseCredentials } from "../layers/proxy_auth.ts";

export const socks5Handler: ModeHandler = async (session) => {
  const { ctx, conn } = session;
  const peer = `${conn.remote.host}:${conn.remote.port}`;
  const handshake = new Socks5Handshake({
    credentials: parseCredentials(ctx.options.proxyauth),
  });
  // A client that stalls in the handshake is dropped like one that stalls in a request head.
  const timer = setTimeout(() => {
    ctx.log.info(`${peer}: SOCKS5 handshake not complete after ${ctx.options.header_timeout} s`);
    conn.close();
  }, ctx.options.header_timeout * 1000);
  let request: Socks5Request | null = null;
  try {
    while (request === null) {
      const chunk = await session.read();
      if (chunk === null) return;
      const step = handshake.receive(chunk);
      if (step.send.length > 0) await conn.writev(step.send);
      if (step.error !== null) {
        ctx.log.info(`${peer}: SOCKS5 handshake failed: ${step.error}`);
        return;
      }
      request = step.request;
    }
  } finally {
    clearTimeout(timer);
  }
  const { host, port } = request;
  let origin: TunnelOrigin;
  try {
    origin = await openTunnelOrigin(session, host, port);
  } catch (e) {
    const code = e instanceof NetError ? e.code : "other";
    ctx.log.info(`SOCKS5 ${host}:${port}: could not connect (${(e as Error).message})`);
    await conn.write(socks5Reply(socks5ReplyForError(code)));
    return;
  }
  const bound = typeof origin === "object" && origin !== null ? origin.local : undefined;
  try {
    await conn.write(socks5Reply(Socks5Reply.Succeeded, bound));
  } catch {
    if (typeof origin === "object") origin?.close();
    return;
  }
  // What the client sent right behind its request (a ClientHello) starts the tunnel.
  if (request.leftover.length > 0) session.reader.feed(request.leftover);
  await afterEstablished(session, { host, port }, origin);
};
