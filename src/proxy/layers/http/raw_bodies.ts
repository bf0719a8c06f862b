/**
 * Connections whose bytes are one stream's body, both ways, once they left HTTP. On the origin
 * side: an HTTP/1.1 origin past its 101 for an h2 client's WebSocket (`UpgradeInStream`) and a
 * CONNECT tunnel's pipe (`TunnelInStream`); on the client side, an HTTP/1.1 client past the 101
 * it was sent for a WebSocket to an h2 origin (`ClientInStream`). This turns their bytes into
 * stream events and stream events into bytes; the HttpLayer routes both.
 */
import { CloseConnection, type Command, SendData } from "../../core/commands.ts";
import type { Connection } from "../../core/connection.ts";
import { type ConnectionClosed, DataReceived } from "../../core/events.ts";
import {
  type HttpEvent,
  RequestData,
  RequestEnd,
  RequestProtocolError,
  ResponseData,
  ResponseEnd,
  ResponseProtocolError,
  type SendHttp,
} from "./events.ts";

export class RawBodies {
  readonly #client: Connection;
  /** Origin-side connections -> their stream. */
  readonly #origins = new Map<Connection, number>();
  /** The raw client's stream, and which directions of its bytes ended. */
  #raw: { streamId: number; in: boolean; out: boolean } | null = null;

  constructor(client: Connection) {
    this.#client = client;
  }

  // ---- the origin side ----

  addOrigin(conn: Connection, streamId: number): void {
    this.#origins.set(conn, streamId);
  }

  isOrigin(conn: Connection): boolean {
    return this.#origins.has(conn);
  }

  /** The stream is over with it: true if it was one of ours (never reused past a 101). */
  releaseOrigin(conn: Connection): boolean {
    return this.#origins.delete(conn);
  }

  /** Bytes (or the end) of an origin-side connection: its stream's response body. */
  fromOrigin(event: DataReceived | ConnectionClosed): HttpEvent {
    const streamId = this.#origins.get(event.conn)!;
    return event instanceof DataReceived
      ? new ResponseData(streamId, event.data.slice())
      : event.conn.error
      ? new ResponseProtocolError(streamId, event.conn.error)
      : new ResponseEnd(streamId, null);
  }

  /** The stream's request body to an origin-side connection; its end is our FIN. */
  toOrigin(command: SendHttp, out: Command[]): void {
    const conn = command.conn;
    const ev = command.event;
    if (ev instanceof RequestData) {
      out.push(new SendData(conn, ev.data));
    } else if (ev instanceof RequestEnd) {
      out.push(new CloseConnection(conn, true));
    } else if (ev instanceof RequestProtocolError) {
      this.#origins.delete(conn);
      out.push(new CloseConnection(conn));
    }
  }

  /** The client left: the origin-side connections close. */
  closeOrigins(out: Command[]): void {
    for (const conn of this.#origins.keys()) if (conn.open) out.push(new CloseConnection(conn));
    this.#origins.clear();
  }

  // ---- the client side ----

  /** From now on the client's connection carries `streamId`'s body. */
  startClient(streamId: number): void {
    this.#raw = { streamId, in: false, out: false };
  }

  /** Whether the client's connection is raw now. */
  get clientIsRaw(): boolean {
    return this.#raw !== null;
  }

  /** Whether a stream's event to the client goes to the raw connection. */
  isToRawClient(command: SendHttp): boolean {
    return this.#raw?.streamId === command.event.streamId && command.conn === this.#client;
  }

  /**
   * Bytes (or the end) of the raw client: its stream's request body, or null. `done` once both
   * directions ended: the connection (and the origin connections it used) may close.
   */
  fromClient(event: DataReceived | ConnectionClosed): { ev: HttpEvent | null; done: boolean } {
    const raw = this.#raw!;
    if (event instanceof DataReceived) {
      return { ev: new RequestData(raw.streamId, event.data.slice()), done: false };
    }
    if (raw.in) return { ev: null, done: false };
    raw.in = true;
    const ev = this.#client.error
      ? new RequestProtocolError(raw.streamId, this.#client.error, 0)
      : new RequestEnd(raw.streamId, null);
    return { ev, done: raw.out };
  }

  /** The stream's response body to the raw client; its end is our FIN. True when done. */
  toClient(command: SendHttp, out: Command[]): boolean {
    const raw = this.#raw!;
    const ev = command.event;
    if (ev instanceof ResponseData) {
      out.push(new SendData(command.conn, ev.data));
    } else if (ev instanceof ResponseEnd && !raw.out) {
      raw.out = true;
      if (raw.in) return true;
      out.push(new CloseConnection(command.conn, true));
    } else if (ev instanceof ResponseProtocolError) {
      raw.out = raw.in = true;
      return true;
    }
    return false;
  }
}
