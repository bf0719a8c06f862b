/**
 * The vocabulary between the HTTP layer's parts. Connection layers (HTTP/1 now, HTTP/2 next)
 * turn bytes into these stream events and back; the stream layer (one per request/response
 * exchange) only ever sees these, so it does not know which HTTP version carries it.
 *
 * Stream events travel as commands: a connection layer yields ReceiveHttp(event) and a stream
 * yields SendHttp(event, conn); the HttpLayer routes both and never lets them reach the driver.
 */
import type { HeaderList } from "../../../http/headers.ts";
import type { HttpRequestHead, HttpResponseHead } from "../../../http/message.ts";
import { Command, previewBytes, type SpliceKind } from "../../core/commands.ts";
import type { Connection, Endpoint, Server } from "../../core/connection.ts";
import { CommandCompleted, Event } from "../../core/events.ts";

export abstract class HttpEvent extends Event {
  constructor(readonly streamId: number) {
    super();
  }
}

export class RequestHeaders extends HttpEvent {
  constructor(streamId: number, readonly head: HttpRequestHead, readonly endStream: boolean) {
    super(streamId);
  }
  toString(): string {
    return `RequestHeaders(#${this.streamId} ${this.head.method} ${this.head.host}:${this.head.port}${this.head.path}${
      this.endStream ? ", end" : ""
    })`;
  }
}

export class RequestData extends HttpEvent {
  constructor(streamId: number, readonly data: Uint8Array) {
    super(streamId);
  }
  toString(): string {
    return `RequestData(#${this.streamId}, ${previewBytes(this.data)})`;
  }
}

export class RequestEnd extends HttpEvent {
  constructor(streamId: number, readonly trailers: HeaderList | null = null) {
    super(streamId);
  }
  toString(): string {
    return `RequestEnd(#${this.streamId})`;
  }
}

/** A 1xx response other than 101 (100 Continue, 103 Early Hints); the final one follows. */
export class InformationalResponse extends HttpEvent {
  constructor(streamId: number, readonly head: HttpResponseHead) {
    super(streamId);
  }
  toString(): string {
    return `InformationalResponse(#${this.streamId} ${this.head.status})`;
  }
}

export class ResponseHeaders extends HttpEvent {
  constructor(streamId: number, readonly head: HttpResponseHead, readonly endStream: boolean) {
    super(streamId);
  }
  toString(): string {
    return `ResponseHeaders(#${this.streamId} ${this.head.status}${this.endStream ? ", end" : ""})`;
  }
}

export class ResponseData extends HttpEvent {
  constructor(streamId: number, readonly data: Uint8Array) {
    super(streamId);
  }
  toString(): string {
    return `ResponseData(#${this.streamId}, ${previewBytes(this.data)})`;
  }
}

export class ResponseEnd extends HttpEvent {
  constructor(streamId: number, readonly trailers: HeaderList | null = null) {
    super(streamId);
  }
  toString(): string {
    return `ResponseEnd(#${this.streamId})`;
  }
}

/**
 * The client side broke the protocol on this stream (malformed request: `status` is what to
 * answer), or vanished mid-request (`status` 0: nothing can be answered).
 */
export class RequestProtocolError extends HttpEvent {
  constructor(streamId: number, readonly message: string, readonly status: number) {
    super(streamId);
  }
  toString(): string {
    return `RequestProtocolError(#${this.streamId} ${this.status}, ${this.message})`;
  }
}

/**
 * The origin side broke the protocol or the connection on this stream. `graceful`: the response
 * is complete and the client need only stop sending (HTTP/2: RST_STREAM NO_ERROR, RFC 9113 8.1).
 */
export class ResponseProtocolError extends HttpEvent {
  constructor(streamId: number, readonly message: string, readonly graceful = false) {
    super(streamId);
  }
  toString(): string {
    return `ResponseProtocolError(#${this.streamId}, ${this.message})`;
  }
}

// ---- commands inside the HTTP layer ----

/** A connection layer hands a stream event up to the HttpLayer. */
export class ReceiveHttp extends Command {
  constructor(readonly event: HttpEvent) {
    super();
  }
  toString(): string {
    return `ReceiveHttp(${this.event})`;
  }
}

/** A stream hands an event to the connection layer of `conn`. */
export class SendHttp extends Command {
  constructor(readonly event: HttpEvent, readonly conn: Connection) {
    super();
  }
  toString(): string {
    return `SendHttp(${this.event}, ${this.conn.id})`;
  }
}

/**
 * A stream asks for a connection to an origin (reused from the pool when one has room, else
 * dialled). Answered by HttpConnectionReady.
 */
export class GetHttpConnection extends Command {
  constructor(readonly address: Endpoint, readonly tls: boolean, readonly via: Endpoint | null) {
    super();
  }
  override get blocking(): boolean {
    return true;
  }
  toString(): string {
    return `GetHttpConnection(${this.address.host}:${this.address.port}${this.tls ? ", tls" : ""})`;
  }
}

export class HttpConnectionReady extends CommandCompleted {
  constructor(
    readonly command: GetHttpConnection,
    readonly conn: Server | null,
    readonly error: string | null,
    /** True when the connection was opened for this stream (its connect time belongs here). */
    readonly fresh: boolean,
  ) {
    super();
  }
  override get reply(): unknown {
    return this;
  }
  toString(): string {
    return `HttpConnectionReady(${this.conn?.id ?? "-"}${this.error ? ", " + this.error : ""})`;
  }
}

/**
 * The stream is over for the connection `conn` (its server connection may take another one).
 * Yielded by the stream when it no longer needs the origin connection (or a tunnel's pipe).
 */
export class ReleaseConnection extends Command {
  constructor(readonly streamId: number, readonly conn: Connection, readonly reusable: boolean) {
    super();
  }
  toString(): string {
    return `ReleaseConnection(#${this.streamId}, ${this.conn.id}${this.reusable ? "" : ", close"})`;
  }
}

/**
 * The stream turned the client connection into something else (a CONNECT tunnel): the HttpLayer
 * gives the client connection to a new child stack whose server is `server`.
 */
export class HandOffClient extends Command {
  constructor(readonly streamId: number, readonly server: Server) {
    super();
  }
  toString(): string {
    return `HandOffClient(#${this.streamId}, ${this.server.id})`;
  }
}

/**
 * The origin switched protocols (101, e.g. WebSocket) and the 101 went to the client: both
 * connections leave HTTP. The HttpLayer splices them, with the bytes each side already sent
 * past the handshake, and tells the stream with SpliceEnded when the relay is over.
 */
export class UpgradeStream extends Command {
  constructor(
    readonly streamId: number,
    readonly server: Server,
    readonly kind: SpliceKind = "raw",
    /** For a "websocket" relay: the flow and the negotiated extensions. */
    readonly data: unknown = null,
  ) {
    super();
  }
  toString(): string {
    return `UpgradeStream(#${this.streamId}, ${this.server.id}, ${this.kind})`;
  }
}
