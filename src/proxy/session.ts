/**
 * One client connection: read a request, hand it to the right handler, repeat while the
 * connection is kept alive. Owns the connection's timeouts and its last words (error responses,
 * graceful close).
 */
import {
  HttpError,
  keepsAlive,
  parseTarget,
  type RequestHead,
  RequestReader,
} from "../http1/mod.ts";
import type { Conn } from "../runtime/types.ts";
import { closeWhenFlushed } from "../runtime/mod.ts";
import type { ClientInfo } from "../addons/types.ts";
import type { Peer, TlsInfo } from "../flow/flow.ts";
import type { ProxyContext } from "./context.ts";
import { connectTunnel } from "./connect.ts";
import { forwardHttp } from "./forward.ts";
import { MAGIC_HOST, mitmItResponse } from "./mitm_it.ts";
import { originFailureText } from "./origin_connect.ts";
import { notAProxyRequestText, textResponse } from "../http/responses.ts";
import { type Route, routeAuthority, sniFor } from "./route.ts";
import { authorized, PROXY_AUTHENTICATE } from "./layers/proxy_auth.ts";

/** A session inside a CONNECT tunnel: where its origin-form requests go. */
export interface TunnelInfo {
  route: Route;
  /** Why connecting to the origin failed while sniffing its certificate: the next request's 502. */
  upstreamError: string | null;
  /** The client's TLS session with the proxy, when intercepted. */
  clientTls: TlsInfo | null;
  /** Replace the client's Host with the route's (reverse mode without keep_host_header). */
  setHost?: boolean;
}

/**
 * Serves a client connection in a mode other than regular (socks5, reverse, transparent): called
 * instead of reading HTTP requests from it; the connection is closed after it returns.
 */
export type ModeHandler = (session: ClientSession) => Promise<void>;

let nextClientId = 1;

/** How long to keep reading after our FIN so the peer sees our last response, not a reset. */
const LINGER_MS = 2000;

export class ClientSession {
  readonly conn: Conn;
  readonly ctx: ProxyContext;
  readonly reader: RequestReader;
  #pending: Promise<Uint8Array | null> | null = null;
  /** The conn.read() in progress, so that a second reader queues behind it (see #connRead). */
  #reading: Promise<Uint8Array | null> | null = null;
  #onGone: ((why: string) => void) | null = null;
  #timedOut = false;

  /** Set for a session inside a CONNECT tunnel. */
  readonly tunnel: TunnelInfo | null;
  /** The client connection as hooks see it (shared by sessions nested in its tunnels). */
  readonly client: ClientInfo;
  /** Set for the session that owns the client connection (not one inside its tunnel). */
  readonly #outermost: boolean;
  /** When the current request began to arrive. */
  requestStartedAt = 0;

  constructor(
    conn: Conn,
    ctx: ProxyContext,
    tunnel: TunnelInfo | null = null,
    client?: ClientInfo,
  ) {
    this.conn = conn;
    this.ctx = ctx;
    this.tunnel = tunnel;
    this.#outermost = client === undefined;
    this.client = client ?? {
      id: String(nextClientId++),
      address: conn.remote.host,
      port: conn.remote.port,
      timestampStart: Date.now(),
    };
    this.reader = new RequestReader(ctx.limits);
  }

  /** Next chunk from the client: the watcher's outstanding read first, if there is one. */
  readonly read = (): Promise<Uint8Array | null> => {
    const p = this.#pending;
    if (p !== null) {
      this.#pending = null;
      return p;
    }
    return this.#connRead();
  };

  /**
   * conn.read(), but after the read already in progress if there is one: an early response ends
   * the exchange while the request pump still waits for body bytes, and finish() must drain
   * behind it rather than call conn.read() concurrently (which runtimes reject).
   */
  #connRead(): Promise<Uint8Array | null> {
    const prev = this.#reading;
    const p = prev === null
      ? this.conn.read()
      : prev.then(() => this.conn.read(), () => this.conn.read());
    this.#reading = p;
    const done = () => {
      if (this.#reading === p) this.#reading = null;
    };
    p.then(done, done);
    return p;
  }

  /** Puts back a read that is still outstanding, so that the next read() returns its result. */
  unread(pending: Promise<Uint8Array | null>): void {
    this.#pending = pending;
  }

  /** Takes over the outstanding read of the session this one replaces on the same connection. */
  inherit(outer: ClientSession): void {
    this.#pending = outer.#pending;
    outer.#pending = null;
  }

  /**
   * While a response is awaited, keep one read outstanding so that a client that leaves is
   * noticed and `onGone` can abort the exchange. Bytes that arrive (a pipelined request) stay
   * for the next read.
   */
  watch(onGone: (why: string) => void): void {
    if (this.#pending !== null) return;
    this.#onGone = onGone;
    const p = this.#connRead();
    this.#pending = p;
    p.then(
      (chunk) => {
        if (chunk === null) this.#onGone?.("client closed the connection");
      },
      () => this.#onGone?.("client connection failed"),
    );
  }

  unwatch(): void {
    this.#onGone = null;
  }

  /** The client as a flow records it. */
  peer(): Peer {
    return {
      address: this.client.address,
      port: this.client.port,
      tls: this.tunnel?.clientTls ?? null,
    };
  }

  /** Serves the connection: HTTP proxy requests, or `handler` (see ModeHandler). */
  async run(handler?: ModeHandler): Promise<void> {
    const hooks = this.ctx.addons;
    if (this.#outermost && hooks.has("client_connected")) {
      await hooks.trigger("client_connected", this.client);
    }
    try {
      await (handler ? this.#serveWith(handler) : this.#serve());
    } finally {
      if (this.#outermost && hooks.has("client_disconnected")) {
        await hooks.trigger("client_disconnected", this.client);
      }
    }
  }

  async #serve(): Promise<void> {
    this.ctx.deadlines.watch(this);
    try {
      for (;;) {
        const head = await this.#readHead();
        if (head === null) break;
        if (!(await this.#dispatch(head))) break;
      }
    } catch (e) {
      await this.#fail(e);
    } finally {
      this.ctx.deadlines.unwatch(this);
      this.unwatch();
      await closeWhenFlushed(this.conn, LINGER_MS); // the last response first
    }
  }

  async #serveWith(handler: ModeHandler): Promise<void> {
    try {
      await handler(this);
    } catch (e) {
      this.ctx.log.debug(`${this.#peer()}: ${(e as Error)?.message ?? e}`);
    } finally {
      await closeWhenFlushed(this.conn, LINGER_MS); // the last response first
    }
  }

  /** The next request head, or null when the client is done (or timed out). */
  async #readHead(): Promise<RequestHead | null> {
    const reader = this.reader;
    let ev = reader.next();
    if (ev === null) {
      const { idle_timeout, header_timeout } = this.ctx.options;
      this.#headStarted = reader.bufferedLength > 0;
      this.deadline = Date.now() + (this.#headStarted ? header_timeout : idle_timeout) * 1000;
      try {
        while (ev === null) {
          const chunk = await this.read();
          if (this.#timedOut) return null;
          if (chunk === null) reader.feedEof();
          else {
            reader.feed(chunk);
            if (!this.#headStarted) {
              this.#headStarted = true;
              this.deadline = Date.now() + header_timeout * 1000;
            }
          }
          ev = reader.next();
          if (ev === null && chunk === null) return null;
        }
      } finally {
        this.deadline = 0;
      }
    }
    if (ev.type === "closed") return null;
    if (ev.type !== "head") throw new HttpError(400, `unexpected ${ev.type} before a request`);
    this.requestStartedAt = Date.now();
    return ev.head;
  }

  /** For ctx.deadlines: when the wait for the current request head times out (0: not waiting). */
  deadline = 0;
  #headStarted = false;

  /** Called by ctx.deadlines when `deadline` passes. */
  expire(): void {
    this.#timeout(this.#headStarted);
  }

  #timeout(started: boolean): void {
    this.#timedOut = true;
    if (started) {
      const seconds = this.ctx.options.header_timeout;
      this.ctx.log.debug(`${this.#peer()}: request head not complete after ${seconds} s`);
      const text = `mitm.ts: request head not complete after ${seconds} s; closing the connection.`;
      try {
        this.conn.write(textResponse(408, text, true))?.catch(() => {});
      } catch { /* already gone */ }
      this.conn.closeWrite();
      setTimeout(() => this.conn.close(), LINGER_MS);
    } else {
      this.conn.close();
    }
  }

  /** Handles one request; returns whether the connection stays open for another. */
  #dispatch(head: RequestHead): Promise<boolean> {
    const target = parseTarget(head.method, head.target);
    if (this.ctx.log.enabled("debug")) {
      this.ctx.log.debug(`${this.#peer()}: ${head.method} ${head.target} ${head.version}`);
    }
    const tunnel = this.tunnel;
    if (tunnel === null && (target.form === "authority" || target.form === "absolute")) {
      const expected = this.ctx.proxyAuth;
      if (expected !== null && !authorized(head.headers.get("proxy-authorization"), expected)) {
        this.ctx.log.info(`${this.#peer()}: 407 for ${head.method} ${head.target}`);
        return this.#answerUnread(
          head,
          407,
          "mitm.ts: proxy authentication required; send the proxyauth user and password " +
            "(curl -U user:pass, or http://user:pass@host:port as the proxy URL).",
          ["Proxy-Authenticate", PROXY_AUTHENTICATE],
        );
      }
    }
    if (this.ctx.mode.kind === "reverse" && tunnel !== null) {
      // A reverse proxy is the origin to its clients: every request goes there.
      if (target.form === "authority") {
        return this.respondAndClose(
          400,
          `mitm.ts is a reverse proxy for ${routeAuthority(tunnel.route)} here, not a forward ` +
            `proxy; send plain requests.`,
        );
      }
      if (target.form === "absolute") {
        return forwardHttp(this, head, tunnel.route, target.path, tunnel.setHost ?? false);
      }
    }
    switch (target.form) {
      case "authority":
        return connectTunnel(this, head, target);
      case "absolute": {
        if (this.#isSelf(target.host, target.port)) break;
        if (target.scheme !== "http" && target.scheme !== "https") {
          throw new HttpError(501, `mitm.ts does not forward ${target.scheme}:// URLs`);
        }
        if (target.host === MAGIC_HOST) return this.#mitmIt(head, target.path);
        const route: Route = {
          scheme: target.scheme,
          host: target.host,
          port: target.port,
          sni: target.scheme === "https" ? sniFor(target.host) : null,
        };
        return forwardHttp(this, head, route, target.path, true);
      }
      case "origin":
      case "asterisk":
        if (tunnel === null) break;
        if (tunnel.route.host === MAGIC_HOST || tunnel.route.sni === MAGIC_HOST) {
          return this.#mitmIt(head, target.form === "origin" ? target.path : "*");
        }
        if (tunnel.upstreamError !== null) {
          // The origin already failed while we fetched its certificate: say so once, then let
          // the next request try again.
          const why = tunnel.upstreamError;
          tunnel.upstreamError = null;
          return this.#answerUnread(
            head,
            502,
            originFailureText(routeAuthority(tunnel.route), why),
          );
        }
        return forwardHttp(
          this,
          head,
          tunnel.route,
          target.form === "origin" ? target.path : "*",
          tunnel.setHost ?? false,
        );
    }
    return this.respondAndClose(400, notAProxyRequestText(this.ctx.proxyUrl));
  }

  /** Serves http://mitm.it itself; keeps the connection when the request had no body. */
  async #mitmIt(head: RequestHead, path: string): Promise<boolean> {
    const bodyless = this.reader.framing?.kind === "none";
    if (bodyless) this.reader.next(); // its "end"
    else return this.respondAndClose(400, "mitm.ts: requests to mitm.it cannot have a body.");
    await this.conn.write(mitmItResponse(this.ctx, head.method, path));
    return head.version !== "HTTP/1.0";
  }

  /**
   * Answers a request without reading its body: the connection closes if there is one (or the
   * client does not keep it alive).
   */
  async #answerUnread(
    head: RequestHead,
    status: number,
    text: string,
    extra: string[] = [],
  ): Promise<boolean> {
    if (this.reader.framing?.kind !== "none" || !keepsAlive(head.version, head.headers)) {
      return this.respondAndClose(status, text, extra);
    }
    this.reader.next(); // its "end"
    await this.conn.write(textResponse(status, text, false, extra));
    return true;
  }

  #isSelf(host: string, port: number): boolean {
    const listen = this.ctx.listen;
    if (port !== listen.port) return false;
    return host === listen.host || host === "localhost" || host === "127.0.0.1" ||
      host === "::1" || host === "0.0.0.0" || host === "::";
  }

  /** Answers with a plain-text response and ends the connection gracefully. */
  async respondAndClose(status: number, text: string, extra: string[] = []): Promise<false> {
    try {
      await this.conn.write(textResponse(status, text, true, extra));
    } catch {
      return false;
    }
    await this.finish();
    return false;
  }

  /** Sends FIN, then drains what the client still sends for a moment before closing. */
  async finish(): Promise<void> {
    this.unwatch();
    this.conn.closeWrite();
    const deadline = setTimeout(() => this.conn.close(), LINGER_MS);
    try {
      while ((await this.read()) !== null) { /* discard */ }
    } catch { /* closed */ }
    clearTimeout(deadline);
    this.conn.close();
  }

  async #fail(e: unknown): Promise<void> {
    if (e instanceof HttpError) {
      this.ctx.log.info(`${this.#peer()}: ${e.status} ${e.message}`);
      const text = e.status < 500
        ? `mitm.ts refused the request: ${e.message}.`
        : `mitm.ts: ${e.message}.`;
      if (!this.conn.isClosed) await this.respondAndClose(e.status, text);
      return;
    }
    this.ctx.log.debug(`${this.#peer()}: ${(e as Error)?.message ?? e}`);
  }

  #peer(): string {
    const r = this.conn.remote;
    return `${r.host}:${r.port}`;
  }
}
