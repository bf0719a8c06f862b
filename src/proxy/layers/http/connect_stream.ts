/**
 * A CONNECT inside one HTTP/2 stream (RFC 9113 section 8.5): after the 200 the stream's DATA
 * are the tunnel's bytes. The client's connection carries other streams, so the tunnel cannot
 * take it over as an HTTP/1 CONNECT does; instead the HTTP layer runs the tunnel's layer stack
 * (the same next-layer decision: TLS interception, HTTP, or a raw relay) over a `CarriedClient`,
 * which the driver joins by an in-memory pipe to a `PipeEnd` whose bytes are this stream's body:
 * the client's DATA are written to the pipe, what the pipe gives is the response's DATA.
 *
 * END_STREAM from the client is a FIN into the tunnel, the tunnel's FIN is our END_STREAM (each
 * direction ends on its own); a reset, or the tunnel closing both ways while the client still
 * sends, aborts the other side.
 */
import { CarriedClient, ConnState, PipeEnd, type Server } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import { type Flow, FlowResponse } from "../../../flow/flow.ts";
import { HeaderList } from "../../../http/headers.ts";
import { CallHook, Command } from "../../core/commands.ts";
import type { Event } from "../../core/events.ts";
import type { CommandGenerator, Yielded } from "../../core/layer.ts";
import {
  ReleaseConnection,
  RequestData,
  RequestEnd,
  RequestProtocolError,
  ResponseData,
  ResponseEnd,
  ResponseProtocolError,
  SendHttp,
} from "./events.ts";
import { H2_VERSION } from "./h2_convert.ts";

/**
 * To the HttpLayer, after a stream answered an HTTP/2 CONNECT with 200: open the pipe between
 * `client` and `pipe`, run the tunnel's stack over `client` towards `server`, and carry the
 * pipe's bytes as the stream's body (as it does an upgraded origin connection's).
 */
export class TunnelInStream extends Command {
  constructor(
    readonly streamId: number,
    readonly client: CarriedClient,
    readonly pipe: PipeEnd,
    readonly server: Server,
  ) {
    super();
  }
  toString(): string {
    return `TunnelInStream(#${this.streamId}, ${this.client.id}, ${this.pipe.id}, ${this.server.id})`;
  }
}

/** How the tunnel's stream sends and ends. */
export interface StreamTunnelPorts {
  toClient(event: ResponseData | ResponseEnd | ResponseProtocolError): Yielded;
  toPipe(event: RequestData | RequestEnd | RequestProtocolError): Yielded;
}

export class StreamTunnel {
  readonly pipe: PipeEnd;
  readonly #ports: StreamTunnelPorts;
  readonly #id: number;
  /** Each direction's end: the client's END_STREAM, the tunnel's FIN. */
  clientEnded = false;
  tunnelEnded = false;
  /** Why the tunnel was cut off (a reset, a broken connection), or null. */
  error: string | null = null;

  constructor(streamId: number, pipe: PipeEnd, ports: StreamTunnelPorts) {
    this.#id = streamId;
    this.pipe = pipe;
    this.#ports = ports;
  }

  /**
   * The tunnel of a stream whose CONNECT is accepted: the flow's 200 (no body: the tunnel's bytes
   * are not kept), and the command that makes the HttpLayer open the pipe and run the stack.
   */
  static open(
    context: Context,
    streamId: number,
    server: Server,
    flow: Flow,
    toClient: StreamTunnelPorts["toClient"],
  ): { tunnel: StreamTunnel; command: TunnelInStream } {
    const head = { status: 200, reason: "", httpVersion: H2_VERSION, headers: new HeaderList() };
    flow.response = new FlowResponse({ ...head, timestampStart: context.options.now() });
    flow.response.body = new Uint8Array(0);
    const client = new CarriedClient(context.client, streamId);
    const pipe = new PipeEnd(client);
    const tunnel = new StreamTunnel(streamId, pipe, {
      toClient,
      toPipe: (event) => new SendHttp(event, pipe),
    });
    return { tunnel, command: new TunnelInStream(streamId, client, pipe, server) };
  }

  get done(): boolean {
    return this.clientEnded && this.tunnelEnded;
  }

  /** One stream event while the tunnel is open. */
  *handle(event: Event): CommandGenerator {
    if (event instanceof RequestData) {
      if (this.clientEnded) return;
      yield this.#ports.toPipe(event);
    } else if (event instanceof RequestEnd) {
      if (this.clientEnded) return;
      this.clientEnded = true;
      yield this.#ports.toPipe(event);
    } else if (event instanceof ResponseData) {
      if (this.tunnelEnded) return;
      yield this.#ports.toClient(event);
    } else if (event instanceof ResponseEnd) {
      if (this.tunnelEnded) return;
      this.tunnelEnded = true;
      yield this.#ports.toClient(new ResponseEnd(this.#id, null));
      if (!this.clientEnded && !(this.pipe.state & ConnState.CanWrite)) {
        // The tunnel closed both ways (an origin that closed, a failed handshake): what the
        // client still sends has nowhere to go; RST_STREAM NO_ERROR tells it to stop.
        this.clientEnded = true;
        yield this.#ports.toClient(
          new ResponseProtocolError(this.#id, "the tunnel closed before the client's end", true),
        );
      }
    } else if (event instanceof RequestProtocolError) {
      // The client reset the stream or its connection went: the tunnel is cut off.
      this.error ??= event.message;
      this.clientEnded = this.tunnelEnded = true;
      yield this.#ports.toPipe(event);
    } else if (event instanceof ResponseProtocolError) {
      this.error ??= event.message;
      this.clientEnded = this.tunnelEnded = true;
      yield this.#ports.toClient(event);
    }
  }

  /** Both directions are over: the flow's end (an error if it was cut off), the pipe released. */
  *finish(flow: Flow, now: number): CommandGenerator {
    flow.request.timestampEnd = now;
    if (flow.response !== null) flow.response.timestampEnd = now;
    yield new ReleaseConnection(this.#id, this.pipe, this.error === null);
    if (this.error !== null) {
      flow.error = { message: `tunnel: ${this.error}`, timestamp: now };
      yield new CallHook("error", flow);
    }
    yield new CallHook("flow_done", flow, true);
  }
}
