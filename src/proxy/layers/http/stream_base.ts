/**
 * What every HTTP stream does besides its request/response logic (stream.ts): its state, the way
 * it sends events to either side, and how it ends: a response from a hook, a kill, a failure
 * (an error response while nothing was sent, else the client cut off), releasing its origin
 * connection.
 */
import type { Flow, FlowResponse } from "../../../flow/flow.ts";
import { dropHopByHop } from "../../../http/hop_by_hop.ts";
import { reasonPhrase } from "../../../http/responses.ts";
import { CallHook, type Command } from "../../core/commands.ts";
import type { Server } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import { type CommandGenerator, Layer, NOTHING, type Yielded } from "../../core/layer.ts";
import {
  InformationalResponse,
  ReleaseConnection,
  type RequestData,
  type RequestEnd,
  type RequestHeaders,
  type RequestProtocolError,
  ResponseData,
  ResponseEnd,
  ResponseHeaders,
  ResponseProtocolError,
  SendHttp,
} from "./events.ts";
import { errorResponse, frameHeldResponse } from "./flow_parts.ts";
import type { HttpMode } from "./mode.ts";

export type StreamState =
  | "waitRequestHeaders"
  | "holdRequest"
  | "streamRequest"
  | "waitResponseHeaders"
  | "holdResponse"
  | "streamResponse"
  /** The response is complete, the request body is still streaming to the origin. */
  | "finishRequest"
  | "tunnel"
  | "done"
  | "failed";

/** The error of a flow an addon killed. */
export const KILLED = "connection killed by an addon";

export abstract class StreamBase extends Layer {
  readonly streamId: number;
  readonly mode: HttpMode;
  state: StreamState = "waitRequestHeaders";
  flow: Flow | null = null;
  /** The origin connection while the stream has one. */
  server: Server | null = null;
  /** Something of the response reached the client: an error can no longer be a response. */
  protected responseStarted = false;
  protected requestEnded = false;
  /** A request injected from outside (replay, the API): there is no client to answer. */
  protected injected = false;
  /** The origin's status line, to tell an addon's status change from the origin's reason. */
  protected originStatus: { status: number; reason: string } | null = null;

  constructor(context: Context, streamId: number, mode: HttpMode) {
    super(context);
    this.streamId = streamId;
    this.mode = mode;
  }

  /** Over, and not waiting for any answer: the HTTP layer may forget it. */
  get finished(): boolean {
    return (this.state === "done" || this.state === "failed") && !this.paused;
  }

  override toString(): string {
    return `HttpStream(#${this.streamId} ${this.state})`;
  }

  /** The response head to the client, hop-by-hop headers dropped. */
  protected pushResponseHead(response: FlowResponse, out: Command[]): void {
    const headers = response.headers.clone();
    dropHopByHop(headers, response.status === 101);
    // An addon that changed only the status gets the matching reason ("404 Not Found", not
    // "404 OK"); a reason it set itself stays.
    const origin = this.originStatus;
    const stale = origin !== null && response.status !== origin.status &&
      response.reason === origin.reason;
    const head = {
      status: response.status,
      reason: stale || !response.reason
        ? reasonPhrase(response.status, response.reason)
        : response.reason,
      version: response.httpVersion,
    };
    this.pushToClient(new ResponseHeaders(this.streamId, { ...head, headers }, false), out);
  }

  protected sendResponseHead(response: FlowResponse): Yielded {
    const out: Command[] = [];
    this.pushResponseHead(response, out);
    return out;
  }

  /** A held or hook-made response, with the Content-Length of the body really sent. */
  protected pushWholeResponse(response: FlowResponse, out: Command[]): void {
    const body = frameHeldResponse(response, this.flow!.request.method);
    this.pushResponseHead(response, out);
    if (body.length > 0) this.pushToClient(new ResponseData(this.streamId, body), out);
    this.pushToClient(new ResponseEnd(this.streamId, response.trailers), out);
  }

  protected sendWholeResponse(response: FlowResponse): Yielded {
    const out: Command[] = [];
    this.pushWholeResponse(response, out);
    return out;
  }

  // ---- answers, failures, hand-offs ----

  /** After a hook: a kill or a respond() ends the stream here. Returns true if it did. */
  protected *answeredByHook(): CommandGenerator<boolean> {
    const flow = this.flow!;
    if (flow.killed) {
      yield this.kill();
      return true;
    }
    if (flow.response !== null) {
      this.state = "done";
      yield this.release(this.requestEnded);
      yield this.sendWholeResponse(flow.response);
      yield new CallHook("flow_done", flow, true);
      return true;
    }
    return false;
  }

  /**
   * Fails the flow: an error response if nothing was sent yet (saying `text`, by default the
   * flow's error message), else the client is cut off. `keepAlive`: the failure left the client's
   * connection in a clean state (its whole request was read), so the answer does not close it.
   */
  protected *fail(
    status: number,
    message: string,
    text = message,
    keepAlive = false,
  ): CommandGenerator {
    const flow = this.flow;
    this.state = "failed";
    yield this.release(false);
    if (flow !== null) {
      flow.error = { message, timestamp: this.context.options.now() };
      yield new CallHook("error", flow);
    }
    if (this.responseStarted) {
      yield this.toClient(new ResponseProtocolError(this.streamId, message));
    } else {
      yield this.answerError(status, text, [], !keepAlive);
    }
    if (flow !== null) yield new CallHook("flow_done", flow, true);
  }

  protected *onClientError(event: RequestProtocolError): CommandGenerator {
    // Over already (a client that leaves after its exchange failed): nothing more to record.
    if (this.state === "done" || this.state === "failed") return;
    if (this.server !== null) yield this.toServer(event);
    if (event.status === 0 || this.responseStarted) {
      this.state = "failed";
      yield this.release(false);
      if (this.flow) {
        this.flow.error = { message: event.message, timestamp: this.context.options.now() };
        yield new CallHook("error", this.flow);
        yield new CallHook("flow_done", this.flow, true);
      }
      return;
    }
    // One line saying who refused what; a client too slow for a deadline (408) is told the
    // connection ends.
    const text = event.status === 408
      ? `mitm.ts: ${event.message}; closing the connection.`
      : event.status < 500
      ? `mitm.ts refused the request: ${event.message}.`
      : `mitm.ts: ${event.message}.`;
    yield* this.fail(event.status, event.message, text);
  }

  protected answerError(
    status: number,
    message: string,
    extra: string[] = [],
    close = true,
  ): Yielded {
    const { head, body } = errorResponse(status, message, extra, close);
    const out: Command[] = [];
    this.pushToClient(new ResponseHeaders(this.streamId, head, false), out);
    // A response to HEAD has no body (RFC 9110 9.3.2); its Content-Length says what GET's would.
    if (this.flow?.request.method !== "HEAD") {
      this.pushToClient(new ResponseData(this.streamId, body), out);
    }
    this.pushToClient(new ResponseEnd(this.streamId, null), out);
    return out;
  }

  /** An addon killed the flow: the client is cut off. */
  protected pushKill(out: Command[]): void {
    this.state = "failed";
    this.pushRelease(false, out);
    this.pushToClient(new ResponseProtocolError(this.streamId, KILLED), out);
    const flow = this.flow!;
    flow.error = { message: KILLED, timestamp: this.context.options.now() };
    this.hookInPassing("flow_done", flow, out);
  }

  protected kill(): Yielded {
    const out: Command[] = [];
    this.pushKill(out);
    return out;
  }

  /**
   * The command giving the origin connection back to the HTTP layer (to its pool when
   * `reusable`), or null without one. The stream has no connection after it.
   */
  #releaseCommand(reusable: boolean): ReleaseConnection | null {
    const server = this.server;
    if (server === null) return null;
    this.server = null;
    return new ReleaseConnection(this.streamId, server, reusable);
  }

  protected pushRelease(reusable: boolean, out: Command[]): void {
    const command = this.#releaseCommand(reusable);
    if (command !== null) out.push(command);
  }

  protected release(reusable: boolean): Yielded {
    return this.#releaseCommand(reusable) ?? NOTHING;
  }

  /** `event` for the client, or null when there is none (an injected request's response). */
  #clientCommand(event: ToClient): SendHttp | null {
    if (!(event instanceof InformationalResponse)) this.responseStarted = true;
    return this.injected ? null : new SendHttp(event, this.context.client);
  }

  protected pushToClient(event: ToClient, out: Command[]): void {
    const command = this.#clientCommand(event);
    if (command !== null) out.push(command);
  }

  protected toClient(event: ToClient): Yielded {
    return this.#clientCommand(event) ?? NOTHING;
  }

  /** `event` for the origin, or null while the stream has no origin connection. */
  #serverCommand(event: ToServer): SendHttp | null {
    return this.server === null ? null : new SendHttp(event, this.server);
  }

  protected pushToServer(event: ToServer, out: Command[]): void {
    const command = this.#serverCommand(event);
    if (command !== null) out.push(command);
  }

  protected toServer(event: ToServer): Yielded {
    return this.#serverCommand(event) ?? NOTHING;
  }
}

/** What a stream sends its client. */
type ToClient =
  | InformationalResponse
  | ResponseHeaders
  | ResponseData
  | ResponseEnd
  | ResponseProtocolError;

/** What a stream sends its origin. */
type ToServer = RequestHeaders | RequestData | RequestEnd | RequestProtocolError;
