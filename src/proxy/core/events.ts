/**
 * Events: what happens to a layer stack. The driver turns socket reads, closes, drained writes,
 * timers and the answers to blocking commands into these and hands them to the top layer.
 */
import {
  type Arm,
  type CallHook,
  type Command,
  type OpenConnection,
  previewBytes,
  type Splice,
  type StartTls,
} from "./commands.ts";
import type { Connection } from "./connection.ts";

export abstract class Event {
  abstract toString(): string;
}

/** The first event of every layer: the client connection exists (or the layer was just made). */
export class Start extends Event {
  toString(): string {
    return "Start()";
  }
}

export class DataReceived extends Event {
  constructor(readonly conn: Connection, readonly data: Uint8Array) {
    super();
  }
  toString(): string {
    return `DataReceived(${this.conn.id}, ${previewBytes(this.data)})`;
  }
}

/** The peer closed its sending side (FIN) or the connection broke; `conn.state` tells which. */
export class ConnectionClosed extends Event {
  constructor(readonly conn: Connection) {
    super();
  }
  toString(): string {
    return `ConnectionClosed(${this.conn.id})`;
  }
}

/** Everything sent on `conn` so far has been handed to the OS. */
export class WriteDrained extends Event {
  constructor(readonly conn: Connection) {
    super();
  }
  toString(): string {
    return `WriteDrained(${this.conn.id})`;
  }
}

/**
 * Something from outside the connection, addressed to the layers: a replayed or API-made request,
 * or a message to send on an established WebSocket.
 */
export class MessageInjected extends Event {
  constructor(readonly kind: string, readonly message: unknown) {
    super();
  }
  toString(): string {
    return `MessageInjected(${this.kind})`;
  }
}

/** The answer to a command; `command` is the very object the layer yielded. */
export abstract class CommandCompleted extends Event {
  abstract readonly command: Command;
  /** What the paused layer's `yield` evaluates to. */
  get reply(): unknown {
    return this;
  }
}

export class OpenConnectionCompleted extends CommandCompleted {
  /** `error` is null on success, else one line ("connection refused"). */
  constructor(
    readonly command: OpenConnection,
    readonly error: string | null = null,
    /** The kind of failure ("refused", "dns", "timeout"... as the runtime reports it). */
    readonly code: string | null = null,
  ) {
    super();
  }
  override get reply(): unknown {
    return this.error;
  }
  toString(): string {
    return `OpenConnectionCompleted(${this.command.conn.id}, ${this.error ?? "ok"})`;
  }
}

/** The handshake finished; conn.tls holds the version and the ALPN choice. */
export class TlsEstablished extends CommandCompleted {
  constructor(readonly command: StartTls) {
    super();
  }
  override get reply(): unknown {
    return null;
  }
  toString(): string {
    return `TlsEstablished(${this.command.conn.id})`;
  }
}

export class TlsFailed extends CommandCompleted {
  constructor(readonly command: StartTls, readonly error: string) {
    super();
  }
  override get reply(): unknown {
    return this.error;
  }
  toString(): string {
    return `TlsFailed(${this.command.conn.id}, ${this.error})`;
  }
}

export class HookAnswered extends CommandCompleted {
  constructor(readonly command: CallHook) {
    super();
  }
  override get reply(): unknown {
    return this.command.data;
  }
  toString(): string {
    return `HookAnswered(${this.command.name})`;
  }
}

/** A timer armed with Arm has fired. */
export class Wakeup extends CommandCompleted {
  constructor(readonly command: Arm) {
    super();
  }
  toString(): string {
    return `Wakeup(${this.command.ms}ms)`;
  }
}

/** A splice is over: both connections are closed. `error` says why when it broke. */
export class SpliceEnded extends CommandCompleted {
  constructor(readonly command: Splice, readonly error: string | null = null) {
    super();
  }
  override get reply(): unknown {
    return this.error;
  }
  toString(): string {
    return `SpliceEnded(${this.command.a.id} <-> ${this.command.b.id}${
      this.error ? ", " + this.error : ""
    })`;
  }
}
