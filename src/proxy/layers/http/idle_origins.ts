/**
 * The idle timers of the HTTP layer's origin connections (origin_idle_timeout): armed when no
 * stream uses a pooled connection, disarmed when one takes it again or it closes; the one that
 * fires closes its connection if it is still unused.
 */
import { Arm, type Command, Disarm } from "../../core/commands.ts";
import type { Connection } from "../../core/connection.ts";
import type { PoolEntry } from "./pool_entry.ts";

export class IdleOrigins {
  readonly #timers = new Map<Arm, Connection>();

  /** Whether `timer` is one of these (its Wakeup is for this). */
  owns(timer: Command): boolean {
    return timer instanceof Arm && this.#timers.has(timer);
  }

  /** Arms `entry`'s timer; `detach` marks it as answered to the layer as an ordinary event. */
  arm(entry: PoolEntry, conn: Connection, ms: number, detach: (a: Arm) => Arm, out: Command[]) {
    entry.idle = detach(new Arm(ms));
    this.#timers.set(entry.idle, conn);
    out.push(entry.idle);
  }

  /** The timer fired: its connection, which the caller closes if still unused. */
  fired(timer: Arm): Connection | undefined {
    const conn = this.#timers.get(timer);
    this.#timers.delete(timer);
    return conn;
  }

  stop(entry: PoolEntry, out: Command[]): void {
    if (entry.idle === null) return;
    this.#timers.delete(entry.idle);
    out.push(new Disarm(entry.idle));
    entry.idle = null;
  }
}
