/**
 * The Layer base. A layer is sans-IO: `handleEvent(event)` returns the commands it wants carried
 * out, nothing else happens. Layers are written as generators (`*run(event)`), like mitmproxy's:
 *
 * ```ts
 * class Echo extends Layer {
 *   protected *run(event: Event): CommandGenerator {
 *     if (event instanceof DataReceived) yield new SendData(event.conn, event.data);
 *     // Pauses here until the driver answers: null, or why the dial failed.
 *     const error = (yield new OpenConnection(server)) as string | null;
 *     // A child's commands are passed on as one batch (see CommandGenerator).
 *     yield this.child.handleEvent(event);
 *   }
 * }
 * ```
 *
 * Yielding a blocking command (OpenConnection, StartTls, CallHook, Splice) pauses the layer's
 * generator until the matching answer event arrives; events arriving meanwhile are queued and
 * replayed in order afterwards. Only the layer that yielded it pauses: a parent passing a
 * child's commands on does not, so one stream waiting for a hook does not stop its siblings.
 */
import { CallHook, type Command } from "./commands.ts";
import type { Context } from "./context.ts";
import { CommandCompleted, type Event } from "./events.ts";

/**
 * What a layer's generator yields: one command, or a batch of commands to pass on as they are (a
 * child's output, or what non-pausing helpers pushed onto an array). A batch is one plain `yield`
 * where `yield*` over the array would cost JavaScriptCore a delegation loop of a few hundred
 * bytecodes at every such site, compiled again by each JIT tier (see docs/BENCHMARKS.md).
 */
export type CommandGenerator<T = void> = Generator<Yielded, T, unknown>;

/** One command, or a batch of them (see CommandGenerator): what a layer's helpers return. */
export type Yielded = Command | readonly Command[];

/** The empty batch: a helper with nothing to send returns it. */
export const NOTHING: readonly Command[] = Object.freeze([]);

/** A generator yielding `yielded` alone (for `run`, which must return a generator). */
export function* just(yielded: Yielded): CommandGenerator {
  yield yielded;
}

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
   * they are: the same as `yield child.handleEvent(event)` for each, without a generator per event
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
      if (isBatch(command)) {
        this.#passOn(command, out);
        r = gen.next();
        continue;
      }
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

  /**
   * A yielded batch: a child's commands (their blocking ones claimed, their hooks decided by the
   * child) or non-pausing ones a helper pushed; none of them may pause this layer.
   */
  #passOn(batch: readonly Command[], out: Command[]): void {
    for (let i = 0; i < batch.length; i++) {
      const command = batch[i];
      if (command.blocking && command.claim()) {
        throw new Error(`${this}: a blocking ${command} in a batch (yield it on its own)`);
      }
      out.push(command);
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
    yield out;
  }

  override handleEvent(event: Event): Command[] {
    const out: Command[] = [];
    this.handle(event, out);
    return out;
  }
}

function isBatch(yielded: Yielded): yielded is readonly Command[] {
  return Array.isArray(yielded);
}
