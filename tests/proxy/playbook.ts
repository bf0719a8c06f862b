/**
 * Playbook: drive a layer with events and assert the exact commands it yields, with no sockets
 * and no timers (after mitmproxy's test Playbook). Write the conversation as it should happen:
 *
 * ```ts
 * new Playbook(new TcpLayer(ctx))
 *   .send(new Start())
 *   .expect(new OpenConnection(server))
 *   .send(reply())                 // answers the last blocking command (null error: success)
 *   .send(new DataReceived(client, b("hi")))
 *   .expect(new SendData(server, b("hi")))
 *   .check();
 * ```
 *
 * `send` is an event fed to the layer (">>" in the printed diff), `expect` a command it must yield
 * ("<<"). Consecutive SendData to one connection are merged on both sides, since how a layer cuts
 * its writes is not behaviour. Log commands are ignored unless `logs: true`; with `hooks: false`
 * every CallHook is answered at once and left out of the comparison. Comparing: same class, and
 * fields equal (bytes by content, connections by identity, a Placeholder binds on first use).
 * Like the driver, it keeps the connection model up to date: a successful dial opens the
 * connection, ConnectionClosed and CloseConnection close it, TlsEstablished fills in `tls`.
 */
import { type Command, SendData } from "../../src/proxy/core/commands.ts";
import {
  CallHook,
  CloseConnection,
  Log,
  OpenConnection,
  Splice,
  StartTls,
} from "../../src/proxy/core/commands.ts";
import { Client, Connection, ConnState, tlsState } from "../../src/proxy/core/connection.ts";
import {
  ConnectionClosed,
  Event,
  HookAnswered,
  OpenConnectionCompleted,
  SpliceEnded,
  TlsEstablished,
  TlsFailed,
} from "../../src/proxy/core/events.ts";
import type { Layer } from "../../src/proxy/core/layer.ts";

type EventSource = Event | ((pb: Playbook) => Event);
type Entry = { event: EventSource } | { command: Command };

/** Matches any value on first comparison and remembers it; later comparisons need that value. */
export class Placeholder<T = unknown> {
  #bound = false;
  #value: T | undefined;
  constructor(readonly label = "placeholder") {}
  get value(): T {
    if (!this.#bound) throw new Error(`${this.label} was never bound`);
    return this.#value as T;
  }
  /** True if `v` is (or now becomes) the value. */
  match(v: unknown): boolean {
    if (!this.#bound) {
      this.#bound = true;
      this.#value = v as T;
      return true;
    }
    return same(this.#value, v, 0);
  }
  toString(): string {
    return this.#bound ? `${this.label}=${String(this.#value)}` : `<${this.label}>`;
  }
}

/** A placeholder typed as T, to put in a command's field. */
export function any<T>(label?: string): T & Placeholder<T> {
  return new Placeholder<T>(label) as T & Placeholder<T>;
}

export interface PlaybookOptions {
  /** Compare Log commands too. */
  logs?: boolean;
  /** Compare CallHook commands (else they are answered at once). Default true. */
  hooks?: boolean;
}

export class Playbook {
  readonly layer: Layer;
  readonly #script: Entry[] = [];
  readonly #actual: Array<Event | Command> = [];
  /** Every command yielded, hooks and logs included, in order. */
  readonly commands: Command[] = [];
  #ran = 0;
  readonly #logs: boolean;
  readonly #hooks: boolean;

  constructor(layer: Layer, options: PlaybookOptions = {}) {
    this.layer = layer;
    this.#logs = options.logs ?? false;
    this.#hooks = options.hooks ?? true;
  }

  /** An event to feed (or a function making it when its turn comes). */
  send(event: EventSource): this {
    this.#script.push({ event });
    return this;
  }

  /** Commands the layer must yield next. */
  expect(...commands: Command[]): this {
    for (const command of commands) this.#script.push({ command });
    return this;
  }

  /** The last command of a class yielded so far. */
  last<C extends Command>(cls: abstract new (...args: never[]) => C): C {
    for (let i = this.commands.length - 1; i >= 0; i--) {
      const c = this.commands[i];
      if (c instanceof cls) return c;
    }
    throw new Error(`no ${cls.name} was yielded`);
  }

  /** Runs the events not run yet and throws an AssertionError-like diff on any mismatch. */
  check(): this {
    const entries = this.#script;
    for (; this.#ran < entries.length; this.#ran++) {
      const entry = entries[this.#ran];
      if (!("event" in entry)) continue;
      const event = typeof entry.event === "function" ? entry.event(this) : entry.event;
      entry.event = event;
      this.#feed(event);
    }
    const expected = merge(entries.map((e) => "event" in e ? e.event as Event : e.command));
    const actual = merge(this.#actual);
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (i >= expected.length || i >= actual.length || !same(expected[i], actual[i], 0)) {
        throw new Error(`Playbook mismatch at entry ${i}:\n${diff(expected, actual, i)}`);
      }
    }
    return this;
  }

  #feed(event: Event): void {
    emulateDriver(event);
    this.#actual.push(event);
    const queue: Event[] = [event];
    while (queue.length > 0) {
      const ev = queue.shift()!;
      for (const command of this.layer.handleEvent(ev)) {
        this.commands.push(command);
        if (command instanceof CloseConnection) {
          command.conn.state = command.half
            ? command.conn.state & ~ConnState.CanWrite
            : ConnState.Closed;
        }
        if (command instanceof Log && !this.#logs) continue;
        if (command instanceof CallHook && !this.#hooks) {
          if (command.blocking) queue.push(new HookAnswered(command)); // observers get no answer
          continue;
        }
        this.#actual.push(command);
      }
    }
  }
}

/** What the driver does to the connection model before it hands these events on. */
function emulateDriver(event: Event): void {
  if (event instanceof OpenConnectionCompleted && event.error === null) {
    event.command.conn.state = ConnState.Open;
    event.command.conn.timestampStart = 1_000_000;
  } else if (event instanceof ConnectionClosed) {
    event.conn.state &= ~ConnState.CanRead;
  } else if (event instanceof TlsEstablished) {
    const conn = event.command.conn;
    const tls = conn.tls ?? (conn.tls = tlsState(null));
    tls.established = true;
    tls.version = "TLSv1.3";
    if (tls.alpn === null) {
      tls.alpn = conn instanceof Client
        ? (event.command.alpn.find((p) => tls.alpnOffers.includes(p)) ?? null)
        : (tls.alpnOffers[0] ?? null);
    }
  }
}

/**
 * The answer to the last blocking command: success, or failure with `error`. For a CallHook the
 * hook may change the data first with `edit`.
 */
export function reply(error: string | null = null, edit?: (data: unknown) => void) {
  return (pb: Playbook): Event => {
    for (let i = pb.commands.length - 1; i >= 0; i--) {
      const c = pb.commands[i];
      if (!c.blocking) continue;
      if (c instanceof OpenConnection) return new OpenConnectionCompleted(c, error);
      if (c instanceof StartTls) return error ? new TlsFailed(c, error) : new TlsEstablished(c);
      if (c instanceof Splice) return new SpliceEnded(c, error);
      if (c instanceof CallHook) {
        edit?.(c.data);
        return new HookAnswered(c);
      }
    }
    throw new Error("reply(): no blocking command was yielded");
  };
}

/** Merges consecutive SendData to the same connection into one (copies; inputs untouched). */
function merge(list: ReadonlyArray<Event | Command>): Array<Event | Command> {
  const out: Array<Event | Command> = [];
  for (const x of list) {
    const prev = out[out.length - 1];
    if (x instanceof SendData && prev instanceof SendData && prev.conn === x.conn) {
      const data = new Uint8Array(prev.data.length + x.data.length);
      data.set(prev.data, 0);
      data.set(x.data, prev.data.length);
      out[out.length - 1] = new SendData(x.conn, data);
    } else {
      out.push(x);
    }
  }
  return out;
}

/** Structural equality for events and commands; see the module comment for the rules. */
export function same(a: unknown, b: unknown, depth: number): boolean {
  if (b instanceof Placeholder) return b.match(a);
  if (a instanceof Placeholder) return a.match(b);
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Connection || b instanceof Connection) return false; // identity only
  if (a.constructor !== b.constructor) return false;
  if (a instanceof Uint8Array) {
    const bb = b as Uint8Array;
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== bb[i]) return false;
    return true;
  }
  if (depth > 8) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => same(x, bb[i], depth + 1));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => k in rb && same(ra[k], rb[k], depth + 1));
}

function line(x: Event | Command | undefined): string {
  if (x === undefined) return "   (nothing)";
  let text: string;
  try {
    text = x.toString();
  } catch {
    // A placeholder stands where toString() expected a real value.
    const fields = Object.values(x).map((v) => v instanceof Placeholder ? String(v) : "...");
    text = `${x.constructor.name}(${fields.join(", ")})`;
  }
  return (x instanceof Event ? ">> " : "<< ") + text;
}

function diff(expected: Array<Event | Command>, actual: Array<Event | Command>, at: number) {
  const out: string[] = [];
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const e = line(expected[i]);
    const a = line(actual[i]);
    const mark = i === at ? "!!" : i < at ? "  " : "..";
    out.push(`${mark} expected ${e}`);
    if (i >= at) out.push(`${mark} actual   ${a}`);
  }
  return out.join("\n");
}
