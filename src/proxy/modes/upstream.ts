/**
 * Upstream mode: every origin connection goes through another HTTP proxy. https origins (and
 * CONNECT passthrough) get a CONNECT tunnel through it, inside which this proxy still does its
 * own TLS to the origin and intercepts as usual; http requests go to it in absolute-form.
 */
import { encodeString, formatAuthority, type HeaderList, ResponseReader } from "../../http1/mod.ts";
import { type Conn, NetError } from "../../runtime/mod.ts";
import type { ProxyContext } from "../context.ts";
import { nextEvent } from "../pump.ts";
import { type Route, routeAuthority } from "../route.ts";
import { basicAuthorization, parseCredentials } from "../layers/proxy_auth.ts";
import type { ModeServer } from "./spec.ts";

/** The upstream proxy of this listener, or null when it connects to origins itself. */
export function upstreamOf(ctx: ProxyContext): ModeServer | null {
  return ctx.mode.kind === "upstream" ? ctx.mode : null;
}

/** Opens a TCP stream to host:port: directly, or tunnelled through the upstream proxy. */
export function dialTcp(ctx: ProxyContext, host: string, port: number): Promise<Conn> {
  const upstream = upstreamOf(ctx);
  if (upstream === null) {
    return ctx.network.connect({ host, port, timeoutMs: ctx.options.connect_timeout * 1000 });
  }
  return tunnelThrough(ctx, upstream, host, port);
}

/** A plain connection to the upstream proxy itself (for absolute-form http requests). */
export function dialUpstream(ctx: ProxyContext, upstream: ModeServer): Promise<Conn> {
  return ctx.network.connect({
    host: upstream.host,
    port: upstream.port,
    timeoutMs: ctx.options.connect_timeout * 1000,
  }).catch((e) => {
    throw new NetError(
      (e as NetError).code ?? "other",
      `upstream proxy ${formatAuthority(upstream.host, upstream.port)}: ${(e as Error).message}`,
    );
  });
}

/** The Proxy-Authorization value for the upstream proxy (upstream_auth), or null. */
function upstreamAuthorization(ctx: ProxyContext): string | null {
  const credentials = parseCredentials(ctx.options.upstream_auth);
  return credentials ? basicAuthorization(credentials) : null;
}

/** CONNECT host:port through the upstream proxy; rejects with a NetError saying why. */
async function tunnelThrough(
  ctx: ProxyContext,
  upstream: ModeServer,
  host: string,
  port: number,
): Promise<Conn> {
  const conn = await dialUpstream(ctx, upstream);
  const authority = formatAuthority(host, port);
  const auth = upstreamAuthorization(ctx);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (auth) lines.push(`Proxy-Authorization: ${auth}`);
  const proxyName = formatAuthority(upstream.host, upstream.port);
  const reader = new ResponseReader(ctx.limits);
  reader.expect("CONNECT");
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new NetError("timeout", `upstream proxy ${proxyName} did not answer CONNECT`)),
        ctx.options.connect_timeout * 1000,
      );
    });
    await conn.write(encodeString(lines.join("\r\n") + "\r\n\r\n"));
    const ev = await Promise.race([nextEvent(reader, () => conn.read()), timeout]);
    if (ev.type !== "head") {
      throw new NetError("closed", `upstream proxy ${proxyName} closed the connection`);
    }
    if (ev.head.status < 200 || ev.head.status >= 300) {
      throw new NetError(
        ev.head.status === 407 ? "permission" : "other",
        `upstream proxy ${proxyName} answered CONNECT with ${ev.head.status} ${ev.head.reason}` +
          (ev.head.status === 407 ? " (set --set upstream_auth=user:pass)" : ""),
      );
    }
  } catch (e) {
    conn.close();
    if (e instanceof NetError) throw e;
    throw new NetError("other", `upstream proxy ${proxyName}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  const leftover = reader.takeBuffered();
  return leftover.length === 0 ? conn : prefixed(conn, leftover);
}

/**
 * The request target for the origin: absolute-form (with upstream_auth) when an http request goes
 * to the upstream proxy, `path` otherwise. May add Proxy-Authorization to `headers`.
 */
export function upstreamTarget(
  ctx: ProxyContext,
  route: Route,
  headers: HeaderList,
  path: string,
): string {
  if (ctx.mode.kind !== "upstream" || route.scheme !== "http" || path === "*") return path;
  const auth = upstreamAuthorization(ctx);
  if (auth) headers.set("Proxy-Authorization", auth);
  return `http://${routeAuthority(route)}${path}`;
}

/** `conn` with bytes already read from it (sent right after the CONNECT answer) in front. */
function prefixed(conn: Conn, first: Uint8Array): Conn {
  let pending: Uint8Array | null = first;
  return {
    get remote() {
      return conn.remote;
    },
    get local() {
      return conn.local;
    },
    read() {
      const p = pending;
      pending = null;
      return p !== null ? Promise.resolve(p) : conn.read();
    },
    write: (d) => conn.write(d),
    writev: (c) => conn.writev(c),
    flushed: () => conn.flushed(),
    closeWrite: () => conn.closeWrite(),
    close: () => conn.close(),
    get isClosed() {
      return conn.isClosed;
    },
    get closed() {
      return conn.closed;
    },
  };
}
