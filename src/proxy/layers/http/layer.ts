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
  OpenPipe,
  Splice,
  StartTls,
} from "../../core/commands.ts";
import { type Connection, Server } from "../../core/connection.ts";
import { Context } from "../../core/context.ts";
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
import { DirectLayer, Layer } from "../../core/layer.ts";
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
import { ClientInStream, UpgradeInStream } from "./websocket_stream.ts";
import { TunnelInStream } from "./connect_stream.ts";
import { CarriedTunnels } from "./carried_tunnels.ts";
import { RawBodies } from "./raw_bodies.ts";
import { H2QueueGate } from "./h2_queue_gate.ts";
import { IdleOrigins } from "./idle_origins.ts";
import {
  type Dial,
  newServerFor,
  originTls,
  type PoolEntry,
  poolEntry,
  sameDestination,
  speaksH1,
  wantsH2c,
} from "./pool_entry.ts";

/** Makes the layer stack that takes over a client connection after CONNECT. */
export type TunnelFactory = (context: Context) => Layer;

export class HttpLayer extends DirectLayer {
  readonly mode: HttpMode;
  readonly client: Http1Server | Http2Server;
  readonly streams = new Map<number, HttpStream>();
  readonly pool = new Map<Connection, PoolEntry>();
  #dials = new Map<Command, Dial>();
  readonly #idle = new IdleOrigins();
  /** Released HTTP/1 origin connections to park once their exchange is over (shared pool). */
  /** How deep #feed calls are nested: work deferred to the end of the outermost one. */
  #depth = 0;
  /** The client closed during this #feed: its origin connections close at the end of it. */
  #clientGone = false;
  /**
   * Streams that asked for a connection while one to the same place was finishing its exchange
   * in this very #feed (a pipelined request read as the previous response ended): they get it
   * once the step is over and it is idle, instead of dialling another.
   */
  #deferredGets: Array<{ stream: HttpStream; request: GetHttpConnection }> = [];
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
  /** Connections carried raw as one stream's body (past a 101, a tunnel's pipe). */
  readonly #raw: RawBodies;
  /**
   * What the tunnel's own server sent before a stream adopted it: an origin that spoke TLS
   * first (the client's handshake waited for its certificate) and h2 sends its SETTINGS at once.
   */
  #early: (DataReceived | ConnectionClosed)[] = [];
  readonly #h2Gate = new H2QueueGate();
  /** The highest stream id a stream was made for, of even and of odd ids (ids only grow). */
  readonly #highestStream = [0, 0];
  /** Tunnels inside HTTP/2 streams (connect_stream.ts). */
  readonly #carried = new CarriedTunnels();
  /** Set while routing: the body bytes just received went into this pipe. */
  #wroteToPipe: Connection | null = null;

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
    this.#raw = new RawBodies(context.client);
  }

  /** After a CONNECT the tunnel's stack takes every event; its commands are ours as they are. */
  override handleEvent(event: Event): Command[] {
    if (this.#tunnel !== null) return this.#tunnel.handleEvent(event);
    return super.handleEvent(event);
  }

  protected handle(event: Event, out: Command[]): void {
    if (event instanceof Start) {
      this.#feed(this.client, event, out);
      return;
    }
    if (event instanceof MessageInjected && event.kind === "request") {
      // Injected requests get even stream ids, apart from the client's odd ones.
      const stream = new HttpStream(this.context, this.#nextInjectedId, this.mode);
      this.#nextInjectedId += 2;
      this.streams.set(stream.streamId, stream);
      this.#feed(stream, event, out);
      return;
    }
    if (
      !this.#carried.empty &&
      (event instanceof DataReceived || event instanceof ConnectionClosed ||
        event instanceof WriteDrained)
    ) {
      const stack = this.#carried.stackOf(event.conn);
      if (stack !== undefined) {
        this.#feed(stack, event, out);
        if (event instanceof ConnectionClosed && !event.conn.open) this.#carried.closed(event.conn);
        return;
      }
      if (event instanceof WriteDrained) {
        this.#pipeDrained(event.conn, out);
        return;
      }
    }
    if (
      (event instanceof DataReceived || event instanceof ConnectionClosed) &&
      (this.#raw.isOrigin(event.conn) ||
        (event.conn === this.context.client && this.#raw.clientIsRaw))
    ) {
      this.#fromRaw(event, out);
      return;
    }
    if (
      (event instanceof DataReceived || event instanceof ConnectionClosed) &&
      event.conn === this.context.server && !this.#adopted
    ) {
      this.#early.push(
        event instanceof DataReceived ? new DataReceived(event.conn, event.data.slice()) : event,
      );
      return;
    }
    if (
      event instanceof DataReceived || event instanceof ConnectionClosed ||
      event instanceof WriteDrained
    ) {
      const layer = event.conn === this.context.client
        ? this.client
        : this.pool.get(event.conn)?.layer;
      if (layer) this.#feed(layer, event, out);
      return;
    }
    if (event instanceof Wakeup && this.#idle.owns(event.command)) {
      this.#idleExpired(event.command, out);
      return;
    }
    if (event instanceof CommandCompleted) {
      const dial = this.#dials.get(event.command);
      if (dial) {
        this.#dials.delete(event.command);
        this.#dialed(dial, event, out);
        return;
      }
      const child = this.#waiting.get(event.command);
      if (child) {
        this.#waiting.delete(event.command);
        this.#feed(child, event, out);
      }
    }
  }

  /**
   * Feeds a child and carries out, routes or passes on each command it yields. One generator per
   * feed (this runs several times per request, nested: a generator less each time counts).
   */
  #feed(child: Layer, event: Event, out: Command[]): void {
    this.#depth++;
    try {
      step: {
        for (const command of child.handleEvent(event)) {
          if (command instanceof ReceiveHttp) {
            this.#receive(command, child, out);
          } else if (command instanceof SendHttp && this.#raw.isOrigin(command.conn)) {
            if (command.event instanceof RequestData && this.#carried.isPipe(command.conn)) {
              this.#wroteToPipe = command.conn;
            }
            this.#raw.toOrigin(command, out);
          } else if (command instanceof SendHttp && this.#raw.isToRawClient(command)) {
            if (this.#raw.toClient(command, out)) this.#closeClient(out);
          } else if (command instanceof SendHttp) {
            const target = command.conn === this.context.client
              ? this.client
              : this.pool.get(command.conn)?.layer;
            if (
              (target instanceof Http2Server || target instanceof Http2Client) &&
              (command.event instanceof RequestData || command.event instanceof ResponseData)
            ) this.#queuedOnH2 = true;
            if (target) this.#feed(target, command.event, out);
          } else if (command instanceof BodyTaken) {
            this.#bodyTaken(child, command, out);
          } else if (command instanceof GetHttpConnection) {
            this.#getConnection(child as HttpStream, command, out);
          } else if (command instanceof ReleaseConnection) {
            this.#release(command, out);
          } else if (command instanceof UpgradeInStream) {
            this.#upgradeInStream(command, out);
          } else if (command instanceof ClientInStream) {
            this.#clientInStream(command, out);
          } else if (command instanceof TunnelInStream) {
            this.#tunnelInStream(command, out);
          } else if (command instanceof UpgradeStream) {
            this.#upgrade(child as HttpStream, command, out);
          } else if (command instanceof HandOffClient) {
            this.#handOff(command, out);
            break step;
          } else {
            // Answers (and timer wakeups) go back to the child that asked.
            if (command.blocking || command instanceof Arm) this.#waiting.set(command, child);
            // A disarmed timer never fires: forget who armed it (one per keep-alive request).
            if (command instanceof Disarm) this.#waiting.delete(command.timer);
            if (command instanceof CloseConnection) this.#forget(command.conn, out);
            // A tunnel's stack dials: that connection's events go to it.
            if (command instanceof OpenConnection) this.#carried.dialled(child, command.conn);
            else if (command instanceof CloseConnection && !command.half) {
              this.#carried.closed(command.conn);
            }
            out.push(command);
          }
        }
        if (child instanceof HttpStream && this.client instanceof Http2Server) {
          this.client.sendPendingHeads(out);
        }
        if (child instanceof HttpStream && child.finished) {
          this.streams.delete(child.streamId);
          if (this.#h2Gate.isPaused(child.streamId)) {
            this.#h2Gate.resumeIfDrained(child.streamId, 0, out, true);
          }
          if (
            !(this.client instanceof Http2Server) || this.client.queuedFor(child.streamId) === 0
          ) {
            this.#responseSource.delete(child.streamId);
          }
        }
      }
    } finally {
      this.#depth--;
    }
    if (this.#depth > 0) return;
    while (this.#deferredGets.length > 0) {
      const { stream, request } = this.#deferredGets.shift()!;
      if (!stream.finished) this.#getConnection(stream, request, out);
    }
    if (this.#clientGone) this.#parkAllIdle();
    if (this.#idle.toPark.size > 0) this.#parkIdle(out);
    if (this.#clientGone) {
      this.#clientGone = false;
      this.#closeOrigins(out);
    }
  }

  /** Idle HTTP/1 origin connections this client keeps go to the shared pool (idle_origins.ts). */
  #parkAllIdle(): void {
    if (this.context.options.sharedOriginPool) this.#idle.parkAll(this.pool);
  }

  #parkIdle(out: Command[]): void {
    this.#idle.park(this.pool, (conn, o) => this.#forget(conn, o), out);
  }

  /**
   * An HTTP/2 connection framed body bytes of a stream: the connection they came from may
   * reopen its window by that much (per-stream flow control end to end).
   */
  #bodyTaken(target: Layer, taken: BodyTaken, out: Command[]): void {
    if (target instanceof Http2Server || target instanceof Http2Client) {
      this.#h2Gate.resumeIfDrained(taken.streamId, target.queuedFor(taken.streamId), out);
    }
    const source = target === this.client
      ? this.#responseSource.get(taken.streamId)
      : this.client instanceof Http2Server
      ? this.client
      : undefined;
    if (source !== undefined) {
      this.#feed(source, new BodyAcknowledged(taken.streamId, taken.bytes), out);
    }
    if (
      this.client instanceof Http2Server && target === this.client &&
      !this.streams.has(taken.streamId) && this.client.queuedFor(taken.streamId) === 0
    ) this.#responseSource.delete(taken.streamId); // the last bytes of a finished stream
  }

  /** A stream event from a connection layer: to its stream (a new request makes one). */
  #receive(
    command: ReceiveHttp,
    source: Layer,
    out: Command[],
    /** The connection the bytes came from, when it is not an HTTP/2 one. */
    from: Connection | null = source instanceof Http1Client || source instanceof Http1Server
      ? source.conn
      : null,
  ): void {
    const ev = command.event;
    let stream = this.streams.get(ev.streamId);
    if (stream === undefined) {
      // A stream that is over hears nothing more: a client's error after its exchange ended (it
      // left while still uploading, after the origin's failure was answered) is no new request.
      const over = ev.streamId <= this.#highestStream[ev.streamId & 1];
      if (over || !(ev instanceof RequestHeaders || ev instanceof RequestProtocolError)) {
        if (ev instanceof RequestData || ev instanceof ResponseData) {
          // No one takes these bytes (the stream is over): they must not hold the window.
          this.#acknowledge(source, ev.streamId, ev.data.length, out);
        }
        return;
      }
      this.#highestStream[ev.streamId & 1] = ev.streamId;
      stream = new HttpStream(this.context, ev.streamId, this.mode);
      this.streams.set(ev.streamId, stream);
    }
    if (!(ev instanceof RequestData || ev instanceof ResponseData)) {
      this.#feed(stream, ev, out);
      return;
    }
    if (ev instanceof ResponseData && source instanceof Http2Client) {
      this.#responseSource.set(ev.streamId, source);
    }
    const outer = this.#queuedOnH2;
    const outerPipe = this.#wroteToPipe;
    this.#queuedOnH2 = false;
    this.#wroteToPipe = null;
    this.#feed(stream, ev, out);
    // Held, dropped or written to an HTTP/1 connection (whose write the driver waits for):
    // taken now. Queued on an HTTP/2 connection: BodyTaken says when. Into a tunnel's pipe:
    // WriteDrained says when.
    const pipe = this.#wroteToPipe as Connection | null;
    if (pipe !== null) this.#carried.owe(pipe, ev.data.length);
    else if (!this.#queuedOnH2) this.#acknowledge(source, ev.streamId, ev.data.length, out);
    else if (from !== null) {
      const queued = this.#h2Target(ev)?.queuedFor(ev.streamId) ?? 0;
      this.#h2Gate.pauseIfOver(ev.streamId, queued, from, out);
    }
    this.#queuedOnH2 = outer;
    this.#wroteToPipe = outerPipe;
  }

  /** The HTTP/2 connection a body event goes to, if any. */
  #h2Target(ev: RequestData | ResponseData): Http2Server | Http2Client | null {
    if (ev instanceof ResponseData) {
      return this.client instanceof Http2Server ? this.client : null;
    }
    const conn = this.streams.get(ev.streamId)?.server;
    const layer = conn ? this.pool.get(conn)?.layer : undefined;
    return layer instanceof Http2Client ? layer : null;
  }

  #acknowledge(source: Layer, streamId: number, bytes: number, out: Command[]): void {
    if (source instanceof Http2Server || source instanceof Http2Client) {
      this.#feed(source, new BodyAcknowledged(streamId, bytes), out);
    }
  }

  #getConnection(stream: HttpStream, request: GetHttpConnection, out: Command[]): void {
    const h2c = !request.tls && wantsH2c(this.context, this.client instanceof Http2Server, stream);
    for (const [conn, entry] of this.pool) {
      const s = conn as Server;
      if (
        entry.tls === request.tls && entry.h2c === h2c && entry.streams.size < entry.capacity &&
        sameDestination(s, request)
      ) {
        if (!entry.layer.idle) {
          if (this.#depth > 0 && entry.streams.size === 0 && conn.open) {
            this.#deferredGets.push({ stream, request });
            return;
          }
          continue;
        }
        this.#idle.toPark.delete(conn);
        entry.streams.add(stream.streamId);
        if (entry.idle !== null) this.#idle.stop(entry, out);
        this.#feed(stream, new HttpConnectionReady(request, s, null, false), out);
        return;
      }
    }
    // Another origin: the idle connections kept for this client are of use to others now.
    this.#parkAllIdle();
    const mayShare = request.tls ? this.context.options.http2 : h2c;
    if (mayShare && !speaksH1(this.pool, request)) {
      for (const dial of this.#dials.values()) {
        if (
          dial.request.tls === request.tls && dial.h2c === h2c &&
          sameDestination(dial.request, request)
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
      const early = this.#early;
      this.#early = [];
      if (own.open && (own.tls !== null) === request.tls) {
        const entry = poolEntry(this.context, own, stream.streamId, request.tls, h2c);
        this.pool.set(own, entry);
        this.#feed(stream, new HttpConnectionReady(request, own, null, !own.reused), out);
        for (const ev of early) this.#feed(entry.layer, ev, out);
        return;
      }
      if (!own.open && own.timestampStart === null) server = own;
    }
    server ??= newServerFor(this.context, request);
    if (request.tls) {
      // Inside a tunnel the client's SNI names the origin (the CONNECT may name an address).
      const tunnelled = this.mode.kind === "transparent" && own !== null &&
        own.address.host === request.address.host && own.address.port === request.address.port;
      const h2 = this.client instanceof Http2Server;
      server.tls = originTls(this.context, request, h2, tunnelled);
    }
    const open = this.detached(new OpenConnection(server));
    this.#dials.set(open, { stream, request, server, h2c, waiters: [] });
    out.push(open);
  }

  /** The answer to a dial or to the TLS handshake that follows it. */
  #dialed(dial: Dial, event: CommandCompleted, out: Command[]): void {
    const { stream, request, server } = dial;
    let error: string | null = null;
    if (event instanceof OpenConnectionCompleted) {
      error = event.error;
      if (error === null && request.tls && !server.tls?.established) {
        const tls = this.detached(new StartTls(server, null, server.tls?.alpnOffers ?? []));
        this.#dials.set(tls, dial);
        out.push(tls);
        return;
      }
    } else if (event instanceof TlsFailed) {
      error = event.error;
      out.push(new CloseConnection(server));
    } else if (!(event instanceof TlsEstablished)) {
      return;
    }
    if (error !== null) {
      this.#feed(stream, new HttpConnectionReady(request, null, error, true), out);
      for (const w of dial.waiters) {
        this.#feed(w.stream, new HttpConnectionReady(w.request, null, error, true), out);
      }
      return;
    }
    this.pool.set(server, poolEntry(this.context, server, stream.streamId, request.tls, dial.h2c));
    this.#feed(stream, new HttpConnectionReady(request, server, null, !server.reused), out);
    // Now that the origin's protocol is known: an h2 connection takes the waiting streams up
    // to its capacity; the others dial their own.
    for (const w of dial.waiters) this.#getConnection(w.stream, w.request, out);
  }

  #release(command: ReleaseConnection, out: Command[]): void {
    if (this.#carried.isPipe(command.conn)) {
      this.#pipeDrained(command.conn, out);
      this.#carried.forgetPipe(command.conn);
    }
    if (this.#raw.releaseOrigin(command.conn)) {
      // Past a 101 a connection is never reused.
      if (command.conn.open) out.push(new CloseConnection(command.conn));
      return;
    }
    const entry = this.pool.get(command.conn);
    if (!entry) return;
    entry.streams.delete(command.streamId);
    if (!command.reusable && entry.layer instanceof Http2Client) {
      // One stream failed: reset it; the connection's other streams go on.
      const reset: Command[] = [];
      entry.layer.abandon(command.streamId, reset);
      for (const c of reset) {
        if (c instanceof CloseConnection) this.#forget(c.conn, out);
        out.push(c);
      }
    } else if (!command.reusable && command.conn.open) {
      this.#forget(command.conn, out);
      out.push(new CloseConnection(command.conn));
      return;
    }
    if (
      this.context.options.sharedOriginPool && entry.layer instanceof Http1Client &&
      entry.streams.size === 0 && command.conn.open
    ) {
      if (this.context.options.keepIdleOrigins === false) {
        // origin_pool_size 0: the driver's pool closes it.
        this.#idle.toPark.add(command.conn);
        return;
      }
      // Kept, layer and all, while this client's requests go to the same origin (a keep-alive
      // client's next request takes it without a trip through the driver's pool); other client
      // connections get it once this one asks for another origin or leaves (#parkAllIdle).
    }
    const ms = this.context.options.originIdleTimeoutMs;
    if (entry.streams.size === 0 && ms !== Infinity) {
      this.#idle.arm(entry, command.conn, ms, (a) => this.detached(a), out);
    }
  }

  /** A pooled connection's idle timer fired: close it if still unused. */
  #idleExpired(timer: Arm, out: Command[]): void {
    const conn = this.#idle.fired(timer)!;
    const entry = this.pool.get(conn);
    if (entry === undefined || entry.idle !== timer || entry.streams.size > 0) return;
    entry.idle = null; // fired: nothing to disarm
    this.#forget(conn, out);
    out.push(new CloseConnection(conn));
  }

  /** A connection is being closed: the pool must not hand it out again. */
  #forget(conn: Connection, out: Command[]): void {
    if (conn === this.context.client) {
      if (this.context.options.sharedOriginPool) {
        // Idle connections go to the pool before the client's close goes out; one whose
        // exchange ends later in this step goes there at its end.
        this.#parkAllIdle();
        this.#parkIdle(out);
        this.#clientGone = true;
        return;
      }
      this.#closeOrigins(out);
      return;
    }
    const entry = this.pool.get(conn);
    if (entry !== undefined && entry.idle !== null) this.#idle.stop(entry, out);
    this.pool.delete(conn);
  }

  /** The client is gone: its origin connections have no one to serve. */
  #closeOrigins(out: Command[]): void {
    for (const [other, entry] of [...this.pool]) {
      this.#idle.stop(entry, out);
      this.pool.delete(other);
      if (other.open) out.push(new CloseConnection(other));
    }
    this.#idle.toPark.clear();
    this.#carried.clear();
    this.#raw.closeOrigins(out);
    // The origin connected before the client's TLS handshake (upstream_cert) and never used.
    const own = this.context.server;
    if (own !== null && own.open) out.push(new CloseConnection(own));
  }

  /** After a 101: both connections go to a splice; the stream hears when it ends. */
  #upgrade(stream: HttpStream, command: UpgradeStream, out: Command[]): void {
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
    out.push(splice);
  }

  /** After an HTTP/1.1 origin's 101 for an h2 client's WebSocket: the connection goes raw. */
  #upgradeInStream(command: UpgradeInStream, out: Command[]): void {
    const entry = this.pool.get(command.server);
    this.pool.delete(command.server);
    if (entry !== undefined) this.#idle.stop(entry, out);
    this.#raw.addOrigin(command.server, command.streamId);
    const early = entry?.layer instanceof Http1Client ? entry.layer.h1.takeTrailingData() : null;
    if (early !== null && early.length > 0) {
      this.#fromRaw(new DataReceived(command.server, early), out);
    }
  }

  /** Bytes (or the end) of a raw connection: its stream's body. */
  #fromRaw(event: DataReceived | ConnectionClosed, out: Command[]): void {
    if (this.#raw.isOrigin(event.conn)) {
      this.#receive(new ReceiveHttp(this.#raw.fromOrigin(event)), this, out, event.conn);
      return;
    }
    const { ev, done } = this.#raw.fromClient(event);
    if (ev !== null) this.#receive(new ReceiveHttp(ev), this, out, event.conn);
    // Both directions over: the connection (and the origin connections it used) close.
    if (done) this.#closeClient(out);
  }

  /**
   * After the 101 to an HTTP/1.1 client whose WebSocket's origin speaks h2: the client's bytes
   * are that stream's request body, starting with any it sent right behind its handshake.
   */
  #clientInStream(command: ClientInStream, out: Command[]): void {
    this.#raw.startClient(command.streamId);
    const early = this.client instanceof Http1Server ? this.client.h1.takeTrailingData() : null;
    if (early !== null && early.length > 0) {
      this.#fromRaw(new DataReceived(this.context.client, early), out);
    }
  }

  /** The client's connection is done with: so are the origin connections it used. */
  #closeClient(out: Command[]): void {
    const client = this.context.client;
    this.#forget(client, out);
    if (client.open) out.push(new CloseConnection(client));
  }

  /**
   * A stream answered an h2 client's CONNECT: the pipe carries the stream's body (as a raw
   * origin connection would), and the tunnel's stack runs over the pipe's other end.
   */
  #tunnelInStream(command: TunnelInStream, out: Command[]): void {
    this.#raw.addOrigin(command.pipe, command.streamId);
    out.push(new OpenPipe(command.client, command.pipe));
    if (this.#makeTunnel === null) {
      out.push(new CloseConnection(command.client));
      return;
    }
    const stack = this.#makeTunnel(
      new Context(command.client, this.context.options, command.server),
    );
    this.#carried.opened(command, stack);
    this.#feed(stack, new Start(), out);
  }

  /** A tunnel's pipe took in what was written to it: the stream's window reopens by that. */
  #pipeDrained(pipe: Connection, out: Command[]): void {
    const owed = this.#carried.drained(pipe);
    if (owed !== null) this.#acknowledge(this.client, owed.streamId, owed.bytes, out);
  }

  #handOff(command: HandOffClient, out: Command[]): void {
    this.streams.delete(command.streamId);
    for (const other of [...this.pool.keys()]) {
      this.pool.delete(other);
      if (other.open) out.push(new CloseConnection(other));
    }
    if (this.#makeTunnel === null) {
      out.push(new CloseConnection(this.context.client));
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
    for (const c of tunnel.handleEvent(new Start())) out.push(c);
    if (early.length > 0) {
      for (const c of tunnel.handleEvent(new DataReceived(this.context.client, early))) out.push(c);
    }
  }
}
