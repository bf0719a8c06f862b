/**
 * What an HTTP stream becomes when it stops being one request and one response: a CONNECT tunnel
 * (handed to a new layer stack, or carried in an HTTP/2 stream) and a 101 upgrade (a WebSocket or
 * raw relay, or a WebSocket carried in an HTTP/2 stream, RFC 8441). The request/response logic
 * is in stream.ts.
 */
import { CallHook } from "../../core/commands.ts";
import type { Server } from "../../core/connection.ts";
import type { Event } from "../../core/events.ts";
import type { CommandGenerator } from "../../core/layer.ts";
import type { FlowResponse } from "../../../flow/flow.ts";
import { HeaderList } from "../../../http/headers.ts";
import type { HttpRequestHead } from "../../../http/message.ts";
import type { UpgradeRequest } from "../../../websocket/handshake.ts";
import { StreamBase } from "./stream_base.ts";
import type { WebSocketHandshakeData, WebSocketRelayData } from "./websocket.ts";
import {
  ClientInStream,
  EarlyWebSocketData,
  StreamWebSocket,
  UpgradeInStream,
} from "./websocket_stream.ts";
import { StreamTunnel } from "./connect_stream.ts";
import { dialConnectTarget } from "./connect_dial.ts";
import { H2_VERSION } from "./h2_convert.ts";
import {
  HandOffClient,
  RequestData,
  RequestEnd,
  RequestProtocolError,
  ResponseData,
  ResponseEnd,
  ResponseHeaders,
  ResponseProtocolError,
  UpgradeStream,
} from "./events.ts";

export abstract class TunnellingStream extends StreamBase {
  /** The client's WebSocket handshake, when the request is one. */
  protected webSocket: UpgradeRequest | null = null;
  /** WebSocket bytes an HTTP/2 client sent before its handshake was answered (rare: made then). */
  protected early: EarlyWebSocketData | null = null;
  /** A WebSocket relayed inside this stream (the client spoke HTTP/2). */
  #inStream: StreamWebSocket | null = null;
  /** A CONNECT tunnel carried by this stream (the client spoke HTTP/2). */
  #tunnelled: StreamTunnel | null = null;

  /** The stream carries a tunnel or a WebSocket in itself: its events are theirs. */
  protected get switched(): boolean {
    return this.#inStream !== null || this.#tunnelled !== null;
  }

  /** The handler of `event` when the stream carries a tunnel or a WebSocket, else null. */
  protected switchedEvent(event: Event): CommandGenerator | null {
    if (this.#inStream !== null) return this.#onWebSocketEvent(this.#inStream, event);
    if (this.#tunnelled !== null) return this.#onTunnelEvent(this.#tunnelled, event);
    return null;
  }

  /** CONNECT (regular, upstream): say yes and give the client connection to a new layer stack. */
  protected *connect(head: HttpRequestHead): CommandGenerator {
    const { server, failure } = yield* dialConnectTarget(this.context, this.mode, head);
    if (failure !== null) {
      yield* this.fail(502, failure.message, failure.text);
      return;
    }
    this.state = "tunnel";
    if (head.version === H2_VERSION && !this.injected) {
      yield* this.#tunnelInStream(server);
      return;
    }
    const ok = { status: 200, reason: "Connection Established", version: "HTTP/1.1" };
    yield this.toClient(
      new ResponseHeaders(this.streamId, { ...ok, headers: new HeaderList() }, true),
    );
    yield new HandOffClient(this.streamId, server);
  }

  /**
   * An HTTP/2 client's CONNECT (connect_stream.ts): 200 without ending the stream, then its
   * DATA go through a pipe to the tunnel's own layer stack, which the HttpLayer runs. The flow
   * is the CONNECT's, done when both directions are (the tunnel's bytes are not kept).
   */
  *#tunnelInStream(server: Server): CommandGenerator {
    const opened = StreamTunnel.open(
      this.context,
      this.streamId,
      server,
      this.flow!,
      (event) => this.toClient(event),
    );
    this.#tunnelled = opened.tunnel;
    yield this.sendResponseHead(this.flow!.response!);
    yield opened.command;
  }

  *#onTunnelEvent(tunnel: StreamTunnel, event: Event): CommandGenerator {
    if (this.state !== "tunnel") return;
    yield* tunnel.handle(event);
    if (!tunnel.done) return;
    this.state = tunnel.error === null ? "done" : "failed";
    yield* tunnel.finish(this.flow!, this.context.options.now());
  }

  /**
   * 101 Switching Protocols: the 101 goes to the client and both connections go to a relay:
   * the WebSocket relay (messages, websocket_* hooks) for a valid WebSocket handshake, raw bytes
   * otherwise. The flow ends when the relay does.
   */
  protected *upgrade(response: FlowResponse): CommandGenerator {
    const flow = this.flow!;
    this.state = "tunnel";
    let relay: WebSocketRelayData | null = null;
    if (this.webSocket !== null) {
      const answer = (yield new CallHook<WebSocketHandshakeData>("websocket_handshake", {
        flow,
        offer: this.webSocket,
        deflate: null,
      })) as WebSocketHandshakeData;
      if (answer.deflate !== null && flow.websocket !== null) {
        relay = { flow, deflate: answer.deflate };
        yield new CallHook("websocket_start", flow);
      }
    }
    if (flow.request.httpVersion === H2_VERSION || response.httpVersion === H2_VERSION) {
      // An HTTP/2 connection carries other streams too: the WebSocket stays in this one.
      yield* this.#relayInStream(response, relay);
      return;
    }
    yield this.sendResponseHead(response);
    const server = this.server!;
    this.server = null; // the HTTP layer gives the connection to the relay, not back to the pool
    yield new UpgradeStream(this.streamId, server, relay ? "websocket" : "raw", relay);
  }

  /**
   * RFC 8441: a WebSocket with an HTTP/2 side goes on in this stream (websocket_stream.ts). An
   * HTTP/1.1 origin's connection past its 101 is carried raw by the HttpLayer as the stream's
   * response body; an HTTP/1.1 client's connection past the 101 it got (its origin speaks h2
   * and took an extended CONNECT) as the stream's request body.
   */
  *#relayInStream(response: FlowResponse, relay: WebSocketRelayData | null): CommandGenerator {
    const flow = this.flow!;
    if (relay === null) {
      yield* this.fail(
        502,
        "the origin's WebSocket handshake is not valid; it cannot be relayed over HTTP/2",
      );
      return;
    }
    const id = this.streamId;
    this.#inStream = new StreamWebSocket(flow, relay.deflate, {
      send: (toClient, bytes) =>
        toClient
          ? this.toClient(new ResponseData(id, bytes))
          : this.toServer(new RequestData(id, bytes)),
      end: (toClient) =>
        toClient
          ? this.toClient(new ResponseEnd(id, null))
          : this.toServer(new RequestEnd(id, null)),
    }, this.context.options.now);
    yield this.sendResponseHead(response);
    if (response.httpVersion !== H2_VERSION) yield new UpgradeInStream(id, this.server!);
    if (flow.request.httpVersion !== H2_VERSION) yield new ClientInStream(id);
    for (const chunk of this.early?.take() ?? []) yield* this.#inStream.receive(true, chunk);
  }

  *#onWebSocketEvent(ws: StreamWebSocket, event: Event): CommandGenerator {
    const flow = this.flow!;
    if (event instanceof RequestData) yield* ws.receive(true, event.data);
    else if (event instanceof ResponseData) yield* ws.receive(false, event.data);
    else if (event instanceof RequestEnd) yield* ws.peerEnded(true);
    else if (event instanceof ResponseEnd) yield* ws.peerEnded(false);
    else if (event instanceof RequestProtocolError || event instanceof ResponseProtocolError) {
      // A reset or a broken connection on one side: the other side is cut off too.
      ws.broken(event instanceof RequestProtocolError, event.message);
      if (event instanceof RequestProtocolError) yield this.toServer(event);
      else yield this.toClient(new ResponseProtocolError(this.streamId, event.message));
      yield this.release(false);
    } else return;
    if (!ws.done || this.state !== "tunnel") return;
    this.state = "done";
    flow.websocket!.timestampEnd = this.context.options.now();
    yield this.release(true);
    yield new CallHook("websocket_end", flow);
    yield new CallHook("flow_done", flow, true);
  }

  protected *onUpgradeEnded(error: string | null): CommandGenerator {
    const flow = this.flow!;
    this.state = error ? "failed" : "done";
    if (error) {
      flow.error = { message: error, timestamp: this.context.options.now() };
      yield new CallHook("error", flow);
    }
    yield new CallHook("flow_done", flow, true);
  }
}
