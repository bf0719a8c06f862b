/**
 * One HTTP exchange as a flow: the version-neutral stream logic. It runs the hooks in order
 * (requestheaders, request, responseheaders, response, error), holds a body for the hooks that
 * may change it or streams it through, answers from a hook (respond) or drops the client (kill),
 * and turns every failure into a response or a flow error. It never sees bytes: it gets stream
 * events from the HttpLayer and sends stream events to a connection by its id. CONNECT tunnels and
 * 101 upgrades are in stream_tunnels.ts.
 */
import type { ServerInfo } from "../../../addons/types.ts";
import { type Flow, FlowResponse } from "../../../flow/flow.ts";
import { HeaderList } from "../../../http/headers.ts";
import { type HttpRequestHead, type HttpResponseHead, urlOf } from "../../../http/message.ts";
import { PROXY_AUTHENTICATE } from "../proxy_auth.ts";
import { Arm, CallHook, type Command, Disarm, Log } from "../../core/commands.ts";
import { notAProxyRequestText, originFailureText, reasonPhrase } from "../../../http/responses.ts";
import type { Context, Onboarding } from "../../core/context.ts";
import { type Event, MessageInjected, SpliceEnded, Wakeup } from "../../core/events.ts";
import { type CommandGenerator, just } from "../../core/layer.ts";
import { BodyBuffer } from "./body_buffer.ts";
import { TunnellingStream } from "./stream_tunnels.ts";
import type { HttpMode } from "./mode.ts";
import { webSocketOffer } from "./websocket.ts";
import { EarlyWebSocketData } from "./websocket_stream.ts";
import { bodiless, destinationOf, hostFor } from "./request_head.ts";
import { H2_VERSION } from "./h2_convert.ts";
import {
  AUTH_REQUIRED,
  frameHeldRequest,
  holdsBody,
  isConversation,
  newFlow,
  proxyAuthorized,
  requestHeadOf,
  serverInfo,
  serverPeer,
} from "./flow_parts.ts";
import {
  GetHttpConnection,
  type HttpConnectionReady,
  InformationalResponse,
  RequestData,
  RequestEnd,
  RequestHeaders,
  RequestProtocolError,
  ResponseData,
  ResponseEnd,
  ResponseHeaders,
  ResponseProtocolError,
} from "./events.ts";

/** What the server_connected hook gets: the connection, and the flow that uses it first. */
export interface ServerConnectedData {
  server: ServerInfo;
  flow: Flow;
}

/** The hooks that see a flow's bodies. */
const BODY_HOOKS = ["request", "response", "error", "flow_done"];

/** What MessageInjected("request") carries: the flow whose request to send. */
export interface InjectedRequest {
  flow: Flow;
}

export class HttpStream extends TunnellingStream {
  #requestBody: BodyBuffer;
  #responseBody: BodyBuffer;
  /** The request body is being relayed to the origin as it arrives. */
  #requestStreaming = false;
  /** Armed while waiting for the response head (read_timeout). */
  #readTimer: Arm | null = null;
  /** Where the request was going before the hooks ran ("scheme://authority"). */
  #asked = "";
  /** The origin connection was an idle one from a pool (it may have gone stale meanwhile). */
  #reusedConnection = false;
  #retried = false;
  /**
   * The `request` hook set a body while the client's upload was streaming: that body goes out
   * once the client is done, and what the client still sends is dropped.
   */
  #replacing = false;

  constructor(context: Context, streamId: number, mode: HttpMode) {
    super(context, streamId, mode);
    // Bodies are copied for whoever sees the flow; when no hook would (no addon, no recording,
    // no web UI), none is kept and every chunk passes through uncopied.
    const seen = BODY_HOOKS.some((name) => this.listens(name));
    const limit = seen ? context.options.streamLargeBodies : 0;
    this.#requestBody = new BodyBuffer(limit);
    this.#responseBody = new BodyBuffer(limit);
  }

  /**
   * Not a generator itself: it hands back the generator of the handler, one generator per event
   * rather than two (every request passes here five times or more).
   */
  protected run(event: Event): CommandGenerator {
    const switched = this.switchedEvent(event);
    if (switched !== null) return switched;
    if (event instanceof RequestHeaders) return this.#onRequestHeaders(event.head);
    if (event instanceof RequestData) return this.#onRequestData(event.data);
    if (event instanceof RequestEnd) return this.#onRequestEnd(event.trailers);
    if (event instanceof InformationalResponse) return just(this.toClient(event));
    if (event instanceof ResponseHeaders) return this.#onResponseHeaders(event.head);
    if (event instanceof ResponseData) return this.#onResponseData(event.data);
    if (event instanceof ResponseEnd) return this.#onResponseEnd(event.trailers);
    return this.#onOther(event);
  }

  /**
   * A request's body and end and a response's head, body and end pass here without a generator
   * when no hook on their way must be awaited: every request passes five times, and each
   * generator, and each helper it delegated to, was an object made and run for one event.
   * `run` handles every event too (for request bodies by calling the same code first), and
   * tests/proxy/stream_direct_test.ts holds both ways to the same commands and flows.
   */
  protected override direct(event: Event, out: Command[]): boolean {
    if (this.switched) return false;
    if (event instanceof RequestData) return this.#requestDataDirect(event.data, out);
    if (event instanceof RequestEnd) {
      if (this.state === "holdRequest") return false; // hooks, then an origin connection
      this.#requestEndStreamed(event.trailers, out);
      return true;
    }
    if (event instanceof ResponseHeaders) return this.#responseHeadersDirect(event.head, out);
    if (event instanceof ResponseData) {
      this.#responseData(event.data, out);
      return true;
    }
    if (event instanceof ResponseEnd) return this.#responseEndDirect(event.trailers, out);
    return false;
  }

  *#onOther(event: Event): CommandGenerator {
    if (event instanceof ResponseProtocolError) {
      if (event.message.startsWith("closed ") && (yield* this.#retryOnStale())) return;
      const from = this.flow?.request.authority ?? "the origin";
      // "closed the connection ..." says who did.
      const what = event.message.startsWith("closed ") ? `${from} ${event.message}` : event.message;
      // Cut off after its head went out, the flow says the body failed (the client's only news
      // of it is the connection closing).
      const message = this.responseStarted ? `response body failed: ${what}` : what;
      yield* this.fail(502, message, `mitm.ts got a bad response from ${from}: ${what}.`);
    } else if (event instanceof RequestProtocolError) yield* this.onClientError(event);
    else if (event instanceof Wakeup && event.command === this.#readTimer) {
      this.#readTimer = null;
      if (this.state !== "waitResponseHeaders") return;
      const s = this.context.options.readTimeoutMs / 1000;
      const why = `${this.flow!.request.authority} sent no response within ${s} s (read_timeout)`;
      yield* this.fail(504, why, `mitm.ts: ${why}.`);
    } else if (event instanceof SpliceEnded && this.state === "tunnel") {
      yield* this.onUpgradeEnded(event.error);
    } else if (event instanceof MessageInjected && this.state === "waitRequestHeaders") {
      yield* this.#onInjected((event.message as InjectedRequest).flow);
    }
  }

  /**
   * A whole request from outside (replay, the API): it runs the hooks and goes to the origin
   * like a client's held request; the response is recorded on the flow and sent nowhere.
   */
  *#onInjected(flow: Flow): CommandGenerator {
    this.injected = true;
    this.flow = flow;
    flow.response = null;
    flow.error = null;
    this.#asked = destinationOf(flow);
    if (this.listens("requestheaders")) {
      yield new CallHook("requestheaders", flow);
      if (yield* this.answeredByHook()) return;
    }
    this.state = "holdRequest";
    yield* this.#onRequestEnd(flow.request.trailers);
  }

  // ---- request ----

  *#onRequestHeaders(head: HttpRequestHead): CommandGenerator {
    const o = this.context.options;
    const client = this.context.client;
    const flow = newFlow(head, client, o.now());
    const request = flow.request;
    this.flow = flow;
    if (!proxyAuthorized(head, this.mode, this.context.options.proxyAuth)) {
      this.state = "failed";
      yield new Log(`${client.label}: 407 for ${head.method} ${urlOf(head)}`, "info");
      yield this.answerError(407, AUTH_REQUIRED, ["Proxy-Authenticate", PROXY_AUTHENTICATE]);
      return;
    }
    if (
      head.method === "CONNECT" && (this.mode.kind === "regular" || this.mode.kind === "upstream")
    ) {
      yield* this.connect(head);
      return;
    }
    if (this.mode.kind === "reverse" && head.method === "CONNECT") {
      // A reverse proxy stands in for one origin; it opens no tunnels.
      yield* this.fail(400, "CONNECT is not supported by a reverse proxy; send requests directly");
      return;
    }
    if (head.method === "CONNECT" && head.version === H2_VERSION) {
      // Inside a tunnel already (transparent): an HTTP/2 CONNECT stream has no origin to go to.
      yield* this.fail(
        501,
        "CONNECT inside a tunnel is not supported; connect to the proxy itself",
      );
      return;
    }
    if (this.mode.kind === "reverse") {
      request.scheme = this.mode.scheme;
      request.host = this.mode.host;
      request.port = this.mode.port;
      if (!o.keepHostHeader) hostFor(request.headers, request.authority);
    } else if (this.mode.kind === "transparent" && this.context.server !== null) {
      // Inside a tunnel (CONNECT, SOCKS5) or transparently redirected: the connection's
      // destination is where the request goes, whatever Host says.
      request.host = this.context.server.address.host;
      request.port = this.context.server.address.port;
    } else if (
      head.host === "" || o.self?.is(request.host, request.port) ||
      // An origin-form request on a proxy port was sent to the proxy as if it were the server.
      (head.form === "origin" && !this.injected && head.version.startsWith("HTTP/1") &&
        (this.mode.kind === "regular" || this.mode.kind === "upstream"))
    ) {
      yield* this.fail(
        400,
        o.self
          ? notAProxyRequestText(o.self.url)
          : "request has no host; send it through the proxy, not to it",
      );
      return;
    } else if (head.form === "absolute") {
      // The request-target names the origin; a differing Host would mislead it (RFC 9112 3.2.2).
      hostFor(request.headers, request.authority);
    }
    const onboarding = o.onboarding;
    if (onboarding && request.host === onboarding.host) {
      yield* this.#answerItself(onboarding);
      return;
    }
    this.#asked = destinationOf(flow);
    if (this.listens("requestheaders")) {
      yield new CallHook("requestheaders", flow);
      if (yield* this.answeredByHook()) return;
    }
    if (holdsBody(o.holdRequestBodies, request, o.streamLargeBodies) && !isConversation(request)) {
      this.state = "holdRequest";
      if ((request.headers.get("expect") ?? "").toLowerCase() === "100-continue") {
        // The body is needed before the origin is asked: answer the client's wait ourselves.
        request.headers.delete("expect");
        const head100 = { status: 100, reason: "Continue", version: "HTTP/1.1" };
        yield this.toClient(
          new InformationalResponse(this.streamId, { ...head100, headers: new HeaderList() }),
        );
      }
      return;
    }
    this.state = "streamRequest";
    this.#requestStreaming = true;
    if (!(yield* this.#requestHookWhileStreaming())) return;
    if (!(yield* this.#sendRequestHead())) return;
  }

  /**
   * A body that streams past a `request` hook: the hook still runs before the origin is asked,
   * sees no body (`streamed`, and how much was read so far), and may answer, kill, reroute or
   * set a body of its own. Returns true when the streamed request goes on to the origin.
   */
  *#requestHookWhileStreaming(): CommandGenerator<boolean> {
    if (!this.context.options.holdRequestBodies) return true; // no addon has the hook
    const request = this.flow!.request;
    request.streamed = true;
    request.body = null;
    if (this.listens("request")) {
      yield new CallHook("request", this.flow!);
      if (yield* this.answeredByHook()) return false;
    }
    if (!request.bodyChanged) return true;
    this.#requestStreaming = false;
    this.#replacing = true;
    this.state = "holdRequest";
    this.#requestBody.takeChunks();
    return false;
  }

  /**
   * The proxy's own site (mitm.it): answered here, without hooks or a flow. A body is refused (nothing here takes one; reading it would only cost).
   */
  *#answerItself(site: Onboarding): CommandGenerator {
    const request = this.flow!.request; // the flow goes to no hook and is never recorded
    if (request.headers.has("transfer-encoding") || Number(request.headers.get("content-length"))) {
      this.state = "failed";
      yield this.answerError(400, `mitm.ts: requests to ${site.host} cannot have a body.`);
      return;
    }
    this.state = "done";
    const { status, headers, body } = site.answer(request.path);
    const head = { status, reason: reasonPhrase(status), version: "HTTP/1.1" };
    yield this.toClient(
      new ResponseHeaders(this.streamId, { ...head, headers: new HeaderList(headers) }, false),
    );
    if (request.method !== "HEAD" && body.length > 0) {
      yield this.toClient(new ResponseData(this.streamId, body));
    }
    yield this.toClient(new ResponseEnd(this.streamId, null));
  }

  /**
   * A chunk of the request body, unless it is WebSocket bytes before the handshake's answer or
   * takes a held body past stream_large_bodies (false: `#onRequestData` handles those).
   */
  #requestDataDirect(data: Uint8Array, out: Command[]): boolean {
    if (this.#replacing) return true; // the rest of an upload a hook's body replaced
    if (this.webSocket !== null && this.state === "waitResponseHeaders") return false;
    if (this.state === "holdRequest") {
      if (!this.#requestBody.fits(data)) return false; // streams from here: hooks, a connection
      this.flow!.request.bodySize += data.length;
      this.#requestBody.add(data);
      return true;
    }
    this.flow!.request.bodySize += data.length;
    if (this.#requestStreaming) {
      this.#requestBody.keep(data);
      this.pushToServer(new RequestData(this.streamId, data), out);
    }
    return true;
  }

  /** What `#requestDataDirect` leaves: bytes that may fail the stream, or start its upload. */
  *#onRequestData(data: Uint8Array): CommandGenerator {
    const out: Command[] = [];
    if (this.#requestDataDirect(data, out)) {
      yield out;
      return;
    }
    if (this.webSocket !== null && this.state === "waitResponseHeaders") {
      this.early ??= new EarlyWebSocketData();
      if (!this.early.keep(data)) yield* this.fail(400, EarlyWebSocketData.OVERFLOW);
      return;
    }
    // A held body over stream_large_bodies: stop holding, send what was kept, stream the rest.
    const flow = this.flow!;
    flow.request.bodySize += data.length;
    this.#requestBody.add(data); // marks the body overflowed: it is not kept any more
    this.state = "streamRequest";
    this.#requestStreaming = true;
    flow.request.streamed = true;
    if (!(yield* this.#requestHookWhileStreaming())) return;
    if (!(yield* this.#sendRequestHead())) return;
    for (const chunk of this.#requestBody.takeChunks()) {
      yield this.toServer(new RequestData(this.streamId, chunk));
    }
    yield this.toServer(new RequestData(this.streamId, data));
  }

  *#onRequestEnd(trailers: HeaderList | null): CommandGenerator {
    if (this.state !== "holdRequest") {
      const out: Command[] = [];
      this.#requestEndStreamed(trailers, out);
      yield out;
      return;
    }
    const flow = this.flow!;
    const request = this.#requestEnded(trailers);
    if (this.#replacing) {
      // The hook ran already and set this body; the client's own upload is over now.
      this.#replacing = false;
    } else {
      if (!this.injected) request.body = this.#requestBody.bytes();
      if (this.listens("request")) {
        yield new CallHook("request", flow);
        if (yield* this.answeredByHook()) return;
      }
    }
    frameHeldRequest(request);
    if (!(yield* this.#sendRequestHead())) return;
    if (request.body && request.body.length > 0) {
      yield this.toServer(new RequestData(this.streamId, request.body));
    }
    yield this.toServer(new RequestEnd(this.streamId, trailers));
    if (this.state === "holdRequest") {
      const out: Command[] = [];
      this.#awaitResponse(out);
      yield out;
    }
  }

  /** The client's request is over: its trailers and end time on the flow. */
  #requestEnded(trailers: HeaderList | null) {
    const request = this.flow!.request;
    request.trailers = trailers;
    request.timestampEnd = this.context.options.now();
    this.requestEnded = true;
    return request;
  }

  /** The end of a request that was not held (streamed, or over before it began). */
  #requestEndStreamed(trailers: HeaderList | null, out: Command[]): void {
    const request = this.#requestEnded(trailers);
    if (!this.#requestStreaming) return;
    this.#requestStreaming = false;
    request.body = this.#requestBody.bytes();
    request.streamed = request.body === null;
    this.pushToServer(new RequestEnd(this.streamId, trailers), out);
    if (this.state === "finishRequest") {
      // The origin answered before the upload ended; both are over now.
      this.pushRelease(true, out);
      this.state = "done";
      this.hookInPassing("flow_done", this.flow, out);
      return;
    }
    if (this.state === "streamRequest") this.#awaitResponse(out);
  }

  /** The request is sent: wait for the response head, for at most read_timeout. */
  #awaitResponse(out: Command[]): void {
    this.state = "waitResponseHeaders";
    const ms = this.context.options.readTimeoutMs;
    if (ms !== Infinity) out.push(this.#readTimer = new Arm(ms));
  }

  /** Gets an origin connection (once) and sends the request head; false when it failed. */
  *#sendRequestHead(): CommandGenerator<boolean> {
    const flow = this.flow!;
    const r = flow.request;
    if (this.server === null) {
      const via = this.mode.kind === "upstream"
        ? { host: this.mode.host, port: this.mode.port }
        : null;
      const get = new GetHttpConnection({ host: r.host, port: r.port }, r.scheme === "https", via);
      const ready = (yield get) as HttpConnectionReady;
      if (ready.conn === null) {
        const why = ready.error ?? "could not connect";
        yield new Log(`${r.method} ${r.url}: could not connect (${why})`, "debug");
        // The flow says where it could not connect, as recordings and the live output show it.
        // Nothing reached an origin: a client whose request was read whole may send the next.
        yield* this.fail(
          502,
          `could not connect to ${r.authority}: ${why}`,
          originFailureText(r.authority, why),
          this.requestEnded || bodiless(r.headers),
        );
        return false;
      }
      this.server = ready.conn;
      this.#reusedConnection = !ready.fresh;
      flow.server = serverPeer(ready.conn, ready.fresh);
      // A connection that carried no request yet is new to the addons, wherever it was opened.
      if (ready.fresh && this.context.options.announceServers) {
        yield new CallHook<ServerConnectedData>("server_connected", {
          server: serverInfo(ready.conn),
          flow,
        });
      }
    }
    const host = r.headers.get("host");
    if (
      host !== undefined && destinationOf(flow) !== this.#asked &&
      host.toLowerCase() !== r.authority
    ) {
      // An addon sent the request elsewhere (map_remote, a changed URL): Host follows it.
      r.headers.set("Host", r.authority);
    }
    this.webSocket ??= webSocketOffer(r);
    const head = requestHeadOf(r);
    yield this.toServer(new RequestHeaders(this.streamId, head, false));
    return true;
  }

  /**
   * An idle connection from the pool that the origin had closed (or closes on this request)
   * before answering: a request without a body is sent once more on another connection, as the
   * origin cannot have acted on it (RFC 9112 section 9.3.1 allows retrying idempotent requests).
   * A body is not sent twice.
   */
  *#retryOnStale(): CommandGenerator<boolean> {
    const request = this.flow?.request;
    if (
      !this.#reusedConnection || this.#retried || this.responseStarted || request === undefined ||
      this.server?.alpn === "h2" ||
      this.flow!.response !== null || request.bodySize > 0 || (request.body?.length ?? 0) > 0 ||
      this.#requestStreaming || this.state !== "waitResponseHeaders"
    ) return false;
    this.#retried = true;
    yield this.release(false);
    yield new Log(
      `${request.method} ${request.url}: the pooled connection was closed; retrying`,
      "debug",
    );
    if (yield* this.#sendRequestHead()) yield this.toServer(new RequestEnd(this.streamId, null));
    return true;
  }

  // ---- response ----

  *#onResponseHeaders(head: HttpResponseHead): CommandGenerator {
    const flow = this.flow!;
    const out: Command[] = [];
    const response = this.#responseArrived(head, out);
    yield out;
    if (this.listens("responseheaders")) yield new CallHook("responseheaders", flow);
    if (flow.killed) {
      yield this.kill();
      return;
    }
    if (head.status === 101 && this.server !== null) {
      // The switch's head is the whole response; addons saw it in responseheaders.
      response.body = new Uint8Array(0);
      response.timestampEnd = this.context.options.now();
      yield* this.upgrade(response);
      return;
    }
    const rest: Command[] = [];
    this.#responseBodyBegins(response, rest);
    yield rest;
  }

  #responseHeadersDirect(head: HttpResponseHead, out: Command[]): boolean {
    if (head.status === 101 && this.server !== null) return false; // hooks, then a relay
    if (this.hookPasses("responseheaders") === null) return false;
    const flow = this.flow!;
    const response = this.#responseArrived(head, out);
    this.hookInPassing("responseheaders", flow, out);
    if (flow.killed) this.pushKill(out);
    else this.#responseBodyBegins(response, out);
    return true;
  }

  /** The origin's response head, as the flow's response (before any hook sees it). */
  #responseArrived(head: HttpResponseHead, out: Command[]): FlowResponse {
    if (this.#readTimer !== null) {
      out.push(new Disarm(this.#readTimer));
      this.#readTimer = null;
    }
    this.originStatus = { status: head.status, reason: head.reason };
    const response = new FlowResponse({
      status: head.status,
      reason: head.reason,
      httpVersion: head.version,
      headers: head.headers,
      timestampStart: this.context.options.now(),
    });
    this.flow!.response = response;
    response.bodySoFar = () => this.#responseBody.bytes();
    return response;
  }

  /** After the responseheaders hook: the body is held for the response hook, or streams. */
  #responseBodyBegins(response: FlowResponse, out: Command[]): void {
    // An event stream may never end: held for a `response` hook it would reach the client only
    // at its end (mitmproxy#4469); a gRPC stream likewise. It streams, and the hook sees it once
    // it has ended.
    const o = this.context.options;
    if (
      holdsBody(o.holdResponseBodies, response, o.streamLargeBodies) && !isConversation(response)
    ) {
      this.state = "holdResponse";
      return;
    }
    this.state = "streamResponse";
    this.pushResponseHead(response, out);
  }

  /** A chunk of the response body: nothing on its way is awaited, so it has no generator. */
  #responseData(data: Uint8Array, out: Command[]): void {
    const response = this.flow!.response!;
    response.bodySize += data.length;
    if (this.state === "holdResponse") {
      if (this.#responseBody.add(data)) return;
      this.state = "streamResponse";
      response.streamed = true;
      this.pushResponseHead(response, out);
      for (const chunk of this.#responseBody.takeChunks()) {
        this.pushToClient(new ResponseData(this.streamId, chunk), out);
      }
      this.pushToClient(new ResponseData(this.streamId, data), out);
      return;
    }
    if (this.state === "streamResponse") {
      this.#responseBody.keep(data);
      this.pushToClient(new ResponseData(this.streamId, data), out);
    }
  }

  *#onResponseData(data: Uint8Array): CommandGenerator {
    const out: Command[] = [];
    this.#responseData(data, out);
    yield out;
  }

  *#onResponseEnd(trailers: HeaderList | null): CommandGenerator {
    const flow = this.flow!;
    const response = flow.response!;
    const uploading = this.#responseEnded(trailers);
    if (this.state === "holdResponse") {
      if (!uploading) yield this.release(true);
      if (this.listens("response")) yield new CallHook("response", flow);
      if (flow.killed) {
        yield this.kill();
        return;
      }
      yield this.sendWholeResponse(response);
    } else if (this.state === "streamResponse") {
      // Released first: ending the response may start the client's next (pipelined) request,
      // which can then have this connection instead of dialling another.
      if (!uploading) yield this.release(true);
      yield this.toClient(new ResponseEnd(this.streamId, trailers));
      if (this.listens("response")) yield new CallHook("response", flow);
    } else {
      return;
    }
    const out: Command[] = [];
    this.#responseDone(uploading, out);
    yield out;
  }

  /** `#onResponseEnd` without a generator, when the response hook needs no waiting. */
  #responseEndDirect(trailers: HeaderList | null, out: Command[]): boolean {
    if (this.hookPasses("response") === null) return false;
    const flow = this.flow!;
    const response = flow.response!;
    const uploading = this.#responseEnded(trailers);
    if (this.state === "holdResponse") {
      if (!uploading) this.pushRelease(true, out);
      this.hookInPassing("response", flow, out);
      if (flow.killed) this.pushKill(out);
      else {
        this.pushWholeResponse(response, out);
        this.#responseDone(uploading, out);
      }
    } else if (this.state === "streamResponse") {
      if (!uploading) this.pushRelease(true, out);
      this.pushToClient(new ResponseEnd(this.streamId, trailers), out);
      this.hookInPassing("response", flow, out);
      this.#responseDone(uploading, out);
    }
    return true;
  }

  /**
   * The response is over: its body and times on the flow. Returns whether the request body was
   * still streaming to the origin (the origin may answer before it is all sent, and go on
   * reading it: the stream keeps its connection until the upload ends).
   */
  #responseEnded(trailers: HeaderList | null): boolean {
    const response = this.flow!.response!;
    response.trailers = trailers;
    response.timestampEnd = this.context.options.now();
    response.bodySoFar = null;
    response.body = this.#responseBody.bytes();
    response.streamed = response.body === null;
    return this.#requestStreaming;
  }

  /** After the response hook: the flow is done, unless its upload still runs. */
  #responseDone(uploading: boolean, out: Command[]): void {
    if (uploading && this.#requestStreaming) {
      this.state = "finishRequest";
      return;
    }
    this.state = "done";
    this.hookInPassing("flow_done", this.flow, out);
  }
}
