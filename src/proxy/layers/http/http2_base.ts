/**
 * What both HTTP/2 connection layers share: the sans-IO codec of src/http2 for one connection,
 * writing out what it queued after every step, and closing once.
 *
 * Flow control, per stream: received DATA is acknowledged (reopening the peer's window) only
 * when the other side took it. The HttpLayer says so with BodyAcknowledged: at once when the
 * bytes went to an HTTP/1 connection (the driver then reads no more of ours until they are
 * written) or into a held body; when the bytes went to another HTTP/2 connection, once that
 * connection framed them (BodyTaken), which its peer's window allows. So a slow reader of one
 * stream holds back that stream only, and memory stays bounded by the windows.
 */
import {
  ErrorCode,
  Http2Connection,
  type Http2Event,
  Http2UsageError,
} from "../../../http2/mod.ts";
import { CloseConnection, Command, SendData } from "../../core/commands.ts";
import type { Connection } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import { Event } from "../../core/events.ts";
import { DirectLayer } from "../../core/layer.ts";

/** An HTTP/2 layer framed `bytes` of body it was given for proxy stream `streamId`. */
export class BodyTaken extends Command {
  constructor(readonly streamId: number, readonly bytes: number) {
    super();
  }
  toString(): string {
    return `BodyTaken(#${this.streamId}, ${this.bytes})`;
  }
}

/** To the layer that received body bytes of `streamId`: `bytes` of them were taken. */
export class BodyAcknowledged extends Event {
  constructor(readonly streamId: number, readonly bytes: number) {
    super();
  }
  toString(): string {
    return `BodyAcknowledged(#${this.streamId}, ${this.bytes})`;
  }
}

export abstract class Http2Layer extends DirectLayer {
  readonly conn: Connection;
  readonly h2: Http2Connection;
  #closed = false;
  /** Body bytes given to the codec and not framed yet: HTTP/2 id -> [proxy id, bytes]. */
  readonly #queued = new Map<number, [number, number]>();
  /** Body bytes received and not acknowledged yet: proxy id -> [HTTP/2 id, bytes]. */
  readonly #owed = new Map<number, [number, number]>();

  constructor(context: Context, conn: Connection, role: "client" | "server") {
    super(context);
    this.conn = conn;
    this.h2 = new Http2Connection({
      role,
      // A server announces RFC 8441 extended CONNECT: WebSockets over HTTP/2.
      settings: {
        maxHeaderListSize: context.options.maxHeadBytes,
        ...(role === "server" ? { enableConnectProtocol: true } : {}),
      },
    });
  }

  /**
   * Writes whatever the codec queued (frames, acknowledgements, WINDOW_UPDATEs), and reports
   * the body bytes that went into frames since the last time.
   */
  protected flush(out: Command[]): void {
    for (const [h2Id, entry] of this.#queued) {
      const now = this.h2.queuedBytes(h2Id);
      if (now < entry[1]) out.push(new BodyTaken(entry[0], entry[1] - now));
      entry[1] = now;
      if (now === 0) this.#queued.delete(h2Id);
    }
    if (this.#closed) return;
    // Frame headers and views of the body bytes as queued, not one copy of them all: the driver
    // writes one event's pieces together, and the connection joins small ones in a reused buffer.
    for (const piece of this.h2.takeChunks()) {
      if (piece.length > 0) out.push(new SendData(this.conn, piece));
    }
  }

  /** Sends body bytes of a proxy stream; BodyTaken follows as they are framed. */
  protected sendBody(proxyId: number, h2Id: number, data: Uint8Array, end: boolean): void {
    const entry = this.#queued.get(h2Id) ?? [proxyId, this.h2.queuedBytes(h2Id)];
    entry[1] += data.length;
    this.#queued.set(h2Id, entry);
    if (!this.attempt(() => this.h2.sendData(h2Id, data, end))) entry[1] -= data.length;
  }

  /** Body bytes not framed yet for a proxy stream. */
  queuedFor(proxyId: number): number {
    for (const [h2Id, entry] of this.#queued) {
      if (entry[0] === proxyId) return this.h2.queuedBytes(h2Id);
    }
    return 0;
  }

  /** Body bytes received for a proxy stream: owed an acknowledgement. */
  protected received(proxyId: number, h2Id: number, n: number): void {
    const entry = this.#owed.get(proxyId);
    if (entry === undefined) this.#owed.set(proxyId, [h2Id, n]);
    else entry[1] += n;
  }

  /** The other side took `n` bytes of a proxy stream: reopen the windows by that much. */
  protected acknowledge(ack: BodyAcknowledged): void {
    const entry = this.#owed.get(ack.streamId);
    if (entry === undefined) return;
    const n = Math.min(ack.bytes, entry[1]);
    entry[1] -= n;
    if (entry[1] === 0) this.#owed.delete(ack.streamId);
    this.h2.acknowledgeData(entry[0], n);
  }

  protected close(out: Command[]): void {
    if (this.#closed) return;
    this.flush(out);
    this.#closed = true;
    if (this.conn.open) out.push(new CloseConnection(this.conn));
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Runs a sending call of the codec; a stream the peer already reset (or a connection that
   * ended) makes it throw Http2UsageError, which only means there is no one left to send to.
   */
  protected attempt(send: () => void): boolean {
    return this.tryToSend(send) === null;
  }

  /** As `attempt`, returning why it could not be sent (null when it was). */
  protected tryToSend(send: () => void): string | null {
    try {
      send();
      return null;
    } catch (e) {
      if (e instanceof Http2UsageError) return e.message;
      throw e;
    }
  }

  /** Resets a stream (ignored when it is already closed). */
  protected resetStream(h2Id: number, code: number = ErrorCode.CANCEL): void {
    this.attempt(() => this.h2.reset(h2Id, code));
  }

  /** The codec's events for some received bytes. */
  protected receive(data: Uint8Array): Http2Event[] {
    return this.h2.receive(data);
  }
}

/** "REFUSED_STREAM (7)" and the like, for messages. */
export function codeName(code: number): string {
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name;
  return `error code ${code}`;
}
