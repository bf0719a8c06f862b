/**
 * The Layer base. A layer is sans-IO: `handleEvent(event)` returns the commands it wants carried
 * out, nothing else happens. Layers are written as generators (`*run(event)`), like mitmproxy's:
 *
 * ```ts
 * class Echo extends Layer {
 *   protected *run(event: Event): CommandGenerator {
 *     if (event instanceof DataReceived) yield new SendData(event.conn, event.data);
 *     const error = yield* openConnection(server); // pauses here until the driver answers
 *   }
 * }
 * ```
 *
 * Yielding a blocking command (OpenConnection, StartTls, CallHook, Splice) pauses the layer's
 * generator until the matching answer event arrives; events arriving meanwhile are queued and
 * replayed in order afterwards. Only the layer that yielded it pauses: a parent passing a
 * child's commands on does not, so one stream waiting for a hook does not stop its siblings.
 */
import {
  CallHook,
  type Command,
  OpenConnection,
  Splice,
  type SpliceKind,
  StartTls,
  type TlsIdentity,
} from "./commands.ts";
import type { Connection, Server } from "./connection.ts";
import type { Context } from "./context.ts";
import { CommandCompleted, type Event } from "./events.ts";

export type CommandGenerator<T = void> = Generator<Command, T, unknown>;

export abstract class Layer {
  readonly context: Context;
  #paused: { command: Command; gen: CommandGenerator } | null = null;
  /** Events that arrived while paused (made when one does: most layers never pause). */
  #queue: Event[] | null = null;

  constructor(context: Context) {
    this.context = context;
  }

  /** Handles one event (the rest of this layer's logic lives in `run`). */
  protected abstract run(event: Event): CommandGenerator;

  /** A name and state for debugging ("Http1Server(waitHeaders)"). */
  toString(): string {
    return this.constructor.name;
  }

  /**
   * Whether anything would run hook `name`. One not listened to is answered at once anyway
   * (`#step`); asking first spares the generators around it on every request.
   */
  protected listens(name: string): boolean {
    const listened = this.context.options.hookListened;
    return listened === undefined || listened(name);
  }

  /** True while waiting for the answer to a blocking command. */
  get paused(): boolean {
    return this.#paused !== null;
  }

  /**
   * Marks a blocking command this layer yields but does not wait for: the answer arrives as an
   * ordinary event to `run` (a layer that multiplexes children, like the HTTP layer dialling
   * for one stream while others go on, uses this).
   */
  protected detached<C extends Command>(command: C): C {
    command.claim();
    return command;
  }

  /** The child every event now goes to, when this layer has nothing left to do itself. */
  #through: Layer | null = null;

  /**
   * From the next event on, hands every event straight to `child` and returns its commands as
   * they are: the same as `yield* delegate(child, event)` for each, without a generator per event
   * and layer (a tunnel's stack is four such layers deep, and every request passes them all).
   * Only for a layer whose `run` would do nothing but delegate to `child` from now on.
   */
  protected passThrough(child: Layer): void {
    this.#through = child;
  }

  /**
   * Handles `event` without a generator when it can: pushes its commands onto `out` and returns
   * true, or returns false having changed nothing, and `run` handles it. For a layer's common
   * events on which nothing is awaited (a body chunk passing through, say): the same commands
   * `run` would yield, without a generator object per event and helper.
   */
  protected direct(_event: Event, _out: Command[]): boolean {
    return false;
  }

  /**
   * Whether hook `name` needs no waiting (`#step` asks for hooks yielded, direct paths before
   * they run one): "unheard" when no one runs it (its data stays as it is), "observed" when
   * only read-only addons do (they are told with {@link hookInPassing}), null when its answer
   * must be awaited.
   */
  protected hookPasses(name: string): "unheard" | "observed" | null {
    const { hookListened: listened, hookObserved: observed } = this.context.options;
    if (listened !== undefined && !listened(name)) return "unheard";
    if (observed !== undefined && observed(name)) return "observed";
    return null;
  }

  /** A hook that {@link hookPasses}, run in passing: observers are told, no one is awaited. */
  protected hookInPassing(name: string, data: unknown, out: Command[]): void {
    if (this.hookPasses(name) !== "unheard") out.push(new CallHook(name, data, true));
  }

  /** Feeds one event; returns the commands to carry out, in order. */
  handleEvent(event: Event): Command[] {
    const through = this.#through;
    if (this.#paused === null && (this.#queue === null || this.#queue.length === 0)) {
      if (through !== null) return through.handleEvent(event);
      const out: Command[] = [];
      if (!this.direct(event, out)) this.#step(this.run(event), undefined, out);
      return out;
    }
    const out: Command[] = [];
    const paused = this.#paused;
    if (paused !== null) {
      if (event instanceof CommandCompleted && event.command === paused.command) {
        this.#paused = null;
        this.#step(paused.gen, event.reply, out);
        this.#drainQueue(out);
      } else {
        (this.#queue ??= []).push(event);
      }
      return out;
    }
    this.#step(this.run(event), undefined, out);
    return out;
  }

  #drainQueue(out: Command[]): void {
    const queue = this.#queue;
    if (queue === null) return;
    while (this.#paused === null && queue.length > 0) {
      const next = queue.shift()!;
      if (!this.direct(next, out)) this.#step(this.run(next), undefined, out);
    }
  }

  /** Runs a generator until it finishes or pauses on a blocking command of its own. */
  #step(gen: CommandGenerator, send: unknown, out: Command[]): void {
    let r = gen.next(send);
    while (!r.done) {
      const command = r.value;
      if (command instanceof CallHook) {
        const passes = this.hookPasses(command.name);
        if (passes === "unheard") {
          // No one would run it: answered at once, with its data unchanged.
          r = gen.next(command.data);
          continue;
        }
        if (passes === "observed" && !command.observe) {
          // Only read-only addons run it: they are told, and the layer goes on at once.
          out.push(new CallHook(command.name, command.data, true));
          r = gen.next(command.data);
          continue;
        }
      }
      out.push(command);
      if (command.blocking && command.claim()) {
        this.#paused = { command, gen };
        return;
      }
      r = gen.next();
    }
  }
}

/**
 * A layer that never waits for an answer itself pushes its commands onto `out` in plain method
 * calls instead of yielding them from generators: the same commands in the same order, without a
 * generator per call (the HTTP layer and the HTTP/1 connection layers run several times per
 * request, nested). Such a layer must not pause: its blocking commands are `detached` (answered
 * as ordinary events) and it runs no hooks of its own (children that do pause themselves).
 */
export abstract class DirectLayer extends Layer {
  /** Handles one event: pushes the commands to carry out onto `out`, in order. */
  protected abstract handle(event: Event, out: Command[]): void;

  protected *run(event: Event): CommandGenerator {
    const out: Command[] = [];
    this.handle(event, out);
    yield* out;
  }

  override handleEvent(event: Event): Command[] {
    const out: Command[] = [];
    this.handle(event, out);
    return out;
  }
}

/** A layer that hands every event to a child: the base of layers that wrap another. */
export function* delegate(child: Layer, event: Event): CommandGenerator {
  yield* child.handleEvent(event);
}

// ---- typed helpers for blocking commands ----

/** Dials `conn`; returns null on success, else the error (one line). */
export function* openConnection(conn: Server): CommandGenerator<string | null> {
  return (yield new OpenConnection(conn)) as string | null;
}

/** Starts TLS on `conn`; returns null once established, else the error. */
export function* startTls(
  conn: Connection,
  identity: TlsIdentity = null,
  alpn: readonly string[] = [],
  received: Uint8Array | null = null,
): CommandGenerator<string | null> {
  return (yield new StartTls(conn, identity, alpn, received)) as string | null;
}

/** Runs a hook; returns its (possibly changed) data. */
export function* callHook<T>(name: string, data: T): CommandGenerator<T> {
  return (yield new CallHook(name, data)) as T;
}

/** Relays two connections to each other until both close; returns the error if it broke. */
export function* splice(
  a: Connection,
  b: Connection,
  kind: SpliceKind = "raw",
  pending: { a: Uint8Array | null; b: Uint8Array | null } = { a: null, b: null },
  data: unknown = null,
): CommandGenerator<string | null> {
  return (yield new Splice(a, b, kind, pending, data)) as string | null;
}
