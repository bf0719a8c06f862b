/**
 * The driver: the one loop per client connection that does I/O for a layer stack. It turns
 * socket reads, closes, timers and finished work into events, feeds them to the top layer one
 * at a time, and carries out the commands that come back. It makes no protocol decisions.
 *
 * Backpressure: a connection is read only when (1) everything written because of its earlier
 * bytes (or of a hook's answer, a timer, a dial) has been handed to the OS, (2) no layer waits
 * for the answer to a blocking command (a dial, a handshake, a hook), and (3) no layer paused
 * reading it. So each direction flows at the pace of its receiver and memory stays flat however
 * large a body is.
 */
import {
  Arm,
  CallHook,
  CloseConnection,
  type Command,
  Disarm,
  Log,
  OpenConnection,
  OpenPipe,
  ParkConnection,
  PauseReading,
  ResumeReading,
  SendData,
  Splice,
  StartTls,
} from "../core/commands.ts";
import { Client, type Connection, ConnState, type Server, tlsState } from "../core/connection.ts";
import {
  ConnectionClosed,
  DataReceived,
  type Event,
  HookAnswered,
  type MessageInjected,
  OpenConnectionCompleted,
  SpliceEnded,
  Start,
  TlsEstablished,
  TlsFailed,
  Wakeup,
  WriteDrained,
} from "../core/events.ts";
import type { Layer } from "../core/layer.ts";
import { closeWhenFlushed } from "../../runtime/shared/conn_parts.ts";
import { MemoryConn } from "../../runtime/shared/memory.ts";
import { type Conn, NetError } from "../../runtime/types.ts";
import { DEFAULT_TIMERS, type DriverServices, type DriverTimers } from "./services.ts";
import { ReadGate } from "./read_gate.ts";
import { spliceRaw } from "./splice.ts";
import { connectThrough } from "./upstream_connect.ts";
import { dialOrigin } from "./dial.ts";

const EMPTY = new Uint8Array(0);

export class Driver {
  readonly #root: Layer;
  readonly #services: DriverServices;
  readonly #client: Client;
  readonly #conns = new Map<Connection, Conn>();
  readonly #queue: Event[] = [];
  #processing = false;
  readonly #gate = new ReadGate();
  readonly #spliced = new Set<Connection>();
  /** Origin connections handed to the shared pool: their read loop ends, the pool reads. */
  readonly #parked = new Set<Connection>();
  /** Stops counting an origin's read loop as this driver's work when its connection is parked. */
  readonly #onPark = new Map<Connection, () => void>();
  /** A pooled connection's outstanding read, to be the first read of its new owner. */
  readonly #firstRead = new Map<Connection, Promise<Uint8Array | null>>();
  readonly #inFlight = new Map<Connection, Promise<Uint8Array | null>>();
  /** Reads that were in flight when a TLS handshake began: their bytes are the handshake's. */
  readonly #takenByTls = new Set<Promise<Uint8Array | null>>();
  readonly #timers = new Map<Arm, unknown>();
  readonly #clock: DriverTimers;
  /** Outstanding asynchronous work: dials, handshakes, hooks, splices, reads, closes. */
  #tasks = 0;
  #resolveDone!: () => void;
  readonly done: Promise<void>;
  #failed = false;
  #finished = false;

  /**
   * `conn` is the client's connection; null for a stack that only serves injected requests
   * (replay, the API), which lives until finish().
   */
  constructor(root: Layer, client: Client, conn: Conn | null, services: DriverServices) {
    this.#root = root;
    this.#client = client;
    this.#services = services;
    this.#clock = services.timers ?? DEFAULT_TIMERS;
    if (conn !== null) this.#conns.set(client, conn);
    else this.#tasks++; // held open by finish()
    client.timestampStart ??= Date.now();
    this.done = new Promise((r) => (this.#resolveDone = r));
  }

  /** Starts the stack and the client's read loop; resolves when every connection is closed. */
  run(): Promise<void> {
    // The read loop first: it is the work that keeps the driver alive while Start is handled.
    if (this.#conns.has(this.#client)) this.#startReading(this.#client);
    this.#enqueue(new Start());
    return this.done;
  }

  /** Hands the layers something from outside: a replayed or API-made request. */
  inject(event: MessageInjected): void {
    this.#enqueue(event);
  }

  /**
   * For a driver without a client connection, once the injected flows are done: closes the
   * origin connections it kept for reuse and ends.
   */
  finish(): void {
    if (this.#conns.has(this.#client) || this.#finished) return;
    this.#finished = true;
    this.#tasks--;
    for (const [conn, c] of this.#conns) {
      conn.state = ConnState.Closed;
      if (!c.isClosed) this.#track(closeWhenFlushed(c, this.#services.closeFlushMs));
    }
    this.#checkDone();
  }

  /** Closes every connection of this driver at once (the proxy is shutting down). */
  abort(): void {
    for (const c of this.#conns.values()) c.close();
  }

  // ---- the event loop ----

  #enqueue(event: Event): void {
    this.#queue.push(event);
    if (this.#processing) return;
    this.#processing = true;
    try {
      while (this.#queue.length > 0) this.#dispatch(this.#queue.shift()!);
    } finally {
      this.#processing = false;
    }
    this.#gate.notify();
    this.#checkDone();
  }

  #dispatch(event: Event): void {
    if (this.#failed) return;
    this.#gate.cause = event instanceof DataReceived || event instanceof ConnectionClosed
      ? event.conn
      : null;
    let commands: Command[];
    try {
      commands = this.#root.handleEvent(event);
    } catch (e) {
      // A bug in a layer: this connection ends, the process does not.
      this.#failed = true;
      this.#services.log("error", `internal error on ${this.#client.label}: ${errorText(e)}`);
      for (const c of this.#conns.values()) c.close();
      return;
    }
    for (const command of commands) this.#execute(command);
    this.#flushWrites();
  }

  /**
   * Bytes for one connection from one event go out in one write (a response's head, body and end
   * are one TLS record and one system call instead of three). Held only while the event's
   * commands are carried out; anything that must come after them on the wire flushes first.
   */
  readonly #heldConns: Connection[] = [];
  /** The pieces for #heldConns[i]. Two arrays, not a Map: an event writes to one or two. */
  readonly #heldPieces: Uint8Array[][] = [];

  #flushWrites(): void {
    const conns = this.#heldConns;
    const n = conns.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) this.#write(conns[i], this.#heldPieces[i]);
    conns.length = 0;
    this.#heldPieces.length = 0;
  }

  #execute(command: Command): void {
    if (command instanceof SendData) this.#hold(command);
    else if (command instanceof Arm) this.#arm(command);
    else if (command instanceof Disarm) this.#disarm(command.timer);
    else if (command instanceof Log) this.#services.log(command.level, command.message);
    else if (command instanceof CallHook) this.#hook(command);
    else {
      this.#flushWrites();
      this.#executeOrdered(command);
    }
  }

  #executeOrdered(command: Command): void {
    if (command instanceof OpenConnection) this.#open(command);
    else if (command instanceof StartTls) this.#startTls(command);
    else if (command instanceof CloseConnection) this.#close(command);
    else if (command instanceof ParkConnection) this.#park(command);
    else if (command instanceof OpenPipe) this.#pipe(command);
    else if (command instanceof Splice) this.#splice(command);
    else if (command instanceof PauseReading) this.#gate.pause(command.conn);
    else if (command instanceof ResumeReading) this.#gate.resume(command.conn);
    else this.#services.log("debug", `driver: ignored ${command}`);
  }

  // ---- reading ----

  /** True once `conn` may be read (see read_gate.ts), false if it never will. */
  #readable(conn: Connection, gone: () => boolean): boolean | Promise<boolean> {
    // Most reads may go at once: no promise, no await for them.
    if (gone()) return false;
    return this.#gate.ready(conn) || this.#gate.wait(conn, gone);
  }

  #startReading(conn: Connection): void {
    const gone = () =>
      this.#failed || this.#spliced.has(conn) || this.#parked.has(conn) ||
      !(conn.state & ConnState.CanRead);
    // Counted as outstanding work until it ends, or until its connection is parked: the pool
    // then owns the read still waiting, and this driver may finish without waiting for it.
    this.#tasks++;
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      this.#onPark.delete(conn);
      this.#tasks--;
      this.#checkDone();
    };
    if (!(conn instanceof Client)) this.#onPark.set(conn, release);
    this.#readLoop(conn, gone).catch((e) => this.#services.log("error", `driver: ${errorText(e)}`))
      .finally(release);
  }

  async #readLoop(conn: Connection, gone: () => boolean): Promise<void> {
    for (;;) {
      const readable = this.#readable(conn, gone);
      if (!(readable === true || (readable !== false && await readable))) break;
      const c = this.#conns.get(conn)!;
      const read = this.#firstRead.get(conn) ?? c.read();
      this.#firstRead.delete(conn);
      this.#inFlight.set(conn, read);
      let chunk: Uint8Array | null;
      try {
        chunk = await read;
      } catch (e) {
        if (this.#parked.has(conn)) return; // the pool's read now
        chunk = null;
        conn.error ??= errorText(e);
        conn.state = ConnState.Closed;
      } finally {
        if (this.#inFlight.get(conn) === read) this.#inFlight.delete(conn);
      }
      // Parked meanwhile: the pool took this read over (it sees the same bytes).
      if (this.#parked.has(conn)) return;
      if (this.#takenByTls.delete(read)) continue;
      // Closed meanwhile (a lingering close drains the rest): nothing more for the layers.
      if (conn.state === ConnState.Closed && chunk !== null) return;
      // A splice that began meanwhile took this read over.
      if (this.#spliced.has(conn)) return;
      if (chunk === null) {
        conn.state &= ~ConnState.CanRead;
        // A pipe's other end closed both ways (not only a FIN): nothing can be written either.
        if (this.#pipes.has(conn) && c.isClosed) conn.state = ConnState.Closed;
        if (conn.state === ConnState.Closed) {
          c.close();
          this.#forgetPipe(conn);
        }
        this.#enqueue(new ConnectionClosed(conn));
        return;
      }
      if (c.recycle === undefined) {
        this.#enqueue(new DataReceived(conn, chunk));
        continue;
      }
      const sent = this.#recycling = { buffer: chunk.buffer, bytes: 0, to: new Set<Conn>() };
      this.#enqueue(new DataReceived(conn, chunk));
      this.#recycling = null;
      if (sent.bytes === chunk.length) await this.#recycleWhenSent(conn, c, chunk, sent.to);
    }
  }

  /**
   * A read whose bytes all went on as views (a body passing through): once they are written,
   * its buffer is given back to the connection for its next read, so a bulk transfer does not
   * allocate per read (Deno: garbage the GC is slow to return, see tests/e2e/streaming_test.ts).
   * Not when any byte was kept or copied: a layer may still hold a view of it.
   */
  #recycling: { buffer: ArrayBufferLike; bytes: number; to: Set<Conn> } | null = null;

  async #recycleWhenSent(conn: Connection, c: Conn, chunk: Uint8Array, to: Set<Conn>) {
    const flushes: Promise<void>[] = [];
    for (const dst of to) {
      const flushed = dst.flushed();
      if (flushed !== undefined) flushes.push(flushed);
    }
    if (flushes.length > 0) {
      // Reading `conn` is held back meanwhile, as for a full send buffer (timers start over).
      const all = Promise.all(flushes);
      this.#gate.cause = conn;
      this.#gate.wrote(all.then(() => {}));
      try {
        await all;
      } catch {
        return; // a write failed: its connection reports it, nothing to recycle into
      }
    }
    c.recycle!(chunk);
  }

  // ---- commands ----

  #hold(command: SendData): void {
    if (command.data.length === 0) return;
    const sent = this.#recycling;
    if (sent !== null && command.data.buffer === sent.buffer) {
      sent.bytes += command.data.length;
      const dst = this.#conns.get(command.conn);
      if (dst !== undefined) sent.to.add(dst);
    }
    const i = this.#heldConns.indexOf(command.conn);
    if (i < 0) {
      this.#heldConns.push(command.conn);
      this.#heldPieces.push([command.data]);
    } else this.#heldPieces[i].push(command.data);
  }

  #write(conn: Connection, pieces: Uint8Array[]): void {
    const c = this.#conns.get(conn);
    if (c === undefined || c.isClosed || !(conn.state & ConnState.CanWrite)) return;
    try {
      const full = pieces.length === 1 ? c.write(pieces[0]) : c.writev(pieces);
      if (this.#pipeOuters.has(conn)) {
        // Per stream: the layer acknowledges the bytes (reopening that stream's window) when
        // told, instead of the whole sending connection being held back.
        const drained = () => this.#enqueue(new WriteDrained(conn));
        if (full) this.#track(full.then(drained, drained));
        else this.#queue.push(new WriteDrained(conn));
      } else if (full) this.#gate.wrote(full);
    } catch {
      // Closed under us: the read side reports it.
    }
  }

  #open(command: OpenConnection): void {
    const server = command.conn;
    const target = server.via ?? server.address;
    this.#gate.block();
    const pooled = this.#services.originPool?.take(server);
    if (pooled !== undefined) {
      // Another exchange left a connection to the same place idle: no dial, no handshake.
      this.#conns.set(server, pooled.conn);
      this.#firstRead.set(server, pooled.read);
      if (pooled.tls !== null) server.tls = pooled.tls;
      server.reused = true;
      server.state = ConnState.Open;
      server.timestampStart = Date.now();
      // Answered as the next microtask (every request of a keep-alive client comes here when
      // the shared pool holds its origin): no promises to track it.
      this.#tasks++;
      queueMicrotask(() => {
        try {
          this.#answer(new OpenConnectionCompleted(command, null));
          this.#startReading(server);
        } catch (e) {
          this.#services.log("error", `driver: ${errorText(e)}`);
        } finally {
          this.#tasks--;
          this.#checkDone();
        }
      });
      return;
    }
    const dial = dialOrigin(
      this.#services.network,
      server,
      target.host,
      target.port,
      this.#services.connectTimeoutMs,
    );
    this.#track(
      dial.then(async (conn) => {
        let early: Uint8Array | null = null;
        if (server.via !== null && server.tunnel) {
          try {
            early = await connectThrough(conn, server.via, server.address, server.viaAuth);
          } catch (e) {
            conn.close();
            throw e;
          }
        }
        this.#conns.set(server, conn);
        server.state = ConnState.Open;
        server.timestampStart = server.timestampTcpEnd = Date.now();
        this.#answer(new OpenConnectionCompleted(command, null));
        // Bytes the origin sent right behind the upstream proxy's answer come first.
        if (early !== null && early.length > 0) this.#enqueue(new DataReceived(server, early));
        this.#startReading(server);
      }).catch((e) => {
        server.error = errorText(e);
        const code = e instanceof NetError ? e.code : "other";
        this.#answer(new OpenConnectionCompleted(command, server.error, code));
      }),
    );
  }

  #startTls(command: StartTls): void {
    const conn = command.conn;
    const raw = this.#conns.get(conn);
    const tls = this.#services.tls;
    // Over a pipe the handshake's flights pass through this driver (the pipe's other end is read
    // and written as any connection): only the piped connection waits, the others are read.
    const overPipe = this.#pipes.has(conn);
    if (overPipe) this.#gate.handshaking(conn, true);
    else this.#gate.block();
    const answer = (event: Event) => {
      if (!overPipe) return this.#answer(event);
      this.#gate.handshaking(conn, false);
      this.#enqueue(event);
    };
    if (raw === undefined || tls === null) {
      queueMicrotask(() => answer(new TlsFailed(command, "TLS is not available")));
      return;
    }
    conn.tls ??= tlsState(null);
    const isClient = conn instanceof Client;
    // A read already waiting on the connection (an origin dialled before TLS began): its bytes
    // belong to the handshake; TLS takes it over.
    const pending = this.#inFlight.get(conn) ?? null;
    if (pending !== null) this.#takenByTls.add(pending);
    if (!isClient) (conn as Server).timestampTlsStart = Date.now();
    const state = conn.tls;
    // Started from a resolved promise, so that a synchronous throw becomes a failed handshake.
    const handshake = Promise.resolve().then(() =>
      isClient
        ? tls.accept(raw, command.received ?? EMPTY, command.identity, command.alpn, pending)
        : tls.connect(raw, {
          host: (conn as Server).address.host,
          sni: state.sni,
          alpn: state.alpnOffers,
          firstRead: pending,
        })
    );
    this.#track(handshake.then((outcome) => {
      this.#conns.set(conn, outcome.conn);
      const state = conn.tls!;
      state.established = true;
      state.alpn = outcome.alpn;
      state.version = outcome.version;
      if (outcome.peerNames !== undefined) state.peerNames = outcome.peerNames;
      if (outcome.cipher !== undefined) state.cipher = outcome.cipher;
      if (outcome.certificates !== undefined) state.certificates = outcome.certificates;
      if (!isClient) (conn as Server).timestampTlsEnd = Date.now();
      answer(new TlsEstablished(command));
    }, (e) => answer(new TlsFailed(command, errorText(e)))));
  }

  #close(command: CloseConnection): void {
    const conn = command.conn;
    const c = this.#conns.get(conn);
    if (command.half) {
      conn.state &= ~ConnState.CanWrite;
      if (c && !c.isClosed) c.closeWrite();
      return;
    }
    const reading = (conn.state & ConnState.CanRead) !== 0;
    conn.state = ConnState.Closed;
    this.#forgetPipe(conn);
    conn.timestampEnd ??= Date.now();
    if (c === undefined || c.isClosed) return;
    const ms = this.#services.closeFlushMs;
    if (command.linger && reading) {
      this.#track(closeLingering(c, this.#inFlight.get(conn) ?? null, ms));
    } else this.#track(closeWhenFlushed(c, ms));
  }

  /**
   * Two connections joined in memory (a tunnel inside an HTTP/2 stream): each is read and
   * written like a socket, so TLS and splices work over them, with the same backpressure (a
   * write waits while the other end has not read 64 KiB).
   */
  #pipe(command: OpenPipe): void {
    const address = this.#client.local;
    const [inner, outer] = MemoryConn.pair(address, address);
    for (const [conn, c] of [[command.inner, inner], [command.outer, outer]] as const) {
      this.#conns.set(conn, c);
      this.#pipes.add(conn);
      conn.state = ConnState.Open;
      conn.timestampStart ??= Date.now();
    }
    this.#pipeOuters.add(command.outer);
    this.#startReading(command.inner);
    this.#startReading(command.outer);
  }

  /** Pipe ends whose writes are reported with WriteDrained (see OpenPipe). */
  readonly #pipeOuters = new Set<Connection>();

  #forgetPipe(conn: Connection): void {
    this.#pipes.delete(conn);
    this.#pipeOuters.delete(conn);
  }

  /** Connections of pipes: a fully closed other end shows as closed, not only as EOF. */
  readonly #pipes = new Set<Connection>();

  /** An idle origin connection goes to the shared pool; this driver is done with it. */
  #park(command: ParkConnection): void {
    const server = command.conn;
    const c = this.#conns.get(server);
    if (c === undefined) return;
    this.#conns.delete(server);
    this.#parked.add(server);
    const read = this.#inFlight.get(server) ?? this.#firstRead.get(server) ?? null;
    this.#firstRead.delete(server);
    this.#onPark.get(server)?.();
    this.#onPark.delete(server);
    server.state = ConnState.Closed;
    const pool = this.#services.originPool;
    if (pool === undefined) c.close();
    else pool.park(server, c, read);
  }

  #hook(command: CallHook): void {
    let running: Promise<void> | void;
    try {
      running = this.#services.hook(command.name, command.data);
    } catch (e) {
      running = Promise.reject(e);
    }
    if (command.observe) {
      // Nobody waits for an observer: it runs on its own, the layers have gone on already.
      if (running !== undefined) this.#track(running);
      return;
    }
    if (running === undefined) {
      // Answered at once (no addon implements it, or an observer like flow_done that runs in
      // the background): the answer is the next event, with no read held back meanwhile.
      this.#queue.push(new HookAnswered(command));
      return;
    }
    this.#gate.block();
    this.#track(running.then(
      () => this.#answer(new HookAnswered(command)),
      (e) => {
        this.#services.log("warn", `hook ${command.name} failed: ${errorText(e)}`);
        this.#answer(new HookAnswered(command));
      },
    ));
  }

  /** Timers do not keep the driver alive: with every connection closed there is nothing to time. */
  #arm(command: Arm): void {
    const fire = () => {
      if (command.watch !== null && this.#gate.holds(command.watch)) {
        // Not read because of us (backpressure, a hook): the peer's silence does not count.
        this.#timers.set(command, this.#clock.set(command.ms, fire));
        return;
      }
      this.#timers.delete(command);
      this.#enqueue(new Wakeup(command));
    };
    this.#timers.set(command, this.#clock.set(command.ms, fire));
  }

  #disarm(timer: Arm): void {
    if (!this.#timers.has(timer)) return;
    this.#clock.clear(this.#timers.get(timer));
    this.#timers.delete(timer);
  }

  #splice(command: Splice): void {
    const { a, b } = command;
    const ca = this.#conns.get(a);
    const cb = this.#conns.get(b);
    const relay = this.#services.relayWebSocket;
    const usable = command.kind === "raw" || relay !== undefined;
    if (ca === undefined || cb === undefined || !usable) {
      const why = usable ? "not connected" : "no WebSocket relay is configured";
      queueMicrotask(() => this.#enqueue(new SpliceEnded(command, why)));
      return;
    }
    this.#spliced.add(a);
    this.#spliced.add(b);
    const inFlight = { a: this.#inFlight.get(a) ?? null, b: this.#inFlight.get(b) ?? null };
    const work = command.kind === "raw"
      ? spliceRaw(ca, cb, command.pending, inFlight, command.clientEof)
      : relay!(ca, cb, command.pending, command.data, inFlight);
    this.#track(
      work.then((error) => {
        a.state = b.state = ConnState.Closed;
        this.#enqueue(new SpliceEnded(command, error));
      }),
    );
  }

  /** The answer to a blocking command: reads may resume once it has been processed. */
  #answer(event: Event): void {
    this.#gate.unblock();
    this.#enqueue(event);
  }

  // ---- lifetime ----

  #track(work: Promise<unknown>): void {
    this.#tasks++;
    work.catch((e) => this.#services.log("error", `driver: ${errorText(e)}`)).finally(() => {
      this.#tasks--;
      this.#checkDone();
    });
  }

  #checkDone(): void {
    if (this.#tasks > 0 || this.#processing) return;
    for (const c of this.#conns.values()) if (!c.isClosed) c.close();
    for (const t of this.#timers.values()) this.#clock.clear(t);
    this.#timers.clear();
    this.#resolveDone();
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * FIN once the last bytes are out, then what the peer still sends is read and dropped for up to
 * `ms` before the close, so that a client still uploading sees the response instead of a reset.
 */
async function closeLingering(
  c: Conn,
  pending: Promise<Uint8Array | null> | null,
  ms: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) =>
    timer = setTimeout(() => {
      c.close();
      resolve(null);
    }, ms)
  );
  try {
    const flushed = c.flushed();
    if (flushed !== undefined) await Promise.race([flushed, late]);
    if (c.isClosed) return;
    c.closeWrite();
    // The driver's own read, still outstanding, comes first; reads end when the timer closes.
    if (pending !== null) await Promise.race([pending, late]);
    while (!c.isClosed && (await Promise.race([c.read(), late])) !== null) { /* dropped */ }
  } catch {
    /* closed or reset: done either way */
  } finally {
    clearTimeout(timer);
    c.close();
  }
}
