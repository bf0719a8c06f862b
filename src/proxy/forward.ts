/**
 * Forwarding one http:// request (absolute-form) to its origin and streaming the response back.
 * The request body and the response run concurrently, so an origin may answer before the upload
 * ends, and bytes flow as they arrive in both directions.
 */
import {
  BodyWriter,
  type Framing,
  HttpError,
  keepsAlive,
  type RequestHead,
  type ResponseHead,
  serializeRequestHead,
  serializeResponseHead,
} from "../http1/mod.ts";
import type { ProxyContext } from "./context.ts";
import { dropHopByHop, normalizeContentLength } from "./hop_by_hop.ts";
import type { OriginConn } from "./origin_pool.ts";
import { connectOrigin, originFailureText } from "./origin_connect.ts";
import { type Route, routeAuthority, routeKey } from "./route.ts";
import { nextEvent, pumpBody, relay } from "./pump.ts";
import { textResponse } from "./responses.ts";
import type { ClientSession } from "./session.ts";

/**
 * Forwards `req` to the route's origin with `path` as its target. `setHost` applies RFC 9112
 * 3.2.2 for absolute-form requests; requests inside a tunnel keep the Host the client sent.
 */
export function forwardHttp(
  session: ClientSession,
  req: RequestHead,
  route: Route,
  path: string,
  setHost: boolean,
): Promise<boolean> {
  return new Exchange(session, req, route, path, setHost).run();
}

class Exchange {
  readonly session: ClientSession;
  readonly ctx: ProxyContext;
  readonly req: RequestHead;
  readonly route: Route;
  readonly path: string;
  readonly setHost: boolean;
  readonly authority: string;
  readonly requestFraming: Framing;
  readonly hasBody: boolean;
  readonly clientKeepAlive: boolean;
  origin: OriginConn | null = null;
  /** Why the exchange was abandoned (the client left, the request body broke). */
  aborted: string | null = null;
  /** Set once any response byte was written to the client. */
  responseStarted = false;
  /** What broke the request body, reported in place of the response. */
  requestError: unknown = null;
  /** Set once the whole request has been sent to the origin. */
  requestSent = false;

  constructor(
    session: ClientSession,
    req: RequestHead,
    route: Route,
    path: string,
    setHost: boolean,
  ) {
    this.session = session;
    this.ctx = session.ctx;
    this.req = req;
    this.route = route;
    this.path = path;
    this.setHost = setHost;
    this.authority = routeAuthority(route);
    this.requestFraming = session.reader.framing!;
    this.hasBody = this.requestFraming.kind !== "none";
    // HTTP/1.0 clients get one response per connection (RFC 9112 section 9.3: a proxy must not
    // keep a persistent connection with an HTTP/1.0 client).
    this.clientKeepAlive = req.version !== "HTTP/1.0" && keepsAlive(req.version, req.headers);
  }

  readonly abort = (why: string): void => {
    if (this.aborted !== null) return;
    this.aborted = why;
    this.ctx.log.debug(`${this.req.method} ${this.#url()}: aborted (${why})`);
    this.origin?.close();
  };

  async run(): Promise<boolean> {
    const session = this.session;
    const headBytes = this.#upstreamHead();
    const key = routeKey(this.route);
    if (!this.hasBody) session.reader.next(); // the request's "end" event
    try {
      let pooled = this.ctx.pool.take(key);
      for (let attempt = 0;; attempt++) {
        const reused = pooled !== undefined;
        const origin = pooled ?? await this.#connect();
        pooled = undefined;
        if (origin === null) return !this.hasBody && this.clientKeepAlive;
        this.origin = origin;
        const requestDone = this.#sendRequest(origin, headBytes);
        const head = await this.#readFinalHead(origin);
        if (head === "retry" && reused && !this.hasBody && attempt === 0) {
          // A pooled connection the origin had closed: the request never arrived, so it is safe
          // to send it again on a fresh one.
          origin.close();
          continue;
        }
        if (head === "retry") {
          throw new HttpError(502, `${this.authority} closed the connection without responding`);
        }
        return await this.#respond(origin, head, requestDone);
      }
    } catch (e) {
      return this.#fail(e);
    } finally {
      session.unwatch();
    }
  }

  /** The request head as the origin gets it: origin-form target, no hop-by-hop fields. */
  #upstreamHead(): Uint8Array {
    const headers = this.req.headers;
    dropHopByHop(headers, true);
    normalizeContentLength(headers);
    // RFC 9112 section 3.2.2: a proxy "MUST ignore the received Host header field (if any) and
    // instead replace it with the host information of the request-target".
    const host = headers.get("host");
    if (host === undefined) headers.raw.splice(0, 0, "Host", this.authority);
    else if (this.setHost && host.toLowerCase() !== this.authority) {
      headers.set("Host", this.authority);
    }
    return serializeRequestHead({
      method: this.req.method,
      target: this.path,
      version: this.req.version,
      headers,
    });
  }

  /** A new origin connection, or null after telling the client why there is none. */
  async #connect(): Promise<OriginConn | null> {
    const { ctx } = this;
    try {
      return (await connectOrigin(ctx, this.route)).origin;
    } catch (e) {
      const why = (e as Error).message;
      ctx.log.info(`${this.req.method} ${this.#url()}: could not connect (${why})`);
      const text = originFailureText(this.authority, why);
      if (this.hasBody || !this.clientKeepAlive) await this.session.respondAndClose(502, text);
      else await this.#write(textResponse(502, text, false));
      return null;
    }
  }

  /** The request's URL, for log lines. */
  #url(): string {
    return `${this.route.scheme}://${this.authority}${this.path}`;
  }

  /**
   * Sends the head and streams the body. Resolves true once the whole request is out, false if
   * the origin stopped taking it (its response may still explain why). Client-side failures abort.
   */
  async #sendRequest(origin: OriginConn, headBytes: Uint8Array): Promise<boolean> {
    const session = this.session;
    origin.uses++;
    origin.reader.expect(this.req.method);
    if (!this.hasBody) {
      session.watch(this.abort);
      try {
        const wait = origin.conn.write(headBytes);
        this.requestSent = true; // queued in full: nothing more of this request to wait for
        if (wait) await wait;
        return true;
      } catch {
        return false;
      }
    }
    try {
      await pumpBody(
        session.reader,
        session.read,
        origin.conn,
        new BodyWriter(this.requestFraming),
        [headBytes],
        session.conn.recycle?.bind(session.conn),
      );
      this.requestSent = true;
      session.watch(this.abort);
      return true;
    } catch (e) {
      if (e instanceof HttpError || session.conn.isClosed) {
        this.abort(`request body: ${(e as Error).message}`);
        this.requestError = e;
      }
      return false;
    }
  }

  /** Reads past 1xx interim responses (forwarding them) to the final head, or "retry". */
  async #readFinalHead(origin: OriginConn): Promise<ResponseHead | "retry"> {
    for (;;) {
      let ev;
      try {
        ev = await nextEvent(origin.reader, origin.read);
      } catch (e) {
        if (this.aborted !== null) throw this.requestError ?? new Aborted(this.aborted);
        if (e instanceof HttpError) throw e;
        if (origin.uses === 1) {
          throw new HttpError(502, `${this.authority}: ${(e as Error).message}`);
        }
        return "retry";
      }
      if (this.aborted !== null) throw this.requestError ?? new Aborted(this.aborted);
      if (ev.type === "closed") {
        if (origin.uses > 1) return "retry";
        throw new HttpError(502, `${this.authority} closed the connection without responding`);
      }
      if (ev.type !== "head") throw new HttpError(502, "response did not start with a head");
      const head = ev.head;
      if (head.status >= 200 || head.status === 101) return head;
      // Interim response (100 Continue, 103 Early Hints): pass it on, except to HTTP/1.0 clients
      // which do not know them (RFC 9110 section 15.2).
      await nextEvent(origin.reader, origin.read); // its "end"
      if (this.req.version !== "HTTP/1.0") {
        dropHopByHop(head.headers, false);
        this.responseStarted = true;
        await this.#write(serializeResponseHead(head));
      }
    }
  }

  async #respond(
    origin: OriginConn,
    head: ResponseHead,
    requestDone: Promise<boolean>,
  ): Promise<boolean> {
    const session = this.session;
    const client = session.conn;
    const framing = origin.reader.framing!;
    const originKeepAlive = keepsAlive(head.version, head.headers) &&
      this.req.version !== "HTTP/1.0";
    const switching = framing.kind === "switch";
    // An origin that answers before the upload ends leaves the rest of the request unread, so
    // that connection cannot carry another request: say so (RFC 9110 section 15.5.14 asks a
    // server that answers early to tell whether it will close).
    const keepClient = this.clientKeepAlive && framing.kind !== "close" && !switching &&
      this.requestSent;
    dropHopByHop(head.headers, switching);
    normalizeContentLength(head.headers);
    if (!keepClient && !switching) head.headers.append("Connection", "close");
    const out = [serializeResponseHead(head)];
    this.responseStarted = true;

    if (switching) {
      origin.reader.next(); // "end" of the 101 head
      if (!(await requestDone)) throw new HttpError(502, "request was not complete before 101");
      session.unwatch();
      await this.#write(out[0]);
      await relay(
        client,
        session.read,
        session.reader.takeBuffered(),
        origin.conn,
        origin.read,
        origin.reader.takeBuffered(),
      );
      return false;
    }

    try {
      await pumpBody(
        origin.reader,
        origin.read,
        client,
        new BodyWriter(framing),
        out,
        origin.conn.recycle?.bind(origin.conn),
      );
    } catch (e) {
      // The response is cut short: closing is the only way left to tell the client.
      if (this.aborted === null) {
        this.ctx.log.info(
          `${this.req.method} ${this.#url()}: response body failed (${(e as Error).message})`,
        );
      }
      origin.close();
      client.close();
      return false;
    }

    if (this.aborted !== null) {
      origin.close();
      return false;
    }
    // true: all sent; false: sending failed; null: the upload is still under way (requestDone is
    // settled already when it wins the race against an already-resolved promise).
    const requestComplete = await Promise.race([requestDone, Promise.resolve(null)]);
    const reusable = originKeepAlive && framing.kind !== "close" && requestComplete === true &&
      origin.reader.bufferedLength === 0;
    if (reusable) this.ctx.pool.release(origin);
    else origin.close();
    if (requestComplete === true) return keepClient;
    if (requestComplete === null) {
      // The origin answered before the upload ended; the rest of the request is unwanted.
      session.unwatch();
      await session.finish();
    }
    return false;
  }

  async #write(bytes: Uint8Array): Promise<void> {
    await this.session.conn.write(bytes);
  }

  #fail(e: unknown): Promise<boolean> {
    this.origin?.close();
    const session = this.session;
    if (e instanceof Aborted || session.conn.isClosed) return Promise.resolve(false);
    if (!(e instanceof HttpError)) {
      this.ctx.log.info(`${this.req.method} ${this.#url()}: ${(e as Error)?.message ?? e}`);
      return Promise.resolve(false);
    }
    this.ctx.log.info(`${this.req.method} ${this.#url()}: ${e.status} ${e.message}`);
    if (this.responseStarted && e.status >= 500) {
      session.conn.close();
      return Promise.resolve(false);
    }
    const text = e.status >= 500 && e.status !== 505
      ? `mitm.ts got a bad response from ${this.authority}: ${e.message}.`
      : `mitm.ts refused the request: ${e.message}.`;
    return session.respondAndClose(e.status, text);
  }
}

class Aborted extends Error {}
