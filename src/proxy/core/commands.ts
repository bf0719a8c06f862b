/**
 * Commands: what a layer asks the driver to do. A layer yields them; the driver carries them out
 * and, for the blocking ones, answers with an event naming the command (events.ts). Commands are
 * plain data, so a test can compare what a layer yielded with what it expected.
 */
import { type Connection, formatEndpoint, type Server } from "./connection.ts";

export abstract class Command {
  /**
   * Whether a layer waits for this command's answer, or has detached it (layer.ts): set once, by
   * the innermost layer that yields it, so that the layers passing it on do not pause too. A
   * private field: not part of the command's data that tests compare.
   */
  #claimed = false;

  /** Claims the answer for the layer that yields this; false when a layer claimed it before. */
  claim(): boolean {
    if (this.#claimed) return false;
    this.#claimed = true;
    return true;
  }

  /** A blocking command pauses the layer that yielded it until the driver's answer arrives. */
  get blocking(): boolean {
    return false;
  }
  abstract toString(): string;
}

/** Send bytes on a connection. The driver reads no more until they have been handed to the OS. */
export class SendData extends Command {
  constructor(readonly conn: Connection, public data: Uint8Array) {
    super();
  }
  toString(): string {
    return `SendData(${this.conn.id}, ${previewBytes(this.data)})`;
  }
}

/** Dial a server connection (TCP). Answered by OpenConnectionCompleted. */
export class OpenConnection extends Command {
  constructor(readonly conn: Server) {
    super();
  }
  override get blocking(): boolean {
    return true;
  }
  toString(): string {
    const via = this.conn.via ? ` via ${formatEndpoint(this.conn.via)}` : "";
    return `OpenConnection(${this.conn.id} ${formatEndpoint(this.conn.address)}${via})`;
  }
}

/**
 * Close a connection: `half` sends FIN and keeps reading (the peer may still answer); otherwise
 * both directions close once the queued bytes are out.
 */
export class CloseConnection extends Command {
  /**
   * `half`: FIN only. `linger`: the peer may still be sending (an unread upload): FIN after the
   * last bytes, then what it sends is dropped for a moment before the close, so that it sees the
   * response rather than a reset (RFC 9112 section 9.6).
   */
  constructor(readonly conn: Connection, readonly half = false, readonly linger = false) {
    super();
  }
  toString(): string {
    return `CloseConnection(${this.conn.id}${this.half ? ", half" : ""})`;
  }
}

/**
 * An origin connection between exchanges that other client connections may use: the driver hands
 * it to the proxy's shared origin pool (or closes it when there is none). The layer forgets it.
 */
export class ParkConnection extends Command {
  constructor(readonly conn: Server) {
    super();
  }
  toString(): string {
    return `ParkConnection(${this.conn.id})`;
  }
}

/**
 * Connect `inner` and `outer` with an in-memory pipe: bytes sent on one are received on the
 * other, a FIN on one is the other's end of input. A layer stack runs over `inner` as over a
 * socket (TLS included) while the layer that owns `outer` carries its bytes elsewhere (an
 * HTTP/2 stream's DATA). Both are open at once; no answer. Writes to `outer` do not hold back
 * reading the connection whose event caused them: the driver answers each with WriteDrained(outer)
 * once the pipe took it in, so the owner can hold back one stream (its window) instead.
 */
export class OpenPipe extends Command {
  constructor(readonly inner: Connection, readonly outer: Connection) {
    super();
  }
  toString(): string {
    return `OpenPipe(${this.inner.id}, ${this.outer.id})`;
  }
}

/** Stop reading a connection until ResumeReading: the layer cannot take more bytes yet. */
export class PauseReading extends Command {
  constructor(readonly conn: Connection) {
    super();
  }
  toString(): string {
    return `PauseReading(${this.conn.id})`;
  }
}

export class ResumeReading extends Command {
  constructor(readonly conn: Connection) {
    super();
  }
  toString(): string {
    return `ResumeReading(${this.conn.id})`;
  }
}

/**
 * Opaque key material for the server side of a handshake, produced by a hook (the CA lives
 * outside the core) and handed back to the driver untouched.
 */
export type TlsIdentity = unknown;

/**
 * Start TLS on a connection. On a Client the proxy is the TLS server (`identity` is the leaf to
 * present, `alpn` the protocols it may pick from the client's offers, in order); on a Server it is
 * the TLS client (`conn.tls.sni` and `conn.tls.alpnOffers` are sent). Answered by TlsEstablished
 * or TlsFailed; `conn.tls` then holds the outcome.
 */
export class StartTls extends Command {
  constructor(
    readonly conn: Connection,
    readonly identity: TlsIdentity = null,
    readonly alpn: readonly string[] = [],
    /** Bytes of the handshake the layers already received (the peeked ClientHello). */
    readonly received: Uint8Array | null = null,
  ) {
    super();
  }
  override get blocking(): boolean {
    return true;
  }
  toString(): string {
    const alpn = this.alpn.length > 0 ? `, alpn=${this.alpn.join(",")}` : "";
    return `StartTls(${this.conn.id}${alpn})`;
  }
}

/**
 * Run an addon hook with `data` (hook names as in src/addons/types.ts). Hooks may change `data`;
 * the layer reads the changes when HookAnswered arrives.
 */
export class CallHook<T = unknown> extends Command {
  constructor(
    readonly name: string,
    readonly data: T,
    /**
     * The layer does not wait for it (flow_done: addons observe a finished flow, nothing they do
     * changes it), so no answer comes back through the stack.
     */
    readonly observe = false,
  ) {
    super();
  }
  override get blocking(): boolean {
    return !this.observe;
  }
  toString(): string {
    return `CallHook(${this.name})`;
  }
}

/**
 * Arm a timer: the driver sends Wakeup(this) after `ms` milliseconds, unless disarmed. A timer
 * that `watch`es a connection waits for that peer's bytes (body_timeout): while the driver holds
 * back reading it (backpressure: the other side has not taken the bytes already read; a hook
 * running), the silence is not the peer's, and the timer starts over instead of firing.
 */
export class Arm extends Command {
  constructor(readonly ms: number, readonly watch: Connection | null = null) {
    super();
  }
  toString(): string {
    return `Arm(${this.ms}ms)`;
  }
}

export class Disarm extends Command {
  constructor(readonly timer: Arm) {
    super();
  }
  toString(): string {
    return `Disarm(${this.timer.ms}ms)`;
  }
}

/**
 * How a Splice relays: "raw" copies bytes both ways (TCP passthrough, a CONNECT tunnel that is
 * not intercepted); "websocket" hands both connections to the WebSocket relay with `data` (the
 * flow and the negotiated extensions).
 */
export type SpliceKind = "raw" | "websocket";

/**
 * Relay two connections to each other until both directions are done: the fast path, without a
 * layer looking at every chunk. `pending` holds bytes already received from each side that the
 * layers had buffered. Answered by SpliceEnded once both connections are closed.
 */
export class Splice extends Command {
  /** Side `a` already sent FIN before the splice began: send it on once `pending.a` is out. */
  clientEof = false;

  constructor(
    readonly a: Connection,
    readonly b: Connection,
    readonly kind: SpliceKind = "raw",
    readonly pending: { a: Uint8Array | null; b: Uint8Array | null } = { a: null, b: null },
    readonly data: unknown = null,
  ) {
    super();
  }
  override get blocking(): boolean {
    return true;
  }
  toString(): string {
    return `Splice(${this.a.id} <-> ${this.b.id}, ${this.kind})`;
  }
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export class Log extends Command {
  constructor(readonly message: string, readonly level: LogLevel = "info") {
    super();
  }
  toString(): string {
    return `Log(${this.level}: ${this.message})`;
  }
}

/** A short printable form of some bytes for test diffs and debug logs. */
export function previewBytes(data: Uint8Array, max = 60): string {
  let out = "";
  const n = Math.min(data.length, max);
  for (let i = 0; i < n; i++) {
    const c = data[i];
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : escapeByte(c);
  }
  return JSON.stringify(out) + (data.length > max ? `...(${data.length} bytes)` : "");
}

function escapeByte(c: number): string {
  if (c === 0x0d) return "\\r";
  if (c === 0x0a) return "\\n";
  if (c === 0x5c) return "\\\\";
  return "\\x" + c.toString(16).padStart(2, "0");
}
