/**
 * What the layers of one client connection share: the client, the server chosen so far, and the
 * settings layers need. A layer that starts a child gives it a fork, so a child's choice of
 * server does not change what its parent sees.
 */
import type { Client, Server } from "./connection.ts";

/** The settings the layers read (a plain subset of the proxy's options). */
/** The site the proxy answers itself (see LayerOptions.onboarding). */
export interface Onboarding {
  host: string;
  /** Status, header fields (name, value, ...) and body for a GET of `path`. */
  answer(path: string): { status: number; headers: string[]; body: Uint8Array };
}

export interface LayerOptions {
  /** Largest request/response head and most header fields accepted. */
  maxHeadBytes: number;
  maxHeaderCount: number;
  /** Largest body accepted (Infinity: no limit). */
  maxBodyBytes: number;
  /** Bodies larger than this stream through without being kept (Infinity: keep all). */
  streamLargeBodies: number;
  /** Connect to the origin before TLS with the client (to sniff its certificate). */
  connectionStrategy: "eager" | "lazy";
  /** The Proxy-Authorization value clients must send, or null. */
  proxyAuth: string | null;
  /** The Proxy-Authorization value to send to an upstream proxy (upstream mode), or null. */
  upstreamAuth: string | null;
  /**
   * Whole bodies are held for hooks that may change them: true when some addon implements
   * `request` (resp. `response`); otherwise bodies stream and a copy is kept for observers.
   */
  holdRequestBodies: boolean;
  holdResponseBodies: boolean;
  /**
   * Whether TLS to host:port (with this SNI, null when none) is intercepted; the rest passes
   * through untouched (--ignore-hosts / --allow-hosts). A tls_clienthello hook may overrule it.
   */
  intercepts: (host: string, port: number, sni: string | null) => boolean;
  /**
   * A client connection that sends nothing between requests for this long is closed; one whose
   * request head is not complete this long after its first byte gets a 408 (Infinity: never).
   */
  idleTimeoutMs: number;
  headerTimeoutMs: number;
  /** How long the origin may take to start its response once the request is sent (504). */
  readTimeoutMs: number;
  /** A pooled origin connection unused for this long is closed. */
  originIdleTimeoutMs: number;
  /**
   * A request or response body that brings no bytes for this long fails (body_timeout): 408 for
   * a stalled upload, 502 for a stalled download, or both connections closed once answering
   * began. Checked once per period, so a stall is noticed within one to two periods.
   */
  bodyTimeoutMs: number;
  /** Speak HTTP/2 (ALPN h2, h2c with prior knowledge); false: HTTP/1.1 only. */
  http2: boolean;
  /** How long to wait for a client to speak first before treating it as server-first TCP. */
  clientFirstWaitMs: number;
  /** The clock for flow timestamps (ms since the epoch); fixed in tests. */
  now: () => number;
  /**
   * The listener itself, when known: a request addressed to it (a browser pointed at the proxy,
   * or a request that would loop through it) gets a page explaining how to use a proxy.
   */
  self?: { url: string; is(host: string, port: number): boolean } | null;
  /**
   * Call the server_connected hook when a flow first uses an origin connection (each call is a
   * pause, so only when some addon implements it).
   */
  announceServers?: boolean;
  /**
   * A site the proxy serves itself (http://mitm.it, the CA certificate page): requests to `host`
   * get `answer(path)` and no flow; no origin is dialled for it, not even eagerly.
   */
  onboarding?: Onboarding | null;
  /** Reverse mode: send the client's Host to the origin instead of the origin's own. */
  keepHostHeader?: boolean;
  /**
   * Idle HTTP/1 origin connections go to the driver's shared origin pool (ParkConnection), where
   * later client connections find them, instead of staying with this client connection.
   */
  sharedOriginPool?: boolean;
  /**
   * With the shared pool: an idle HTTP/1 origin connection stays with its client connection for
   * its next request to the same origin (until origin_idle_timeout). False (origin_pool_size 0):
   * it goes to the driver's pool at once, which closes it.
   */
  keepIdleOrigins?: boolean;
  /**
   * Whether the shared origin pool holds an idle TLS connection to host:port (any SNI). An eager
   * CONNECT then dials nothing before its 200: the TLS layer takes the pooled connection for the
   * client's SNI, or dials one when none matches, so a new client connection costs one handshake.
   */
  pooledTlsOrigin?: (host: string, port: number) => boolean;
  /**
   * False for a hook that nothing outside would run (no addon implements it): layers then go on
   * at once instead of yielding CallHook and waiting for its answer, which would cost a round
   * trip through the driver and the whole stack per hook and request. Absent: every hook is
   * yielded (as Playbook tests expect).
   */
  hookListened?: (name: string) => boolean;
  /**
   * True for a hook only read-only addons implement (the flow store): the layers yield it as an
   * observer (`CallHook` with `observe`) and go on at once, without waiting for an answer.
   */
  hookObserved?: (name: string) => boolean;
}

export const DEFAULT_LAYER_OPTIONS: LayerOptions = {
  maxHeadBytes: 64 * 1024,
  maxHeaderCount: 256,
  maxBodyBytes: Infinity,
  streamLargeBodies: Infinity,
  connectionStrategy: "lazy",
  proxyAuth: null,
  upstreamAuth: null,
  holdRequestBodies: true,
  holdResponseBodies: true,
  intercepts: () => true,
  clientFirstWaitMs: 3000,
  http2: true,
  idleTimeoutMs: 60_000,
  headerTimeoutMs: 30_000,
  readTimeoutMs: 60_000,
  originIdleTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000,
  now: () => Date.now(),
};

export class Context {
  readonly client: Client;
  /** The server this part of the stack talks to, once known (CONNECT target, reverse origin). */
  server: Server | null;
  readonly options: LayerOptions;

  constructor(
    client: Client,
    options: LayerOptions = DEFAULT_LAYER_OPTIONS,
    server: Server | null = null,
  ) {
    this.client = client;
    this.options = options;
    this.server = server;
  }

  fork(): Context {
    return new Context(this.client, this.options, this.server);
  }
}
