/**
 * When the driver may read a connection: the backpressure rules in one place.
 *   1. Writes not yet handed to the OS are kept by the connection whose bytes caused them (null:
 *      a hook's answer, a timer, a dial). Reading a connection waits for its own and the null
 *      ones, so each direction is held back by its own receiver, not by the other direction's.
 *   2. No blocking command (dial, handshake, hook) may be waiting for its answer; a TLS
 *      handshake over a pipe holds back only its own connection (its flights pass through the
 *      pipe's other end, which must be read meanwhile).
 *   3. No layer may have paused the connection.
 */
import type { Connection } from "../core/connection.ts";

export class ReadGate {
  readonly #writes = new Map<Connection | null, Set<Promise<void>>>();
  readonly #paused = new Set<Connection>();
  /** Connections whose TLS handshake (over a pipe) reads them itself. */
  readonly #handshaking = new Set<Connection>();
  /** Blocking commands (not splices) whose answers have not been processed yet. */
  #blocking = 0;
  /** The connection whose event is being handled (null: anything else). */
  cause: Connection | null = null;
  #wake: (() => void) | null = null;
  #wakeup: Promise<void> | null = null;

  /** A write that filled the send buffer: reads it gates wait until it drains. */
  wrote(full: Promise<void>): void {
    const cause = this.cause;
    let list = this.#writes.get(cause);
    if (list === undefined) this.#writes.set(cause, list = new Set());
    const pending: Promise<void> = full.catch(() => {}).then(() => {
      list.delete(pending);
      if (list.size === 0 && this.#writes.get(cause) === list) this.#writes.delete(cause);
    });
    list.add(pending);
  }

  block(): void {
    this.#blocking++;
  }

  unblock(): void {
    this.#blocking--;
  }

  pause(conn: Connection): void {
    this.#paused.add(conn);
  }

  resume(conn: Connection): void {
    this.#paused.delete(conn);
  }

  /** A TLS handshake over a pipe starts (true) or ends (false) on `conn`. */
  handshaking(conn: Connection, on: boolean): void {
    if (on) this.#handshaking.add(conn);
    else this.#handshaking.delete(conn);
  }

  /**
   * Whether reading `conn` is held back by this side (its writes or shared ones not drained, a
   * blocking command waiting, the layers paused it) rather than waiting for the peer's bytes.
   */
  holds(conn: Connection): boolean {
    return this.#writes.has(conn) || this.#writes.has(null) || this.#blocking > 0 ||
      this.#paused.has(conn) || this.#handshaking.has(conn);
  }

  /**
   * Whether `conn` may be read right now, checked without waiting: the read loop then reads at
   * once instead of awaiting wait() (a promise and a turn of the microtask queue per read).
   */
  ready(conn: Connection): boolean {
    return this.#writes.size === 0 && this.#blocking === 0 && !this.#paused.has(conn) &&
      !this.#handshaking.has(conn);
  }

  /** Resolves when `conn` may be read, or with false as soon as `gone()` says it never will. */
  async wait(conn: Connection, gone: () => boolean): Promise<boolean> {
    for (;;) {
      if (gone()) return false;
      // Every reader waits on the live sets (entries leave as they drain), not a taken copy.
      const own = this.#writes.get(conn);
      const shared = this.#writes.get(null);
      if (own !== undefined || shared !== undefined) {
        await Promise.all([...(own ?? []), ...(shared ?? [])]);
        continue;
      }
      if (this.#blocking === 0 && !this.#paused.has(conn) && !this.#handshaking.has(conn)) {
        return true;
      }
      await (this.#wakeup ??= new Promise<void>((r) => (this.#wake = r)));
    }
  }

  /** Something changed (an event was handled): waiting readers look again. */
  notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    this.#wakeup = null;
    wake?.();
  }
}
