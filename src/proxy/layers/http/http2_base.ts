/**
 * What both HTTP/2 connection layers share: the sans-IO codec of src/http2 for one connection,
 * writing out what it queued after every step, and closing once.
 *
 * Flow control: received DATA is acknowledged (reopening the peer's window) when it has been
 * handed on as a stream event. The driver reads a connection again only once the writes its
 * bytes caused are with the OS, so a slow receiver holds back the sender's connection and
 * memory stays bounded by the windows we announce (256 KiB a stream, 1 MiB a connection).
 */
import {
  ErrorCode,
  Http2Connection,
  type Http2Event,
  Http2UsageError,
} from "../../../http2/mod.ts";
import { CloseConnection, SendData } from "../../core/commands.ts";
import type { Connection } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import { type CommandGenerator, Layer } from "../../core/layer.ts";

export abstract class Http2Layer extends Layer {
  readonly conn: Connection;
  readonly h2: Http2Connection;
  #closed = false;

  constructor(context: Context, conn: Connection, role: "client" | "server") {
    super(context);
    this.conn = conn;
    this.h2 = new Http2Connection({
      role,
      settings: { maxHeaderListSize: context.options.maxHeadBytes },
    });
  }

  /** Writes whatever the codec queued (frames, acknowledgements, WINDOW_UPDATEs). */
  protected *flush(): CommandGenerator {
    if (this.#closed) return;
    const out = this.h2.dataToSend();
    if (out.length > 0) yield new SendData(this.conn, out);
  }

  protected *close(): CommandGenerator {
    if (this.#closed) return;
    yield* this.flush();
    this.#closed = true;
    if (this.conn.open) yield new CloseConnection(this.conn);
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Runs a sending call of the codec; a stream the peer already reset (or a connection that
   * ended) makes it throw Http2UsageError, which only means there is no one left to send to.
   */
  protected attempt(send: () => void): boolean {
    try {
      send();
      return true;
    } catch (e) {
      if (e instanceof Http2UsageError) return false;
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
