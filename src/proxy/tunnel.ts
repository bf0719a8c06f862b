/**
 * What happens inside a CONNECT tunnel once "200 Connection Established" is sent: peek at the
 * first bytes and either intercept TLS (terminate it with a leaf from our CA and proxy the HTTP
 * inside), parse plain HTTP, or relay bytes untouched (passthrough, other protocols).
 */
import { type Conn, NetError, startTlsServer, watchedTimeout } from "../runtime/mod.ts";
import {
  acceptsEcdsa,
  type ClientHello,
  type HelloResult,
  looksLikeTls,
  parseClientHello,
} from "../tls/client_hello.ts";
import { describeHandshakeFailure } from "../tls/handshake_failure.ts";
import { isIpAddress } from "../ca/mod.ts";
import { connectOrigin } from "./origin_connect.ts";
import { OriginConn } from "./origin_pool.ts";
import { relay } from "./pump.ts";
import { type Route, routeKey, sniFor } from "./route.ts";
import type { TlsClientHelloData } from "../addons/types.ts";
import { ClientSession } from "./session.ts";
import { MAGIC_HOST } from "./mitm_it.ts";
import { dialTcp, upstreamOf } from "./modes/upstream.ts";

/** Where the tunnel leads: the CONNECT or SOCKS5 target, the original destination, the origin. */
export interface TunnelTarget {
  host: string;
  port: number;
}

/**
 * Reverse mode fixes the origin's scheme whatever the client speaks (`originScheme`), always
 * intercepts, and may set Host to the origin's. Left empty, the client's TLS decides (CONNECT,
 * SOCKS5, transparent).
 */
export interface TunnelHow {
  originScheme?: "http" | "https";
  setHost?: boolean;
}

/** Distinct host and cause pairs of handshake failures remembered, so as to log each once. */
const MAX_FAILURES_REMEMBERED = 10_000;

/**
 * How long a silent client may wait before we assume the server speaks first (SMTP, ...). A client
 * that is merely slow (a loaded machine; Python loads its CA bundle between CONNECT and its
 * ClientHello, over a second under load) would be passed through untouched after it, so this errs
 * long: a server-first protocol's banner is delayed by it once per connection.
 */
const CLIENT_FIRST_MS = 3000;

/**
 * The origin side of a tunnel: the TCP connection opened for the CONNECT, "pooled" when none was
 * opened because the pool holds a live connection to that origin, null for mitm.it (no origin).
 */
export type TunnelOrigin = Conn | "pooled" | null;

/** Runs the tunnel after "200 Connection Established". */
export async function runTunnel(
  session: ClientSession,
  target: TunnelTarget,
  origin: TunnelOrigin,
  how: TunnelHow = {},
): Promise<void> {
  const { ctx } = session;
  const reverse = how.originScheme !== undefined;
  let buffered = session.reader.takeBuffered();
  for (;;) {
    // A reverse proxy is a web server: whatever is not TLS is HTTP (or gets a 400 saying why).
    if (reverse && buffered.length > 0 && !looksLikeTls(buffered)) {
      return await innerHttp(session, target, origin, buffered, how);
    }
    if (buffered.length > 0 && !looksLikeTls(buffered)) {
      const kind = plainKind(buffered);
      if (kind === "http" && ctx.intercepts(target.host, target.port, null)) {
        return await innerHttp(session, target, origin, buffered);
      }
      if (kind === "http") return await passthrough(session, target, origin, buffered);
      if (kind === "other") return await passthrough(session, target, origin, buffered);
    }
    const hello: HelloResult = looksLikeTls(buffered)
      ? parseClientHello(buffered)
      : { kind: "need-more" };
    if (hello.kind === "hello") {
      if (!reverse && !(await interceptDecision(session, target, hello.hello))) {
        ctx.log.debug(`CONNECT ${target.host}:${target.port}: passing TLS through untouched`);
        return await passthrough(session, target, origin, buffered);
      }
      return await intercept(session, target, origin, hello.hello, buffered, how);
    }
    if (hello.kind === "invalid") {
      ctx.log.debug(`CONNECT ${target.host}:${target.port}: ${hello.reason}; relaying untouched`);
      return await passthrough(session, target, origin, buffered);
    }
    // A silent client of a reverse proxy is an idle web client (not a server-first protocol),
    // dropped after the usual timeouts.
    const { idle_timeout, header_timeout } = ctx.options;
    const ms = reverse
      ? (buffered.length === 0 ? idle_timeout : header_timeout) * 1000
      : buffered.length === 0
      ? CLIENT_FIRST_MS
      : 0;
    const chunk = await readWithin(session, ms);
    if (chunk === "timeout" && reverse) return session.conn.close();
    if (chunk === "timeout") {
      ctx.log.debug(
        `CONNECT ${target.host}:${target.port}: the client sent nothing for ${ms} ms; ` +
          "relaying untouched (a protocol where the server speaks first)",
      );
      return await passthrough(session, target, origin, buffered);
    }
    if (chunk === null) {
      if (typeof origin === "object") origin?.close(); // the client left before saying anything
      return;
    }
    buffered = join(buffered, chunk);
  }
}

/** --ignore-hosts/--allow-hosts decide, then a tls_clienthello hook may overrule them. */
async function interceptDecision(
  session: ClientSession,
  target: TunnelTarget,
  hello: ClientHello,
): Promise<boolean> {
  const { ctx } = session;
  const intercept = ctx.intercepts(target.host, target.port, hello.sni);
  if (!ctx.addons.has("tls_clienthello")) return intercept;
  const data: TlsClientHelloData = {
    client: session.client,
    host: target.host,
    port: target.port,
    sni: hello.sni,
    alpn: hello.alpn,
    versions: hello.versions,
    ignoreConnection: !intercept,
  };
  await ctx.addons.trigger("tls_clienthello", data);
  return !data.ignoreConnection;
}

/**
 * The next chunk; "timeout" if none within `ms` (0: no limit) of silence the proxy watched (a
 * stalled event loop does not turn a ClientHello that arrived meanwhile into a timeout).
 */
async function readWithin(
  session: ClientSession,
  ms: number,
): Promise<Uint8Array | null | "timeout"> {
  const read = session.read();
  if (ms === 0) return await read;
  const silence = watchedTimeout(ms);
  const result = await Promise.race([read, silence.elapsed.then(() => "timeout" as const)]);
  silence.cancel();
  // A read still outstanding must not be lost: the relay consumes it first.
  if (result === "timeout") session.unread(read);
  return result;
}

/** "http" when the bytes start like a request line ("GET "), "need-more" while they might. */
function plainKind(bytes: Uint8Array): "http" | "other" | "need-more" {
  for (let i = 0; i < bytes.length && i <= 20; i++) {
    const c = bytes[i];
    if (c === 0x20) return i > 0 ? "http" : "other";
    if (c < 0x41 || c > 0x5a) return "other"; // methods are upper-case tokens in practice
  }
  return bytes.length > 20 ? "other" : "need-more";
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Relays the tunnel's bytes to the origin untouched. */
async function passthrough(
  session: ClientSession,
  target: TunnelTarget,
  tunnelOrigin: TunnelOrigin,
  buffered: Uint8Array,
): Promise<void> {
  if (tunnelOrigin === null && target.host === MAGIC_HOST) {
    session.conn.close(); // mitm.it speaks only HTTP and TLS
    return;
  }
  let origin: Conn;
  try {
    // Not connected yet: "pooled", or null under connection_strategy=lazy.
    origin = typeof tunnelOrigin === "object" && tunnelOrigin !== null
      ? tunnelOrigin
      : await dialTcp(session.ctx, target.host, target.port);
  } catch (e) {
    session.ctx.log.info(`${target.host}:${target.port}: ${(e as Error).message}`);
    session.conn.close();
    return;
  }
  await relay(session.conn, session.read, buffered, origin, () => origin.read(), new Uint8Array(0));
}

/** Plain HTTP inside the tunnel: a session whose origin-form requests go to the CONNECT target. */
async function innerHttp(
  session: ClientSession,
  target: TunnelTarget,
  origin: TunnelOrigin,
  buffered: Uint8Array,
  how: TunnelHow = {},
): Promise<void> {
  const { ctx } = session;
  const scheme = how.originScheme ?? "http";
  const route: Route = {
    scheme,
    host: target.host,
    port: target.port,
    sni: scheme === "https" ? sniFor(target.host) : null,
  };
  // The CONNECT's connection serves the first request (from the pool, like any other). Not in
  // upstream mode: pooled http connections there lead to the upstream proxy, not the origin.
  if (typeof origin === "object" && origin !== null) {
    if (scheme === "http" && upstreamOf(ctx) === null) {
      ctx.pool.release(new OriginConn(origin, routeKey(route), ctx.limits));
    } else origin.close();
  }
  const inner = new ClientSession(
    session.conn,
    session.ctx,
    { route, upstreamError: null, clientTls: null, setHost: how.setHost },
    session.client,
  );
  inner.reader.feed(buffered);
  inner.inherit(session);
  await inner.run();
}

/**
 * Terminates the client's TLS with a leaf from our CA and runs an HTTP session over it. With
 * upstream_cert on, the origin is contacted first so that the leaf carries the names from the
 * origin's own certificate (and that connection serves the first request).
 */
async function intercept(
  session: ClientSession,
  target: TunnelTarget,
  tcp: TunnelOrigin,
  hello: ClientHello,
  buffered: Uint8Array,
  how: TunnelHow = {},
): Promise<void> {
  const { ctx } = session;
  const serverName = hello.sni ?? target.host;
  // Reverse mode names the origin itself (the client's SNI names the proxy).
  const scheme = how.originScheme ?? "https";
  const route: Route = {
    scheme,
    host: target.host,
    port: target.port,
    sni: scheme === "http" ? null : how.originScheme
      ? sniFor(target.host)
      // An IP address sent as SNI (RFC 6066 forbids it, some clients do) is not passed on.
      : sniFor(hello.sni ?? target.host),
  };
  let upstreamError: string | null = null;
  // The origin's TLS handshake: before the client's when its certificate names the leaf
  // (upstream_cert), alongside it otherwise.
  // A pooled connection for this very route (same SNI) already knows the origin's certificate;
  // otherwise connect (over the CONNECT's TCP connection when there is one).
  const pooled = tcp === "pooled" ? ctx.pool.peek(routeKey(route)) : undefined;
  const upstream = tcp === null
    ? null
    : pooled !== undefined
    ? Promise.resolve(pooled.certificate)
    : connectOrigin(ctx, route, tcp === "pooled" ? undefined : tcp).then(
      ({ origin, tls }) => {
        ctx.pool.release(origin);
        return tls?.certificate ?? null;
      },
      (e) => {
        upstreamError = (e as Error).message;
        ctx.log.info(`${serverName}:${target.port}: ${upstreamError}`);
        return null;
      },
    );
  const names = [serverName];
  if (upstream !== null && ctx.options.upstream_cert) {
    const cert = await upstream;
    for (const n of cert ? [...cert.altNames, cert.commonName ?? ""] : []) {
      if (n && !names.includes(n) && (isIpAddress(n) || /^[\w*.-]+$/.test(n))) names.push(n);
    }
  }
  // ECDSA leaves are cheaper; a client without any ECDSA option gets an RSA one it can use.
  const leaf = await ctx.ca.leaves.get(names, acceptsEcdsa(hello) ? "ecdsa" : "rsa");
  let tls;
  try {
    tls = await startTlsServer(session.conn, buffered, {
      identity: leaf,
      // http/1.0 too: a client offering only that (curl -0) would otherwise get a fatal
      // no_application_protocol alert. The server's order wins, so http/1.1 when both are offered.
      alpn: ["http/1.1", "http/1.0"],
      timeoutMs: ctx.options.tls_handshake_timeout * 1000,
      onKeylog: ctx.tls.keylog ?? undefined,
    });
  } catch (e) {
    const failure = describeHandshakeFailure(
      serverName,
      e instanceof NetError ? e.code : "other",
      e instanceof Error ? e.message : String(e),
      hello,
    );
    // Once per host and cause: a later failure of another kind for the host is news.
    const key = `${serverName}\n${failure.reason}`;
    const logged = ctx.tls.handshakeFailuresLogged;
    if (!logged.has(key)) {
      if (logged.size >= MAX_FAILURES_REMEMBERED) logged.clear(); // bounded: a long run repeats
      logged.add(key);
      ctx.log.info(failure.text);
    }
    session.conn.close();
    await upstream;
    return;
  }
  await upstream;
  const clientTls = { sni: hello.sni, alpn: tls.alpn, version: tls.version };
  const inner = new ClientSession(
    tls.conn,
    ctx,
    { route, upstreamError, clientTls, setHost: how.setHost },
    session.client,
  );
  await inner.run();
}
