/**
 * The HTTP/2 connection layer towards an origin: several proxy streams share one connection,
 * each on its own HTTP/2 stream (ids are mapped: the proxy's stream ids come from the client
 * side). The HttpLayer hands it up to `capacity` streams at once: the origin's
 * SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS arrive). A reset ends one stream
 * (its siblings go on); GOAWAY lets the streams it covers finish and takes no new ones.
 */
import { ErrorCode, type Http2Event } from "../../../http2/mod.ts";
import type { Server } from "../../core/connection.ts";
import type { Command } from "../../core/commands.ts";
import type { Context } from "../../core/context.ts";
import { ConnectionClosed, DataReceived, type Event } from "../../core/events.ts";
import {
  type HttpEvent,
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
import { responseFromH2, trailersFromH2, trailersToH2 } from "./h2_convert.ts";
import { BodyAcknowledged, codeName, Http2Layer } from "./http2_base.ts";
import { requestToH2Origin, switchingProtocolsFromH2 } from "./h2_websocket.ts";
import { isWebSocketUpgrade } from "../../../websocket/handshake.ts";
import type { HttpRequestHead } from "../../../http/message.ts";

const EMPTY = new Uint8Array(0);
/** Streams assumed allowed before the origin's SETTINGS say otherwise (RFC 9113 6.5.2). */
const ASSUMED_MAX_STREAMS = 100;

export class Http2Client extends Http2Layer {
  readonly server: Server;
  /** Proxy stream id -> HTTP/2 stream id, and back. */
  readonly #toH2 = new Map<number, number>();
  readonly #fromH2 = new Map<number, number>();
  /** Requests waiting for the origin to allow another stream, in order. */
  readonly #waiting = new Map<number, HttpEvent[]>();
  #maxStreams = ASSUMED_MAX_STREAMS;
  #goaway = false;
  /** The origin's SETTINGS arrived (whether it takes extended CONNECT is known). */
  #settingsSeen = false;
  /**
   * WebSocket handshakes sent as extended CONNECT (RFC 8441), by proxy stream id: the request
   * (its key makes the 101), and whether the request end the handshake carries was skipped
   * (the stream stays open for the frames; the next end is the client's).
   */
  readonly #webSockets = new Map<
    number,
    { head: HttpRequestHead; opened: boolean; responseEnded: boolean }
  >();

  constructor(context: Context, server: Server) {
    super(context, server, "client");
    this.server = server;
  }

  override toString(): string {
    return `Http2Client(${this.#toH2.size} streams)`;
  }

  /** How many streams the HttpLayer may put on this connection at once. */
  get capacity(): number {
    return this.#goaway || this.isClosed ? 0 : Math.min(this.#maxStreams, 1000);
  }

  /** Takes new streams (the pool's test, as Http1Client.idle is for HTTP/1). */
  get idle(): boolean {
    return this.conn.open && !this.#goaway && !this.isClosed;
  }

  /** A stream the HttpLayer gives up (its flow failed): reset it, the siblings go on. */
  abandon(streamId: number, out: Command[]): void {
    this.#waiting.delete(streamId);
    const h2Id = this.#toH2.get(streamId);
    if (h2Id === undefined) return;
    this.#forget(streamId);
    this.resetStream(h2Id, ErrorCode.CANCEL);
    this.flush(out);
    this.#closeIfDone(out);
  }

  protected handle(event: Event, out: Command[]): void {
    if (event instanceof DataReceived && event.conn === this.conn) {
      for (const ev of this.receive(event.data)) this.#onH2(ev, out);
      this.#openWaiting(out);
      this.flush(out);
      this.#closeIfDone(out);
    } else if (event instanceof ConnectionClosed && event.conn === this.conn) {
      this.close(out);
      this.#failAll("origin closed the connection", out);
    } else if (event instanceof BodyAcknowledged) {
      this.acknowledge(event);
      this.flush(out);
    } else if (
      event instanceof RequestHeaders || event instanceof RequestData ||
      event instanceof RequestEnd || event instanceof RequestProtocolError
    ) {
      const queue = this.#waiting.get(event.streamId);
      if (queue !== undefined) queue.push(event);
      else if (
        event instanceof RequestHeaders &&
        (!this.h2.canOpenStream || (!this.#settingsSeen && isWebSocketUpgrade(event.head.headers)))
      ) {
        // (A WebSocket handshake waits for the SETTINGS that say whether RFC 8441 is there.)
        this.#waiting.set(event.streamId, [event]);
      } else {
        const failed = this.#send(event);
        if (failed !== null) out.push(new ReceiveHttp(failed));
      }
      this.flush(out);
      this.#closeIfDone(out);
    }
  }

  /** Sends a request event; a request head that cannot be sent fails its stream. */
  #send(event: HttpEvent): ResponseProtocolError | null {
    const id = event.streamId;
    if (event instanceof RequestHeaders) {
      const ws = isWebSocketUpgrade(event.head.headers) && event.head.method === "GET";
      if (ws && !this.h2.remoteSettings.enableConnectProtocol) {
        return new ResponseProtocolError(
          id,
          "the origin speaks HTTP/2 and does not take WebSockets over it (no RFC 8441)",
        );
      }
      if (ws) this.#webSockets.set(id, { head: event.head, opened: false, responseEnded: false });
      const fields = requestToH2Origin(event.head, ws);
      const error = this.tryToSend(() => {
        const h2Id = this.h2.request(fields, event.endStream && !ws);
        this.#toH2.set(id, h2Id);
        this.#fromH2.set(h2Id, id);
      });
      return error === null
        ? null
        : new ResponseProtocolError(id, `cannot send the request: ${error}`);
    }
    const h2Id = this.#toH2.get(id);
    if (h2Id === undefined) return null;
    if (event instanceof RequestData) {
      this.sendBody(id, h2Id, event.data, false);
    } else if (event instanceof RequestEnd) {
      const ws = this.#webSockets.get(id);
      if (ws !== undefined && !ws.opened) {
        ws.opened = true; // the handshake's own end: the stream stays open for frames
        return null;
      }
      const trailers = trailersToH2(event.trailers);
      this.attempt(() =>
        trailers !== null
          ? this.h2.sendTrailers(h2Id, trailers)
          : this.h2.sendData(h2Id, EMPTY, true)
      );
      if (ws !== undefined) {
        this.#webSockets.delete(id);
        if (ws.responseEnded) this.#forget(id);
      }
    } else if (event instanceof RequestProtocolError) {
      this.#forget(id);
      this.resetStream(h2Id, ErrorCode.CANCEL);
    }
    return null;
  }

  /** Requests that waited for a free stream go out while the origin allows more. */
  #openWaiting(out: Command[]): void {
    for (const [id, events] of this.#waiting) {
      if (!this.h2.canOpenStream) return;
      this.#waiting.delete(id);
      for (const ev of events) {
        const failed = this.#send(ev);
        if (failed !== null) out.push(new ReceiveHttp(failed));
      }
    }
  }

  #onH2(ev: Http2Event, out: Command[]): void {
    if (ev.type === "settings") {
      this.#maxStreams = ev.settings.maxConcurrentStreams;
      this.#settingsSeen = true;
      return;
    }
    if (ev.type === "goaway") {
      this.#goaway = true;
      return;
    }
    if (ev.type === "connectionError") {
      this.close(out);
      this.#failAll(`HTTP/2 connection error with the origin: ${ev.message}`, out);
      return;
    }
    if (!("streamId" in ev)) return;
    const id = this.#fromH2.get(ev.streamId);
    if (id === undefined) return;
    switch (ev.type) {
      case "response": {
        let head = responseFromH2(ev.status, ev.headers);
        const ws = this.#webSockets.get(id);
        if (ws !== undefined && ev.status >= 200 && ev.status < 300 && !ev.endStream) {
          head = switchingProtocolsFromH2(head, ws.head);
        } else if (ws !== undefined && ev.status >= 200) {
          // Refused: an ordinary response, and the handshake request ends here.
          this.#webSockets.delete(id);
          this.attempt(() => this.h2.sendData(ev.streamId, EMPTY, true));
        }
        if (ev.status < 200) {
          if (ev.status !== 101) out.push(new ReceiveHttp(new InformationalResponse(id, head)));
          return;
        }
        out.push(new ReceiveHttp(new ResponseHeaders(id, head, ev.endStream)));
        if (ev.endStream) this.#end(id, null, out);
        return;
      }
      case "data":
        if (ev.data.length > 0) {
          this.received(id, ev.streamId, ev.data.length);
          out.push(new ReceiveHttp(new ResponseData(id, ev.data)));
        }
        if (ev.endStream) this.#end(id, null, out);
        return;
      case "trailers":
        this.#end(id, trailersFromH2(ev.headers), out);
        return;
      case "reset": {
        this.#forget(id);
        const why = ev.remote
          ? `origin reset the stream (${codeName(ev.code)})`
          : `malformed response from the origin: ${ev.message ?? codeName(ev.code)}`;
        out.push(new ReceiveHttp(new ResponseProtocolError(id, why)));
        return;
      }
      default:
        return;
    }
  }

  #end(id: number, trailers: ReturnType<typeof trailersFromH2> | null, out: Command[]): void {
    const ws = this.#webSockets.get(id);
    // A WebSocket's client side may still send: its end goes out when the client's comes.
    if (ws !== undefined && ws.opened) ws.responseEnded = true;
    else this.#forget(id);
    out.push(new ReceiveHttp(new ResponseEnd(id, trailers)));
  }

  #forget(id: number): void {
    this.#webSockets.delete(id);
    const h2Id = this.#toH2.get(id);
    this.#toH2.delete(id);
    if (h2Id !== undefined) this.#fromH2.delete(h2Id);
  }

  #failAll(message: string, out: Command[]): void {
    const ids = [...this.#toH2.keys(), ...this.#waiting.keys()];
    this.#toH2.clear();
    this.#fromH2.clear();
    this.#waiting.clear();
    for (const id of ids) out.push(new ReceiveHttp(new ResponseProtocolError(id, message)));
  }

  /** After GOAWAY, the connection ends once the streams it covered are done. */
  #closeIfDone(out: Command[]): void {
    if (this.isClosed) return;
    if ((this.#goaway || this.h2.closed) && this.#toH2.size === 0 && this.#waiting.size === 0) {
      this.close(out);
    }
  }
}
