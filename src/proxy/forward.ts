/**
 * One request/response exchange with an origin, as a Flow that addons see and may change.
 *
 * Bodies stream with backpressure, and the request body and the response run concurrently, so an
 * origin may answer before an upload ends. A copy of each body (up to stream_large_bodies) is kept
 * on the flow for observers. Only when an addon implements `request` or `response`, which may
 * change the message, is that message held until complete (again up to stream_large_bodies;
 * larger bodies stream and the hook sees no body).
 */
import {
  BodyWriter,
  canonicalizeFraming,
  EMPTY,
  type Framing,
  HeaderList,
  HttpError,
  keepsAlive,
  type RequestHead,
  type ResponseHead,
  serializeRequestHead,
  serializeResponseHead,
} from "../http1/mod.ts";
import { Flow, FlowRequest, FlowResponse } from "../flow/flow.ts";
import type { ProxyContext } from "./context.ts";
import { dropHopByHop } from "../http/hop_by_hop.ts";
import type { OriginConn } from "./origin_pool.ts";
import { connectOrigin, originFailureText } from "./origin_connect.ts";
import { upstreamTarget } from "./modes/upstream.ts";
import { type Route, routeAuthority, routeKey, sniFor } from "./route.ts";
import { BodyCollector, nextEvent, pumpBody, readWholeBody, relay } from "./pump.ts";
import { type BodyIdle, requestBodyIdle, responseBodyIdle } from "./body_idle.ts";
import { reasonPhrase, textResponse } from "../http/responses.ts";
import type { ClientSession } from "./session.ts";
import type { UpgradeRequest } from "../websocket/handshake.ts";
import { acceptWebSocket, webSocketOffer } from "./layers/http/websocket_upgrade.ts";
import { driveWebSocket } from "./driver/websocket_relay.ts";

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
  readonly flow: Flow;
  /** The route the client asked for; an addon may point the request elsewhere. */
  readonly askedRoute: Route;
  route: Route;
  readonly setHost: boolean;
  readonly requestFraming: Framing;
  readonly hasBody: boolean;
  readonly clientKeepAlive: boolean;
  readonly limit: number;
  origin: OriginConn | null = null;
  /** Why the exchange was abandoned (the client left, the request body broke). */
  aborted: string | null = null;
  /** Set once any response byte was written to the client. */
  responseStarted = false;
  /** What broke the request body, reported in place of the response. */
  requestError: unknown = null;
  /** Set once the whole request has been sent to the origin. */
  requestSent = false;
  /** The status line the origin sent, to notice an addon changing only the status. */
  originStatus = { status: 0, reason: "" };
  /** Set when the proxy answered the client's "Expect: 100-continue" itself. */
  continued = false;
  /** The client's WebSocket handshake, when the request is one. */
  webSocket: UpgradeRequest | null = null;
  /**
   * For ctx.deadlines while the response head is awaited (read_timeout): when the wait ends (0:
   * not waiting). A field write per exchange, no timer of its own.
   */
  deadline = 0;
  /** Set when read_timeout passed before the origin sent a response head. */
  timedOut = false;
  /** body_timeout for the request body (the client stalls) and the response body (the origin). */
  readonly requestIdle: BodyIdle;
  readonly responseIdle: BodyIdle;
  /** The client's reads of the request body, under body_timeout. */
  readonly readRequestBody: () => Promise<Uint8Array | null>;

  constructor(
    session: ClientSession,
    req: RequestHead,
    route: Route,
    path: string,
    setHost: boolean,
  ) {
    this.session = session;
    this.ctx = session.ctx;
    this.askedRoute = this.route = route;
    this.setHost = setHost;
    this.requestFraming = session.reader.framing!;
    this.hasBody = this.requestFraming.kind !== "none";
    this.limit = this.ctx.options.stream_large_bodies;
    // HTTP/1.0 clients get one response per connection (RFC 9112 section 9.3: a proxy must not
    // keep a persistent connection with an HTTP/1.0 client).
    this.clientKeepAlive = req.version !== "HTTP/1.0" && keepsAlive(req.version, req.headers);
    const request = new FlowRequest({
      method: req.method,
      scheme: route.scheme,
      host: route.host,
      port: route.port,
      path,
      httpVersion: req.version,
      headers: req.headers,
      timestampStart: session.requestStartedAt,
    });
    this.flow = new Flow(session.peer(), request);
    this.requestIdle = requestBodyIdle(this.ctx);
    this.responseIdle = responseBodyIdle(this.ctx, () => this.authority);
    this.readRequestBody = this.hasBody ? this.requestIdle.wrap(session.read) : session.read;
  }

  get authority(): string {
    return routeAuthority(this.route);
  }

  readonly abort = (why: string): void => {
    if (this.aborted !== null) return;
    this.aborted = why;
    this.ctx.log.debug(`${this.flow.request.method} ${this.flow.request.url}: aborted (${why})`);
    this.origin?.close();
  };

  async run(): Promise<boolean> {
    try {
      return await this.#run();
    } catch (e) {
      return await this.#fail(e);
    } finally {
      this.requestIdle.done();
      this.responseIdle.done();
      this.session.unwatch();
      this.ctx.flowDone(this.flow);
    }
  }

  async #run(): Promise<boolean> {
    const { flow, session } = this;
    const hooks = this.ctx.addons;
    if (hooks.has("requestheaders")) {
      await hooks.trigger("requestheaders", flow);
      if (flow.killed || flow.responded) {
        // A request without a body is complete: take its "end" event, or the next request on
        // this connection would find it instead of a head.
        if (!this.hasBody && !flow.killed) {
          session.reader.next();
          flow.request.body = EMPTY;
          flow.request.timestampEnd = Date.now();
        }
        return await this.#shortCircuit(!this.hasBody);
      }
    }

    // The request body: none, held whole for a `request` hook, or streamed (prefix: what was read
    // before it outgrew the limit).
    let held: Uint8Array | null = null;
    let prefix: Uint8Array[] = [];
    const request = flow.request;
    if (!this.hasBody) {
      session.reader.next(); // the request's "end" event
      held = EMPTY;
      request.body = EMPTY;
      request.timestampEnd = Date.now();
    } else if (hooks.has("request") && !request.stream && !this.#tooBig(this.requestFraming)) {
      await this.#continueIfExpected();
      const whole = await readWholeBody(session.reader, this.readRequestBody, this.limit);
      if (whole.complete) {
        held = request.body = whole.body;
        request.bodySize = whole.body.length;
        request.trailers = whole.trailers;
        request.timestampEnd = Date.now();
      } else prefix = whole.read;
    }
    if (hooks.has("request")) {
      if (held === null) {
        // The body streams past the hook: it sees no body, says so, and how much was read so far.
        request.streamed = true;
        request.bodySize = prefix.reduce((n, part) => n + part.length, 0);
      }
      await hooks.trigger("request", flow);
      if (flow.killed || flow.responded) return await this.#shortCircuit(held !== null);
    }
    if (request.bodyChanged) {
      // An addon set a new body: that is what goes out (with its own Content-Length). What the
      // client still sends of a body that was streaming is read and dropped first.
      if (held === null && this.hasBody) {
        await pumpBody(
          session.reader,
          this.readRequestBody,
          null,
          new BodyWriter(this.requestFraming),
          [],
        );
        prefix = [];
        request.timestampEnd = Date.now();
      }
      held = request.body ?? EMPTY;
    }

    this.webSocket = webSocketOffer(request, this.ctx.log);
    this.route = this.#routeFor(request);
    const headBytes = this.#upstreamHead(held);
    const key = routeKey(this.route);
    let pooled = this.ctx.pool.take(key);
    for (let attempt = 0;; attempt++) {
      const reused = pooled !== undefined;
      const origin = pooled ?? await this.#connect();
      pooled = undefined;
      if (origin === null) return held !== null && this.clientKeepAlive;
      this.origin = origin;
      // A connection that has carried no request yet is new to the addons, wherever it was
      // opened (here, or by a CONNECT tunnel that fetched the origin's certificate with it).
      if (origin.uses === 0) await this.#serverConnected(origin);
      // A copy: pooled connections serve many flows, each with its own view of it.
      flow.server = { ...origin.server, reused: origin.uses > 0 };
      const requestDone = this.#sendRequest(origin, headBytes, held, prefix);
      const head = await this.#readFinalHead(origin);
      if (head === "retry" && reused && held !== null && attempt === 0) {
        // A pooled connection the origin had closed: the request never arrived, and we hold all
        // of it, so it is safe to send it again on a fresh one.
        origin.close();
        continue;
      }
      if (head === "retry") {
        throw new HttpError(502, `${this.authority} closed the connection without responding`);
      }
      return await this.#respond(origin, head, requestDone);
    }
  }

  /**
   * A client that sent "Expect: 100-continue" waits for a go-ahead before it sends the body. When
   * the proxy holds the body for a `request` hook the origin cannot give it (it gets no request
   * until the body is complete), so the proxy does, and does not pass the expectation on; without
   * this the client stalls until its own timeout (curl: 1 s). HTTP/1.0 has no 100 Continue.
   */
  async #continueIfExpected(): Promise<void> {
    const request = this.flow.request;
    const expect = request.headers.get("expect");
    if (expect?.trim().toLowerCase() !== "100-continue" || request.httpVersion === "HTTP/1.0") {
      return;
    }
    this.continued = true;
    await this.#write(
      serializeResponseHead({
        version: "HTTP/1.1",
        status: 100,
        reason: "Continue",
        headers: new HeaderList(),
      }),
    );
  }

  /** A Content-Length body larger than stream_large_bodies is streamed without being held. */
  #tooBig(framing: Framing): boolean {
    return framing.kind === "length" && framing.length > this.limit;
  }

  /** Where the (possibly changed) request goes. */
  #routeFor(request: FlowRequest): Route {
    const asked = this.askedRoute;
    if (
      request.scheme === asked.scheme && request.host === asked.host && request.port === asked.port
    ) {
      return asked;
    }
    return {
      scheme: request.scheme,
      host: request.host,
      port: request.port,
      sni: request.scheme === "https" ? sniFor(request.host) : null,
    };
  }

  /**
   * The request head as the origin gets it: origin-form target, no hop-by-hop fields, Host per
   * RFC 9112 3.2.2, and a Content-Length for a body that was held (an addon may have changed it).
   */
  #upstreamHead(held: Uint8Array | null): Uint8Array {
    const request = this.flow.request;
    const headers = request.headers.clone();
    dropHopByHop(headers, true);
    canonicalizeFraming(headers); // "0005" goes on as "5", ",chunked" as "chunked"
    if (this.continued) headers.delete("expect"); // met already: the body comes with the head
    const authority = this.authority;
    const host = headers.get("host");
    if (host === undefined) headers.raw.splice(0, 0, "Host", authority);
    else if (
      (this.setHost || this.route !== this.askedRoute) && host.toLowerCase() !== authority
    ) {
      // "MUST ignore the received Host header field (if any) and instead replace it with the
      // host information of the request-target"; also when an addon changed the destination.
      headers.set("Host", authority);
    }
    if (held !== null && (held.length > 0 || this.hasBody || request.bodyChanged)) {
      headers.delete("transfer-encoding");
      headers.set("Content-Length", String(held.length));
    }
    return serializeRequestHead({
      method: request.method,
      target: upstreamTarget(this.ctx, this.route, headers, request.path), // upstream mode
      version: wireVersion(request.httpVersion),
      headers,
    });
  }

  /** A new origin connection, or null after telling the client why there is none. */
  async #connect(): Promise<OriginConn | null> {
    const { ctx, flow } = this;
    try {
      const { origin } = await connectOrigin(ctx, this.route);
      return origin;
    } catch (e) {
      const why = (e as Error).message;
      ctx.log.debug(`${flow.request.method} ${flow.request.url}: could not connect (${why})`);
      await this.#flowError(`could not connect to ${this.authority}: ${why}`);
      const text = originFailureText(this.authority, why);
      if (!this.requestFullyRead() || !this.clientKeepAlive) {
        await this.session.respondAndClose(502, text);
      } else await this.#write(textResponse(502, text, false));
      return null;
    }
  }

  /** Runs the server_connected hooks for a connection's first use. */
  async #serverConnected(origin: OriginConn): Promise<void> {
    const hooks = this.ctx.addons;
    if (!hooks.has("server_connected")) return;
    const s = origin.server;
    await hooks.trigger("server_connected", {
      address: s.address,
      port: s.port,
      tls: s.tls,
      timestampStart: s.timestampTcpStart ?? Date.now(),
    }, this.flow);
  }

  /** True when nothing of the request is left unread on the client connection. */
  requestFullyRead(): boolean {
    return !this.hasBody || this.flow.request.timestampEnd !== null;
  }

  /**
   * Sends the request. Resolves true once the whole request is out, false if the origin stopped
   * taking it (its response may still explain why). Client-side failures abort.
   */
  async #sendRequest(
    origin: OriginConn,
    headBytes: Uint8Array,
    held: Uint8Array | null,
    prefix: Uint8Array[],
  ): Promise<boolean> {
    const { session, flow } = this;
    origin.uses++;
    origin.reader.expect(flow.request.method);
    if (held !== null) {
      session.watch(this.abort);
      try {
        const wait = origin.conn.writev(held.length > 0 ? [headBytes, held] : [headBytes]);
        this.requestSent = true; // queued in full: nothing more of this request to wait for
        if (wait) await wait;
        return true;
      } catch {
        return false;
      }
    }
    const writer = new BodyWriter(this.requestFraming);
    const out = [headBytes];
    for (const part of prefix) writer.data(part, out);
    const collected = new BodyCollector(this.limit, prefix);
    const request = flow.request;
    try {
      request.trailers = await pumpBody(
        session.reader,
        this.readRequestBody,
        origin.conn,
        writer,
        out,
        session.conn.recycle?.bind(session.conn),
        collected,
      );
      this.requestSent = true;
      // read_timeout counts from the end of the request.
      if (this.deadline !== 0) this.deadline = Date.now() + this.ctx.options.read_timeout * 1000;
      session.watch(this.abort);
      return true;
    } catch (e) {
      if (e instanceof HttpError || session.conn.isClosed) {
        this.abort(`request body: ${(e as Error).message}`);
        this.requestError = e;
      }
      return false;
    } finally {
      request.body = collected.result();
      request.bodySize = collected.size;
      request.streamed = collected.overflow;
      request.timestampEnd = Date.now();
    }
  }

  /**
   * Reads past 1xx interim responses (forwarding them) to the final head, or "retry"; within
   * read_timeout of the request being sent (and of each interim response), else 504.
   */
  async #readFinalHead(origin: OriginConn): Promise<ResponseHead | "retry"> {
    const waitMs = this.ctx.options.read_timeout * 1000;
    if (waitMs <= 0) return await this.#readFinalHeadUntimed(origin);
    this.deadline = Date.now() + waitMs;
    this.ctx.deadlines.watch(this);
    try {
      return await this.#readFinalHeadUntimed(origin);
    } finally {
      this.deadline = 0;
      this.ctx.deadlines.unwatch(this);
    }
  }

  /** Called by ctx.deadlines when `deadline` passes while the response head is awaited. */
  expire(): void {
    if (!this.requestSent && this.aborted === null && !this.session.conn.isClosed) {
      // The request is still being sent (a slow upload): the wait counts from its end.
      this.deadline = Date.now() + this.ctx.options.read_timeout * 1000;
      return;
    }
    this.timedOut = true;
    this.origin?.close(); // its pending read ends, and #readFinalHeadUntimed reports the 504
  }

  /** The 504 for an origin that sent no response head within read_timeout. */
  #timeoutError(): HttpError {
    const s = this.ctx.options.read_timeout;
    return new HttpError(504, `${this.authority} sent no response within ${s} s (read_timeout)`);
  }

  async #readFinalHeadUntimed(origin: OriginConn): Promise<ResponseHead | "retry"> {
    for (;;) {
      let ev;
      try {
        ev = await nextEvent(origin.reader, origin.read);
      } catch (e) {
        if (this.timedOut) throw this.#timeoutError();
        if (this.aborted !== null) throw this.requestError ?? new Aborted(this.aborted);
        if (e instanceof HttpError) throw e;
        if (origin.uses === 1) {
          throw new HttpError(502, `${this.authority}: ${(e as Error).message}`);
        }
        return "retry";
      }
      if (this.timedOut) throw this.#timeoutError();
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
      if (this.flow.request.httpVersion !== "HTTP/1.0") {
        dropHopByHop(head.headers, false);
        this.responseStarted = true;
        await this.#write(serializeResponseHead({ ...head, version: wireVersion(head.version) }));
      }
      if (this.deadline !== 0) this.deadline = Date.now() + this.ctx.options.read_timeout * 1000;
    }
  }

  async #respond(
    origin: OriginConn,
    head: ResponseHead,
    requestDone: Promise<boolean>,
  ): Promise<boolean> {
    const { session, flow } = this;
    const hooks = this.ctx.addons;
    const client = session.conn;
    const framing = origin.reader.framing!;
    this.originStatus = { status: head.status, reason: head.reason };
    const response = flow.response = new FlowResponse({
      status: head.status,
      reason: head.reason,
      httpVersion: head.version,
      headers: head.headers,
      timestampStart: Date.now(),
    });
    if (hooks.has("responseheaders")) {
      await hooks.trigger("responseheaders", flow);
      if (flow.killed) return this.#kill();
    }
    const originKeepAlive = keepsAlive(head.version, head.headers) &&
      flow.request.httpVersion !== "HTTP/1.0";
    const switching = framing.kind === "switch";

    if (switching) {
      origin.reader.next(); // "end" of the 101 head
      if (!(await requestDone)) throw new HttpError(502, "request was not complete before 101");
      response.body = EMPTY;
      response.timestampEnd = Date.now();
      session.unwatch();
      const ws = this.webSocket && await acceptWebSocket(flow, this.webSocket, this.ctx.log);
      if (ws && hooks.has("websocket_start")) await hooks.trigger("websocket_start", flow);
      await this.#write(this.#responseHead(true, null, true));
      this.responseStarted = true;
      const clientBytes = session.reader.takeBuffered();
      const originBytes = origin.reader.takeBuffered();
      if (ws) {
        await driveWebSocket({
          flow,
          client: { conn: client, read: session.read, leftover: clientBytes },
          server: { conn: origin.conn, read: origin.read, leftover: originBytes },
          deflate: ws.deflate,
          addons: hooks,
          log: this.ctx.log,
        });
      } else await relay(client, session.read, clientBytes, origin.conn, origin.read, originBytes);
      return false;
    }

    // Held whole for a `response` hook, unless asked to stream or too large.
    let prefix: Uint8Array[] = [];
    if (hooks.has("response") && !response.stream && !this.#tooBig(framing)) {
      const whole = await this.#readResponseBody(origin);
      if (whole.complete) {
        response.body = whole.body;
        response.bodySize = whole.body.length;
        response.trailers = whole.trailers;
        response.timestampEnd = Date.now();
        await hooks.trigger("response", flow);
        if (flow.killed) return this.#kill();
        return await this.#sendHeldResponse(origin, framing, originKeepAlive, requestDone);
      }
      prefix = whole.read;
    }

    // Streamed: bytes go out as they arrive; a copy is kept for the flow.
    const keepClient = this.#keepClient(framing);
    const writer = new BodyWriter(framing);
    const responseHead = this.#responseHead(keepClient, null);
    const out = [responseHead];
    for (const part of prefix) writer.data(part, out);
    const collected = new BodyCollector(this.limit, prefix);
    const interimSent = this.responseStarted;
    this.responseStarted = true;
    try {
      response.trailers = await pumpBody(
        origin.reader,
        this.responseIdle.wrap(origin.read),
        client,
        writer,
        out,
        origin.conn.recycle?.bind(origin.conn),
        collected,
      );
    } catch (e) {
      // The head goes out with the first body bytes (pumpBody flushes `out`): while it is still
      // there, nothing of this response reached the client, which can get a 502 that says why.
      if (
        out[0] === responseHead && !interimSent && this.aborted === null && !client.isClosed
      ) {
        this.responseStarted = false;
        throw e instanceof HttpError ? e : new HttpError(502, (e as Error).message);
      }
      // The response is cut short: closing is the only way left to tell the client.
      const why = (e as Error).message;
      if (this.aborted === null) {
        this.ctx.log.debug(
          `${flow.request.method} ${flow.request.url}: response body failed (${why})`,
        );
      }
      await this.#flowError(this.aborted ?? `response body failed: ${why}`);
      origin.close();
      client.close();
      return false;
    } finally {
      response.body = collected.result();
      response.bodySize = collected.size;
      response.streamed = collected.overflow;
      response.timestampEnd = Date.now();
    }
    // A hook that could not hold the response (too large, or stream set) still sees it, late.
    if (hooks.has("response")) await hooks.trigger("response", flow);
    return await this.#finishExchange(origin, framing, originKeepAlive, requestDone, keepClient);
  }

  #readResponseBody(origin: OriginConn) {
    return readWholeBody(origin.reader, this.responseIdle.wrap(origin.read), this.limit).catch(
      (e) => {
        throw e instanceof HttpError ? e : new HttpError(502, (e as Error).message);
      },
    );
  }

  /** Whether the client connection can carry another request after this response. */
  #keepClient(framing: Framing): boolean {
    // An origin that answers before the upload ends leaves the rest of the request unread, so
    // that connection cannot carry another request: say so (RFC 9110 section 15.5.14 asks a
    // server that answers early to tell whether it will close).
    return this.clientKeepAlive && framing.kind !== "close" && this.requestSent;
  }

  /**
   * The response head as the client gets it: hop-by-hop fields dropped, "Connection: close" when
   * the connection ends after it, and `contentLength` set when the body was re-framed.
   */
  #responseHead(keepClient: boolean, contentLength: number | null, switching = false): Uint8Array {
    const response = this.flow.response!;
    const headers = response.headers.clone();
    dropHopByHop(headers, switching || response.status === 101);
    canonicalizeFraming(headers); // "0005" goes on as "5", ",chunked" as "chunked"
    if (contentLength !== null) {
      headers.delete("transfer-encoding");
      headers.set("Content-Length", String(contentLength));
    }
    if (!keepClient && response.status !== 101) headers.append("Connection", "close");
    // An addon that changed only the status gets the matching reason ("404 Not Found", not
    // "404 OK").
    const { status, reason } = this.originStatus;
    const stale = response.status !== status && response.reason === reason;
    return serializeResponseHead({
      version: wireVersion(response.httpVersion),
      status: response.status,
      reason: stale || !response.reason
        ? reasonPhrase(response.status, response.reason)
        : response.reason,
      headers,
    });
  }

  /** Sends a response that was held for the `response` hook (and maybe changed by it). */
  async #sendHeldResponse(
    origin: OriginConn,
    framing: Framing,
    originKeepAlive: boolean,
    requestDone: Promise<boolean>,
  ): Promise<boolean> {
    const response = this.flow.response!;
    const body = response.body ?? EMPTY;
    const bodiless = this.flow.request.method === "HEAD" || response.status === 204 ||
      response.status === 304 || response.status < 200;
    // A changed body, or one that arrived chunked or close-delimited, goes out with a
    // Content-Length; an unchanged chunked body keeps its framing (and its trailers).
    const keepChunked = framing.kind === "chunked" && !response.bodyChanged;
    const reframe = !bodiless && !keepChunked &&
      (response.bodyChanged || framing.kind === "close");
    const sentFraming: Framing = keepChunked ? framing : { kind: "length", length: body.length };
    const keepClient = this.#keepClient(sentFraming);
    const out = [this.#responseHead(keepClient, reframe ? body.length : null)];
    if (!bodiless) {
      const writer = new BodyWriter(sentFraming);
      writer.data(body, out);
      writer.end(response.trailers, out);
    }
    this.responseStarted = true;
    await this.session.conn.writev(out);
    return await this.#finishExchange(origin, framing, originKeepAlive, requestDone, keepClient);
  }

  /** After the response went out: pool or close the origin, keep or end the client. */
  async #finishExchange(
    origin: OriginConn,
    framing: Framing,
    originKeepAlive: boolean,
    requestDone: Promise<boolean>,
    keepClient: boolean,
  ): Promise<boolean> {
    const session = this.session;
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

  /**
   * An addon answered (respond) or dropped (kill) the flow before it reached the origin.
   * `bodyRead` says whether the request body has been consumed; if not, the connection closes.
   */
  async #shortCircuit(bodyRead: boolean): Promise<boolean> {
    const { flow } = this;
    if (flow.killed) return this.#kill();
    const response = flow.response!;
    const body = response.body ?? EMPTY;
    const keep = this.clientKeepAlive && bodyRead;
    const headers = response.headers.clone();
    dropHopByHop(headers, false);
    const bodiless = flow.request.method === "HEAD" || response.status === 204 ||
      response.status === 304;
    if (!bodiless || body.length > 0) headers.set("Content-Length", String(body.length));
    if (!keep) headers.append("Connection", "close");
    const head = serializeResponseHead({
      version: "HTTP/1.1",
      status: response.status,
      reason: response.reason || reasonPhrase(response.status),
      headers,
    });
    this.responseStarted = true;
    await this.session.conn.writev(bodiless ? [head] : [head, body]);
    if (!keep) await this.session.finish();
    return keep;
  }

  #kill(): boolean {
    this.ctx.log.debug(`${this.flow.request.method} ${this.flow.request.url}: killed by an addon`);
    this.flow.error ??= { message: "connection killed by an addon", timestamp: Date.now() };
    this.origin?.close();
    this.session.conn.close();
    return false;
  }

  /** Records the failure on the flow and runs the `error` hooks. */
  async #flowError(message: string): Promise<void> {
    if (this.flow.error !== null) return;
    this.flow.error = { message, timestamp: Date.now() };
    if (this.ctx.addons.has("error")) await this.ctx.addons.trigger("error", this.flow);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    await this.session.conn.write(bytes);
  }

  async #fail(e: unknown): Promise<boolean> {
    this.origin?.close();
    const { session, flow } = this;
    // A request body that broke (or stalled) is why the origin side failed too: report that.
    if (this.requestError instanceof HttpError && this.aborted !== null) e = this.requestError;
    const label = `${flow.request.method} ${flow.request.url}`;
    if (e instanceof Aborted || session.conn.isClosed) {
      await this.#flowError(this.aborted ?? (e as Error)?.message ?? "client connection closed");
      return false;
    }
    if (!(e instanceof HttpError)) {
      this.ctx.log.debug(`${label}: ${(e as Error)?.message ?? e}`);
      await this.#flowError((e as Error)?.message ?? String(e));
      return false;
    }
    this.ctx.log.debug(`${label}: ${e.status} ${e.message}`);
    await this.#flowError(e.message);
    if (this.responseStarted && e.status >= 500) {
      session.conn.close();
      return false;
    }
    const text = e.status === 408
      ? `mitm.ts: ${e.message}; closing the connection.`
      : e.status === 504
      ? `mitm.ts: ${e.message}.`
      : e.status >= 500 && e.status !== 505
      ? `mitm.ts got a bad response from ${this.authority}: ${e.message}.`
      : `mitm.ts refused the request: ${e.message}.`;
    return session.respondAndClose(e.status, text);
  }
}

class Aborted extends Error {}

/**
 * The version a forwarded message is sent with. RFC 9110 section 2.5: "Intermediaries that
 * process HTTP messages ... MUST send their own HTTP-version in forwarded messages", so an
 * "HTTP/1.7" peer's message goes on as HTTP/1.1 (the flow keeps the version as received).
 * HTTP/1.0 stays 1.0, a deliberate downgrade: it tells the other side not to use chunked
 * framing or keep-alive the HTTP/1.0 peer would not understand.
 */
function wireVersion(version: string): string {
  return version === "HTTP/1.0" ? version : "HTTP/1.1";
}
