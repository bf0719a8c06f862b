/**
 * The HttpLayer's origin pool, its parts: what a pooled connection is (its connection layer, how
 * many streams it carries now and may carry), a dial under way, and the choices made per origin
 * (ALPN to offer, h2c for gRPC to plain origins).
 */
import type { Arm } from "../../core/commands.ts";
import { Server, sniFor, tlsState } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import type { GetHttpConnection } from "./events.ts";
import { Http1Client } from "./http1.ts";
import { Http2Client } from "./http2_client.ts";
import type { HttpStream } from "./stream.ts";

export interface PoolEntry {
  layer: Http1Client | Http2Client;
  /** A plain-HTTP origin spoken to with h2c (prior knowledge): only gRPC streams use it. */
  h2c: boolean;
  /** Streams using the connection now. */
  streams: Set<number>;
  /** How many streams it may carry at once (an HTTP/2 one: as its origin allows now). */
  readonly capacity: number;
  tls: boolean;
  /** Armed while no stream uses the connection (origin_idle_timeout). */
  idle: Arm | null;
}

export interface Dial {
  stream: HttpStream;
  request: GetHttpConnection;
  server: Server;
  /** h2c with prior knowledge to a plain origin (`wantsH2c`). */
  h2c: boolean;
  /**
   * Streams for the same origin that wait to learn whether this connection speaks h2 (then
   * they share it) before dialling their own.
   */
  waiters: { stream: HttpStream; request: GetHttpConnection }[];
}

/** A pool entry: HTTP/1 carries one stream at a time, HTTP/2 as many as the origin allows. */
export function poolEntry(
  context: Context,
  server: Server,
  streamId: number,
  tls: boolean,
  h2c: boolean,
): PoolEntry {
  const streams = new Set([streamId]);
  if (server.alpn === "h2" || (!tls && h2c)) {
    const layer = new Http2Client(context, server);
    return {
      layer,
      h2c: !tls && h2c,
      streams,
      get capacity() {
        return layer.capacity;
      },
      tls,
      idle: null,
    };
  }
  const layer = new Http1Client(context, server);
  return { layer, h2c: false, streams, capacity: 1, tls, idle: null };
}

/**
 * Whether a stream to a plain-HTTP origin goes there as h2c with prior knowledge: only gRPC
 * from an h2c client. A plain origin has no ALPN to say what it speaks, and an HTTP/1.1-only
 * one answers the h2c preface with a 400 or a close, so everything else gets HTTP/1.1, which
 * every plain origin speaks; gRPC has no HTTP/1.1 form (its servers are h2c-only without
 * TLS), so it goes as the client spoke it.
 */
export function wantsH2c(context: Context, clientIsH2: boolean, stream: HttpStream): boolean {
  if (!context.options.http2 || !clientIsH2) return false;
  if (context.client.tls !== null) return false;
  const type = stream.flow?.request.headers.get("content-type") ?? "";
  return /^application\/grpc(?:$|[+;])/i.test(type);
}

/**
 * What to offer an origin in ALPN: the client's protocol first (no translation needed when
 * the origin has it), then the other one, which the connection layers translate to.
 */
export function originAlpn(context: Context, clientIsH2: boolean): string[] {
  if (!context.options.http2) return ["http/1.1"];
  return clientIsH2 ? ["h2", "http/1.1"] : ["http/1.1", "h2"];
}

export function sameVia(a: { host: string; port: number } | null, b: typeof a): boolean {
  return a === b || (a !== null && b !== null && a.host === b.host && a.port === b.port);
}

/** Where a stream asks to go, as far as sharing a connection goes. */
interface Destination {
  tls: boolean;
  address: { host: string; port: number };
  via: { host: string; port: number } | null;
}

/** Whether `server` (or a dial for `d`) goes where `request` asks: address, TLS and proxy. */
export function sameDestination(server: Server | Destination, request: Destination): boolean {
  return server.address.host === request.address.host &&
    server.address.port === request.address.port && sameVia(server.via, request.via);
}

/** Whether an origin is known to speak HTTP/1 here (a pooled connection to it chose it). */
export function speaksH1(pool: ReadonlyMap<unknown, PoolEntry>, request: Destination): boolean {
  for (const [conn, entry] of pool) {
    const s = conn as Server;
    if (
      entry.layer instanceof Http1Client && entry.tls === request.tls &&
      s.address.host === request.address.host && s.address.port === request.address.port
    ) return true;
  }
  return false;
}

/**
 * A new origin connection for `request`: through the upstream proxy it names, a tunnel for https
 * and absolute-form for plain http.
 */
export function newServerFor(context: Context, request: GetHttpConnection): Server {
  const server = new Server(request.address, request.via);
  if (request.via !== null) {
    server.tunnel = request.tls;
    server.viaAuth = context.options.upstreamAuth;
  }
  return server;
}

/**
 * The TLS to speak with an origin: named by the client's SNI inside a transparent tunnel to that
 * very origin (the address may be all the proxy was told), by the host asked for otherwise.
 */
export function originTls(
  context: Context,
  request: GetHttpConnection,
  clientIsH2: boolean,
  tunnelled: boolean,
): ReturnType<typeof tlsState> {
  const sni = sniFor(
    tunnelled && context.client.tls?.sni ? context.client.tls.sni : request.address.host,
  );
  return tlsState(sni, originAlpn(context, clientIsH2));
}
