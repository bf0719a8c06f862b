/**
 * The HTTP/2 connection layer towards a client: each HTTP/2 stream becomes a version-neutral
 * stream event flow under the same id (requests in, responses out), so HttpStream and the
 * HttpLayer work as for HTTP/1. A reset or malformed stream ends that stream only; the
 * connection ends on a connection error, the client's GOAWAY once its streams are done, or
 * the client closing.
 */
import { HttpError } from "../../../http1/errors.ts";
import { type EncoderField, ErrorCode, type Http2Event } from "../../../http2/mod.ts";
import type { Scheme } from "../../../http/message.ts";
import type { Command } from "../../core/commands.ts";
import type { Context } from "../../core/context.ts";
import { ConnectionClosed, DataReceived, type Event, Start } from "../../core/events.ts";
import {
  InformationalResponse,
  ReceiveHttp,
  RequestData,
  RequestEnd,
  RequestHeaders,
  RequestProtocolError,
  ResponseData,
  ResponseEnd,
  ResponseHeaders,
  ResponseProtocolError,
} from "./events.ts";
import { requestFromH2, responseToH2, trailersFromH2, trailersToH2 } from "./h2_convert.ts";
import { BodyAcknowledged, codeName, Http2Layer } from "./http2_base.ts";
import {
  extendedConnectAnswer,
  isExtendedConnectWebSocket,
  upgradeFromExtendedConnect,
} from "./h2_websocket.ts";

const EMPTY = new Uint8Array(0);

export class Http2Server extends Http2Layer {
  readonly #scheme: Scheme;
  /** Streams whose exchange is under way (request or response not finished). */
  readonly streams = new Set<number>();
  /** Streams that are RFC 8441 WebSocket handshakes (their 101 goes out as 200). */
  readonly #webSockets = new Set<number>();
  /**
   * WebSocket streams one side of which has ended (the client's DATA or our response): the
   * stream is done when the other side ends too. Until then the client's reset, or its
   * connection's end, must still reach the flow.
   */
  readonly #halfEnded = new Set<number>();
  #goaway = false;
  /**
   * Response heads not sent yet: each waits for what follows it in the same step, so that a
   * response without a body goes out as one HEADERS frame with END_STREAM (gRPC's
   * "trailers-only" errors depend on it). The HttpLayer calls sendPendingHeads after each step.
   */
  readonly #pendingHeads = new Map<number, EncoderField[]>();

  constructor(context: Context, scheme: Scheme = "http") {
    super(context, context.client, "server");
    this.#scheme = scheme;
  }

  override toString(): string {
    return `Http2Server(${this.streams.size} streams)`;
  }

  protected handle(event: Event, out: Command[]): void {
    if (event instanceof Start) {
      this.flush(out); // our SETTINGS
    } else if (event instanceof DataReceived && event.conn === this.conn) {
      for (const ev of this.receive(event.data)) this.#onH2(ev, out);
      this.flush(out);
      this.#closeIfDone(out);
    } else if (event instanceof ConnectionClosed && event.conn === this.conn) {
      for (const id of [...this.streams]) {
        this.streams.delete(id);
        out.push(new ReceiveHttp(new RequestProtocolError(id, "client closed the connection", 0)));
      }
      this.close(out);
    } else if (event instanceof InformationalResponse) {
      if (event.head.status !== 101) {
        this.attempt(() => this.h2.sendHeaders(event.streamId, responseToH2(event.head), false));
        this.flush(out);
      }
    } else if (event instanceof ResponseHeaders) {
      const ws = this.#webSockets.has(event.streamId) && event.head.status === 101;
      if (!ws && this.#webSockets.delete(event.streamId)) {
        // A WebSocket refused: a plain response, whose end ends the stream.
        this.#halfEnded.delete(event.streamId);
      }
      const fields = responseToH2(ws ? extendedConnectAnswer(event.head) : event.head);
      if (event.endStream) {
        this.#sendHeadOrReset(event.streamId, fields, true);
        this.#ended(event.streamId);
        this.flush(out);
      } else {
        this.#pendingHeads.set(event.streamId, fields);
      }
    } else if (event instanceof ResponseData) {
      this.#sendHead(event.streamId, false);
      this.sendBody(event.streamId, event.streamId, event.data, false);
      this.flush(out);
    } else if (event instanceof BodyAcknowledged) {
      this.acknowledge(event);
      this.flush(out);
    } else if (event instanceof ResponseEnd) {
      const trailers = trailersToH2(event.trailers);
      // A held head with nothing after it ends the stream itself (one HEADERS frame).
      if (!this.#sendHead(event.streamId, trailers === null)) {
        this.attempt(() =>
          trailers !== null
            ? this.h2.sendTrailers(event.streamId, trailers)
            : this.h2.sendData(event.streamId, EMPTY, true)
        );
      }
      this.#ended(event.streamId);
      this.flush(out);
      this.#closeIfDone(out);
    } else if (event instanceof ResponseProtocolError) {
      // The response broke half way: the client learns it from the stream's reset.
      this.#pendingHeads.delete(event.streamId);
      this.streams.delete(event.streamId);
      this.#webSockets.delete(event.streamId);
      this.#halfEnded.delete(event.streamId);
      this.resetStream(
        event.streamId,
        event.graceful ? ErrorCode.NO_ERROR : ErrorCode.INTERNAL_ERROR,
      );
      this.flush(out);
      this.#closeIfDone(out);
    }
  }

  #onH2(ev: Http2Event, out: Command[]): void {
    switch (ev.type) {
      case "request": {
        if (isExtendedConnectWebSocket(ev.pseudo)) {
          this.#onWebSocket(ev.streamId, ev.pseudo, ev.headers, out);
          if (ev.endStream) this.#webSocketSideEnded(ev.streamId);
          return;
        }
        if (ev.pseudo.method === "CONNECT" && ev.pseudo.protocol !== undefined) {
          // RFC 8441 for another protocol than WebSocket: nothing here speaks it.
          this.streams.add(ev.streamId);
          const why = `extended CONNECT for "${ev.pseudo.protocol}" is not supported`;
          out.push(new ReceiveHttp(new RequestProtocolError(ev.streamId, why, 501)));
          return;
        }
        let head;
        try {
          head = requestFromH2(
            ev.pseudo,
            ev.headers,
            ev.endStream,
            this.#scheme,
            this.context.server?.address ?? null,
          );
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          this.streams.add(ev.streamId);
          out.push(new ReceiveHttp(new RequestProtocolError(ev.streamId, e.message, e.status)));
          return;
        }
        this.streams.add(ev.streamId);
        out.push(new ReceiveHttp(new RequestHeaders(ev.streamId, head, ev.endStream)));
        if (ev.endStream) out.push(new ReceiveHttp(new RequestEnd(ev.streamId)));
        return;
      }
      case "data":
        if (ev.data.length > 0) {
          this.received(ev.streamId, ev.streamId, ev.data.length);
          out.push(new ReceiveHttp(new RequestData(ev.streamId, ev.data)));
        }
        if (ev.endStream) {
          out.push(new ReceiveHttp(new RequestEnd(ev.streamId)));
          this.#webSocketSideEnded(ev.streamId);
        }
        return;
      case "trailers":
        out.push(new ReceiveHttp(new RequestEnd(ev.streamId, trailersFromH2(ev.headers))));
        return;
      case "reset":
        this.#webSockets.delete(ev.streamId);
        this.#halfEnded.delete(ev.streamId);
        if (this.streams.delete(ev.streamId)) {
          const why = ev.remote
            ? `client reset the stream (${codeName(ev.code)})`
            : `malformed request: ${ev.message ?? codeName(ev.code)}`;
          out.push(new ReceiveHttp(new RequestProtocolError(ev.streamId, why, 0)));
        }
        return;
      case "goaway":
        this.#goaway = true;
        return;
      case "connectionError":
        for (const id of [...this.streams]) {
          this.streams.delete(id);
          out.push(
            new ReceiveHttp(
              new RequestProtocolError(id, `HTTP/2 connection error: ${ev.message}`, 0),
            ),
          );
        }
        this.close(out);
        return;
      default:
        return;
    }
  }

  /**
   * An RFC 8441 WebSocket handshake: the request as the HTTP/1.1 upgrade it stands for, ended
   * at once (it has no body); the stream's DATA that follows the 200 are WebSocket frames.
   */
  #onWebSocket(
    streamId: number,
    pseudo: Parameters<typeof upgradeFromExtendedConnect>[0],
    fields: Parameters<typeof upgradeFromExtendedConnect>[1],
    out: Command[],
  ): void {
    this.streams.add(streamId);
    let head;
    try {
      head = upgradeFromExtendedConnect(
        pseudo,
        fields,
        this.#scheme,
        this.context.server?.address ?? null,
      );
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      out.push(new ReceiveHttp(new RequestProtocolError(streamId, e.message, e.status)));
      return;
    }
    this.#webSockets.add(streamId);
    out.push(new ReceiveHttp(new RequestHeaders(streamId, head, true)));
    out.push(new ReceiveHttp(new RequestEnd(streamId)));
  }

  /** Sends a held response head; true if there was one (with END_STREAM when `end`). */
  #sendHead(streamId: number, end: boolean): boolean {
    const fields = this.#pendingHeads.get(streamId);
    if (fields === undefined) return false;
    this.#pendingHeads.delete(streamId);
    this.#sendHeadOrReset(streamId, fields, end);
    return end;
  }

  /** A head the codec refuses (too large for the client's limit, say) resets the stream. */
  #sendHeadOrReset(streamId: number, fields: EncoderField[], end: boolean): void {
    if (!this.attempt(() => this.h2.sendHeaders(streamId, fields, end))) {
      this.resetStream(streamId, ErrorCode.INTERNAL_ERROR);
    }
  }

  /** Sends the response heads nothing followed in this step (a body comes later). */
  sendPendingHeads(out: Command[]): void {
    if (this.#pendingHeads.size === 0) return;
    for (const id of [...this.#pendingHeads.keys()]) this.#sendHead(id, false);
    this.flush(out);
  }

  /**
   * The response is complete; the stream is done (what the client still sends on a plain request
   * stream is not waited for), except a WebSocket's whose client side is still open.
   */
  #ended(streamId: number): void {
    if (this.#webSockets.has(streamId)) {
      this.#webSocketSideEnded(streamId);
      return;
    }
    this.streams.delete(streamId);
  }

  /** One side of a WebSocket stream ended; with both, the stream is done. */
  #webSocketSideEnded(streamId: number): void {
    if (!this.#webSockets.has(streamId)) return;
    if (!this.#halfEnded.delete(streamId)) {
      this.#halfEnded.add(streamId);
      return;
    }
    this.streams.delete(streamId);
    this.#webSockets.delete(streamId);
  }

  #closeIfDone(out: Command[]): void {
    if ((this.#goaway || this.h2.closed) && this.streams.size === 0) this.close(out);
  }
}
