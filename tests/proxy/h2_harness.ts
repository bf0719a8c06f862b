/**
 * Drives a layer stack like the driver does, without sockets: blocking commands are answered at
 * once (hooks unchanged, dials succeed, TLS handshakes pick the ALPN the test says), bytes
 * written are kept per connection. With HTTP/2 peers (src/http2 codecs standing in for a client
 * or an origin) a test reads what the proxy wrote and answers with real frames.
 */
import {
  CallHook,
  CloseConnection,
  type Command,
  OpenConnection,
  SendData,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { type Connection, ConnState, type Server } from "../../src/proxy/core/connection.ts";
import {
  DataReceived,
  type Event,
  HookAnswered,
  OpenConnectionCompleted,
  TlsEstablished,
} from "../../src/proxy/core/events.ts";
import type { Layer } from "../../src/proxy/core/layer.ts";
import { Http2Connection, type Http2Event } from "../../src/http2/mod.ts";

export class Drive {
  /** Every command yielded, in order. */
  readonly commands: Command[] = [];
  readonly #out = new Map<Connection, Uint8Array[]>();
  /** Servers dialled, in order. */
  readonly servers: Server[] = [];
  /** Called with each hook before it is answered (a test may fill in its data). */
  onHook: ((hook: CallHook) => void) | null = null;
  /** Why a dial fails (null: it succeeds). */
  dialError: ((server: Server) => string | null) | null = null;

  constructor(
    readonly layer: Layer,
    /** The ALPN protocol an origin picks in the TLS handshake. */
    readonly alpnFor: (server: Server) => string | null = () => null,
  ) {}

  /** Feeds an event and everything it leads to; returns the commands yielded. */
  send(event: Event): Command[] {
    const yielded: Command[] = [];
    const queue = [event];
    while (queue.length > 0) {
      for (const c of this.layer.handleEvent(queue.shift()!)) {
        yielded.push(c);
        this.commands.push(c);
        if (c instanceof SendData) {
          const list = this.#out.get(c.conn) ?? [];
          list.push(c.data.slice());
          this.#out.set(c.conn, list);
        } else if (c instanceof CallHook) {
          this.onHook?.(c);
          queue.push(new HookAnswered(c));
        } else if (c instanceof OpenConnection) {
          const error = this.dialError?.(c.conn) ?? null;
          if (error === null) c.conn.state = ConnState.Open;
          this.servers.push(c.conn);
          queue.push(new OpenConnectionCompleted(c, error));
        } else if (c instanceof StartTls) {
          const tls = c.conn.tls!;
          tls.alpn = this.alpnFor(c.conn as Server);
          tls.established = true;
          queue.push(new TlsEstablished(c));
        } else if (c instanceof CloseConnection && !c.half) {
          c.conn.state = ConnState.Closed;
        }
      }
    }
    return yielded;
  }

  /** Bytes written to `conn` since the last call. */
  take(conn: Connection): Uint8Array {
    const list = this.#out.get(conn) ?? [];
    this.#out.delete(conn);
    let n = 0;
    for (const p of list) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of list) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Commands of a class yielded so far. */
  all<C extends Command>(cls: abstract new (...args: never[]) => C): C[] {
    return this.commands.filter((c): c is C => c instanceof cls);
  }
}

/** An HTTP/2 peer (a client or an origin) talking to the proxy through a Drive. */
export class H2Peer {
  readonly h2: Http2Connection;
  readonly events: Http2Event[] = [];
  /** Acknowledge received DATA at once (a reader that keeps up); off: the window stays shut. */
  autoAck = true;

  constructor(
    readonly drive: Drive,
    readonly conn: Connection,
    role: "client" | "server",
    /** SETTINGS to announce (an origin that takes extended CONNECT: enableConnectProtocol). */
    settings: { enableConnectProtocol?: boolean } = {},
  ) {
    this.h2 = new Http2Connection({ role, settings });
  }

  /** Sends what the peer's codec queued to the proxy. */
  flush(): Command[] {
    const bytes = this.h2.dataToSend();
    return bytes.length > 0 ? this.drive.send(new DataReceived(this.conn, bytes)) : [];
  }

  /** Reads what the proxy wrote to this peer; returns the new events (and answers SETTINGS). */
  read(): Http2Event[] {
    const bytes = this.drive.take(this.conn);
    const events = bytes.length > 0 ? this.h2.receive(bytes) : [];
    this.events.push(...events);
    for (const ev of events) {
      if (ev.type === "data" && this.autoAck) this.h2.acknowledgeData(ev.streamId, ev.data.length);
    }
    return events;
  }

  /** The body received on a stream so far, as text. */
  body(streamId: number): string {
    const parts: Uint8Array[] = [];
    for (const ev of this.events) {
      if (ev.type === "data" && ev.streamId === streamId) parts.push(ev.data);
    }
    return parts.map((p) => new TextDecoder().decode(p)).join("");
  }

  /** The events of one stream, by type, for compact assertions. */
  kinds(streamId: number): string[] {
    // An empty DATA frame that only ends the stream shows as "end".
    return this.events.filter((e) => "streamId" in e && e.streamId === streamId).map((e) =>
      e.type === "response"
        ? `response ${e.status}`
        : e.type === "data" && e.data.length === 0 && e.endStream
        ? "end"
        : e.type
    );
  }
}
