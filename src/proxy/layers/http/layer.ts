/**
 * The HTTP layer of one client connection: it owns the connection layers (the client's and one
 * per origin connection) and the streams, and routes stream events between them. Streams get
 * origin connections from a pool where each connection has a capacity (1 stream for HTTP/1; an
 * HTTP/2 connection layer will offer more). A CONNECT the stream accepted hands the client
 * connection to a new layer stack (made by `tunnel`), which from then on gets every event.
 */
import {
  Arm,
  CloseConnection,
  type Command,
  Disarm,
  OpenConnection,
  Splice,
  StartTls,
} from "../../core/commands.ts";
import { type Connection, Server, sniFor, tlsState } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import {
  CommandCompleted,
  ConnectionClosed,
  DataReceived,
  type Event,
  MessageInjected,
  OpenConnectionCompleted,
  Start,
  TlsEstablished,
  TlsFailed,
  Wakeup,
  WriteDrained,
} from "../../core/events.ts";
import { type CommandGenerator, delegate, Layer } from "../../core/layer.ts";
import {
  GetHttpConnection,
  HandOffClient,
  HttpConnectionReady,
  ReceiveHttp,
  ReleaseConnection,
  RequestData,
  RequestHeaders,
  RequestProtocolError,
  ResponseData,
  SendHttp,
  UpgradeStream,
} from "./events.ts";
import { Http1Client, Http1Server } from "./http1.ts";
import { BodyAcknowledged, BodyTaken, type Http2Layer } from "./http2_base.ts";
import { Http2Client } from "./http2_client.ts";
import { Http2Server } from "./http2_server.ts";
import type { HttpMode } from "./mode.ts";
import { HttpStream } from "./stream.ts";

interface PoolEntry {
  layer: Http1Client | Http2Client;
  /** Streams using the connection now. */
  streams: Set<number>;
  /** How many streams it may carry at once (an HTTP/2 one: as its origin allows now). */
  readonly capacity: number;
  tls: boolean;
  /** Armed while no stream uses the connection (origin_idle_timeout). */
  idle: Arm | null;
}

interface Dial {
  stream: HttpStream;
  request: GetHttpConnection;
  server: Server;
  /**
   * Streams for the same origin that wait to learn whether this connection speaks h2 (then
   * they share it) before dialling their own.
   */
  waiters: { stream: HttpStream; request: GetHttpConnection }[];
}

/** Makes the layer stack that takes over a client connection after CONNECT. */
export type TunnelFactory = (context: Context) => Layer;

export class HttpLayer extends Layer {
  readonly mode: HttpMode;
  readonly client: Http1Server | Http2Server;
  readonly streams = new Map<number, HttpStream>();
  readonly pool = new Map<Connection, PoolEntry>();
  #dials = new Map<Command, Dial>();
  readonly #idleTimers = new Map<Arm, Connection>();
  #nextInjectedId = 2;
  /** Which child paused on a blocking command, so its answer goes back to it. */
  #waiting = new Map<Command, Layer>();
  /** Commands whose answers (or wakeups) are still routed to a child (tests watch it stay flat). */
  get waitingAnswers(): number {
    return this.#waiting.size;
  }
  #tunnel: Layer | null = null;
  /** HTTP/2 origin connections whose response bodies are still owed acknowledgements. */
  readonly #responseSource = new Map<number, Http2Layer>();
  /** Set while routing: the body bytes just received went to an HTTP/2 connection's queue. */
  #queuedOnH2 = false;
  #adopted = false;
  readonly #makeTunnel: TunnelFactory | null;

  constructor(
    context: Context,
    mode: HttpMode,
    scheme: "http" | "https" = "http",
    tunnel: TunnelFactory | null = null,
    /** HTTP/2 with the client: ALPN chose h2, or h2c with prior knowledge. */
    http2 = context.client.alpn === "h2",
  ) {
    super(context);
    this.mode = mode;
    this.client = http2 ? new Http2Server(context, scheme) : new Http1Server(context, scheme);
    this.#makeTunnel = tunnel;
  }

  protected *run(event: Event): CommandGenerator {
    if (this.#tunnel !== null) {
      yield* delegate(this.#tunnel, event);
      return;
    }
    if (event instanceof Start) {
      yield* this.#feed(this.client, event);
      return;
    }
    if (event instanceof MessageInjected && event.kind === "request") {
      // Injected requests get even stream ids, apart from the client's odd ones.
      const stream = new HttpStream(this.context, this.#nextInjectedId, this.mode);
      this.#nextInjectedId += 2;
      this.streams.set(stream.streamId, stream);
      yield* this.#feed(stream, event);
      return;
    }
    if (
      event instanceof DataReceived || event instanceof ConnectionClosed ||
      event instanceof WriteDrained
    ) {
      const layer = event.conn === this.context.client
        ? this.client
        : this.pool.get(event.conn)?.layer;
      if (layer) yield* this.#feed(layer, event);
      return;
    }
    if (event instanceof Wakeup && this.#idleTimers.has(event.command)) {
      yield* this.#idleExpired(event.command);
      return;
    }
    if (event instanceof CommandCompleted) {
      const dial = this.#dials.get(event.command);
      if (dial) {
        this.#dials.delete(event.command);
        yield* this.#dialed(dial, event);
        return;
      }
      const child = this.#waiting.get(event.command);
      if (child) {
        this.#waiting.delete(event.command);
        yield* this.#feed(child, event);
      }
    }
  }

  /** Feeds a child and carries out, routes or passes on each command it yields. */
  *#feed(child: Layer, event: Event): CommandGenerator {
    for (const command of child.handleEvent(event)) {
      if (command instanceof ReceiveHttp) {
        yield* this.#receive(command, child);
      } else if (command instanceof SendHttp) {
        const target = command.conn === this.context.client
          ? this.client
          : this.pool.get(command.conn)?.layer;
        if (
          (target instanceof Http2Server || target instanceof Http2Client) &&
          (command.event instanceof RequestData || command.event instanceof ResponseData)
        ) this.#queuedOnH2 = true;
        if (target) yield* this.#feed(target, command.event);
      } else if (command instanceof BodyTaken) {
        yield* this.#bodyTaken(child, command);
      } else if (command instanceof GetHttpConnection) {
        yield* this.#getConnection(child as HttpStream, command);
      } else if (command instanceof ReleaseConnection) {
        yield* this.#release(command);
      } else if (command instanceof UpgradeStream) {
        yield* this.#upgrade(child as HttpStream, command);
      } else if (command instanceof HandOffClient) {
        yield* this.#handOff(command);
        return;
      } else {
        // Answers (and timer wakeups) go back to the child that asked.
        if (command.blocking || command instanceof Arm) this.#waiting.set(command, child);
        // A disarmed timer never wakes: forget it, or every keep-alive request would leave
        // its timers (and through them its finished stream) here until the connection ends.
        else if (command instanceof Disarm) this.#waiting.delete(command.timer);
        if (command instanceof CloseConnection) yield* this.#forget(command.conn);
        yield command;
      }
    }
    if (child instanceof HttpStream && this.client instanceof Http2Server) {
      yield* this.client.sendPendingHeads();
    }
    if (child instanceof HttpStream && child.finished) {
      this.streams.delete(child.streamId);
      if (!(this.client instanceof Http2Server) || this.client.queuedFor(child.streamId) === 0) {
        this.#responseSource.delete(child.streamId);
      }
    }
  }

  /**
   * An HTTP/2 connection framed body bytes of a stream: the connection they came from may
   * reopen its window by that much (per-stream flow control end to end).
   */
  *#bodyTaken(target: Layer, taken: BodyTaken): CommandGenerator {
    const source = target === this.client
      ? this.#responseSource.get(taken.streamId)
      : this.client instanceof Http2Server
      ? this.client
      : undefined;
    if (source !== undefined) {
      yield* this.#feed(source, new BodyAcknowledged(taken.streamId, taken.bytes));
    }
    if (
      this.client instanceof Http2Server && target === this.client &&
      !this.streams.has(taken.streamId) && this.client.queuedFor(taken.streamId) === 0
    ) this.#responseSource.delete(taken.streamId); // the last bytes of a finished stream
  }

  /** A stream event from a connection layer: to its stream (a new request makes one). */
  *#receive(command: ReceiveHttp, source: Layer): CommandGenerator {
    const ev = command.event;
    let stream = this.streams.get(ev.streamId);
    if (stream === undefined) {
      if (!(ev instanceof RequestHeaders || ev instanceof RequestProtocolError)) {
        if (ev instanceof RequestData || ev instanceof ResponseData) {
          // No one takes these bytes (the stream is over): they must not hold the window.
          yield* this.#acknowledge(source, ev.streamId, ev.data.length);
        }
        return;
      }
      stream = new HttpStream(this.context, ev.streamId, this.mode);
      this.streams.set(ev.streamId, stream);
    }
    if (!(ev instanceof RequestData || ev instanceof ResponseData)) {
      yield* this.#feed(stream, ev);
      return;
    }
    if (ev instanceof ResponseData && source instanceof Http2Client) {
      this.#responseSource.set(ev.streamId, source);
    }
    const outer = this.#queuedOnH2;
    this.#queuedOnH2 = false;
    yield* this.#feed(stream, ev);
    // Held, dropped or written to an HTTP/1 connection (whose write the driver waits for):
    // taken now. Queued on an HTTP/2 connection: BodyTaken says when.
    if (!this.#queuedOnH2) yield* this.#acknowledge(source, ev.streamId, ev.data.length);
    this.#queuedOnH2 = outer;
  }

  *#acknowledge(source: Layer, streamId: number, bytes: number): CommandGenerator {
    if (source instanceof Http2Server || source instanceof Http2Client) {
      yield* this.#feed(source, new BodyAcknowledged(streamId, bytes));
    }
  }

  *#getConnection(stream: HttpStream, request: GetHttpConnection): CommandGenerator {
    for (const [conn, entry] of this.pool) {
      const s = conn as Server;
      if (
        entry.tls === request.tls && entry.streams.size < entry.capacity && entry.layer.idle &&
        s.address.host === request.address.host && s.address.port === request.address.port &&
        sameVia(s.via, request.via)
      ) {
        entry.streams.add(stream.streamId);
        yield* this.#stopIdle(entry);
        yield* this.#feed(stream, new HttpConnectionReady(request, s, null, false));
        return;
      }
    }
    const mayShare = request.tls ? this.context.options.http2 : this.#h2cOrigins();
    if (mayShare && !this.#speaksH1(request)) {
      for (const dial of this.#dials.values()) {
        if (
          dial.request.tls === request.tls &&
          dial.request.address.host === request.address.host &&
          dial.request.address.port === request.address.port &&
          sameVia(dial.request.via, request.via)
        ) {
          dial.waiters.push({ stream, request });
          return;
        }
      }
    }
    let server: Server | null = null;
    const own = this.context.server;
    if (
      own !== null && !this.#adopted && own.address.host === request.address.host &&
      own.address.port === request.address.port
    ) {
      // The tunnel's own server (CONNECT, SOCKS5, transparent): the first stream uses it, as
      // an earlier layer opened it (server-first TLS, SOCKS5) or dialling it now.
      this.#adopted = true;
      if (own.open && (own.tls !== null) === request.tls) {
        this.pool.set(own, this.#entry(own, stream.streamId, request.tls));
        yield* this.#feed(stream, new HttpConnectionReady(request, own, null, true));
        return;
      }
      if (!own.open && own.timestampStart === null) server = own;
    }
    if (server === null) {
      server = new Server(request.address, request.via);
      if (request.via !== null) {
        // https through an upstream proxy needs a tunnel; plain http goes to it in absolute-form.
        server.tunnel = request.tls;
        server.viaAuth = this.context.options.upstreamAuth;
      }
    }
    if (request.tls) server.tls = tlsState(sniFor(request.address.host), this.#originAlpn());
    const open = this.detached(new OpenConnection(server));
    this.#dials.set(open, { stream, request, server, waiters: [] });
    yield open;
  }

  /** The answer to a dial or to the TLS handshake that follows it. */
  *#dialed(dial: Dial, event: CommandCompleted): CommandGenerator {
    const { stream, request, server } = dial;
    let error: string | null = null;
    if (event instanceof OpenConnectionCompleted) {
      error = event.error;
      if (error === null && request.tls) {
        const tls = this.detached(new StartTls(server, null, server.tls?.alpnOffers ?? []));
        this.#dials.set(tls, dial);
        yield tls;
        return;
      }
    } else if (event instanceof TlsFailed) {
      error = event.error;
      yield new CloseConnection(server);
    } else if (!(event instanceof TlsEstablished)) {
      return;
    }
    if (error !== null) {
      yield* this.#feed(stream, new HttpConnectionReady(request, null, error, true));
      for (const w of dial.waiters) {
        yield* this.#feed(w.stream, new HttpConnectionReady(w.request, null, error, true));
      }
      return;
    }
    this.pool.set(server, this.#entry(server, stream.streamId, request.tls));
    yield* this.#feed(stream, new HttpConnectionReady(request, server, null, true));
    // Now that the origin's protocol is known: an h2 connection takes the waiting streams up
    // to its capacity; the others dial their own.
    for (const w of dial.waiters) yield* this.#getConnection(w.stream, w.request);
  }

  /**
   * h2c with prior knowledge towards plain-HTTP origins when the client spoke it to us: such a
   * client (gRPC without TLS) expects an HTTP/2 server behind the proxy.
   */
  #h2cOrigins(): boolean {
    return this.context.options.http2 && this.client instanceof Http2Server &&
      this.context.client.tls === null;
  }

  /** Whether this origin is known to speak HTTP/1 here (a pooled connection chose it). */
  #speaksH1(request: GetHttpConnection): boolean {
    for (const [conn, entry] of this.pool) {
      const s = conn as Server;
      if (
        entry.layer instanceof Http1Client && entry.tls === request.tls &&
        s.address.host === request.address.host && s.address.port === request.address.port
      ) return true;
    }
    return false;
  }

  /**
   * What to offer an origin in ALPN: the client's protocol first (no translation needed when
   * the origin has it), then the other one, which the connection layers translate to.
   */
  #originAlpn(): string[] {
    if (!this.context.options.http2) return ["http/1.1"];
    return this.client instanceof Http2Server ? ["h2", "http/1.1"] : ["http/1.1", "h2"];
  }

  /** A pool entry: HTTP/1 carries one stream at a time, HTTP/2 as many as the origin allows. */
  #entry(server: Server, streamId: number, tls: boolean): PoolEntry {
    const streams = new Set([streamId]);
    if (server.alpn === "h2" || (!tls && this.#h2cOrigins())) {
      const layer = new Http2Client(this.context, server);
      return {
        layer,
        streams,
        get capacity() {
          return layer.capacity;
        },
        tls,
        idle: null,
      };
    }
    const layer = new Http1Client(this.context, server);
    return { layer, streams, capacity: 1, tls, idle: null };
  }

  *#release(command: ReleaseConnection): CommandGenerator {
    const entry = this.pool.get(command.conn);
    if (!entry) return;
    entry.streams.delete(command.streamId);
    if (!command.reusable && entry.layer instanceof Http2Client) {
      // One stream failed: reset it; the connection's other streams go on.
      for (const c of entry.layer.abandon(command.streamId)) {
        if (c instanceof CloseConnection) yield* this.#forget(c.conn);
        yield c;
      }
    } else if (!command.reusable && command.conn.open) {
      yield* this.#forget(command.conn);
      yield new CloseConnection(command.conn);
      return;
    }
    const ms = this.context.options.originIdleTimeoutMs;
    if (entry.streams.size === 0 && ms !== Infinity) {
      entry.idle = this.detached(new Arm(ms));
      this.#idleTimers.set(entry.idle, command.conn);
      yield entry.idle;
    }
  }

  /** A pooled connection's idle timer fired: close it if still unused. */
  *#idleExpired(timer: Arm): CommandGenerator {
    const conn = this.#idleTimers.get(timer)!;
    this.#idleTimers.delete(timer);
    const entry = this.pool.get(conn);
    if (entry === undefined || entry.idle !== timer || entry.streams.size > 0) return;
    entry.idle = null; // fired: nothing to disarm
    yield* this.#forget(conn);
    yield new CloseConnection(conn);
  }

  *#stopIdle(entry: PoolEntry): CommandGenerator {
    if (entry.idle === null) return;
    this.#idleTimers.delete(entry.idle);
    yield new Disarm(entry.idle);
    entry.idle = null;
  }

  /** A connection is being closed: the pool must not hand it out again. */
  *#forget(conn: Connection): CommandGenerator {
    if (conn === this.context.client) {
      // The client is gone: its origin connections have no one to serve.
      for (const [other, entry] of [...this.pool]) {
        yield* this.#stopIdle(entry);
        this.pool.delete(other);
        if (other.open) yield new CloseConnection(other);
      }
      // The origin connected before the client's TLS handshake (upstream_cert) and never used.
      const own = this.context.server;
      if (own !== null && own.open) yield new CloseConnection(own);
      return;
    }
    const entry = this.pool.get(conn);
    if (entry !== undefined) yield* this.#stopIdle(entry);
    this.pool.delete(conn);
  }

  /** After a 101: both connections go to a splice; the stream hears when it ends. */
  *#upgrade(stream: HttpStream, command: UpgradeStream): CommandGenerator {
    const entry = this.pool.get(command.server);
    this.pool.delete(command.server);
    // Only HTTP/1 switches protocols (HTTP/2 has no 101).
    const fromClient = this.client instanceof Http1Server
      ? this.client.h1.takeTrailingData()
      : null;
    const fromServer = entry?.layer instanceof Http1Client
      ? entry.layer.h1.takeTrailingData()
      : null;
    const splice = this.detached(
      new Splice(
        this.context.client,
        command.server,
        command.kind,
        { a: fromClient, b: fromServer },
        command.data,
      ),
    );
    this.#waiting.set(splice, stream);
    yield splice;
  }

  *#handOff(command: HandOffClient): CommandGenerator {
    this.streams.delete(command.streamId);
    for (const other of [...this.pool.keys()]) {
      this.pool.delete(other);
      if (other.open) yield new CloseConnection(other);
    }
    if (this.#makeTunnel === null) {
      yield new CloseConnection(this.context.client);
      return;
    }
    const context = this.context.fork();
    context.server = command.server;
    const tunnel = this.#makeTunnel(context);
    this.#tunnel = tunnel;
    this.passThrough(tunnel);
    const early = this.client instanceof Http1Server
      ? this.client.h1.takeTrailingData()
      : new Uint8Array(0);
    yield* delegate(tunnel, new Start());
    if (early.length > 0) yield* delegate(tunnel, new DataReceived(this.context.client, early));
  }
}

function sameVia(a: { host: string; port: number } | null, b: typeof a): boolean {
  return a === b || (a !== null && b !== null && a.host === b.host && a.port === b.port);
}
