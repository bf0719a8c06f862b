/**
 * The HTTP layer's idle origin connections: their timers (origin_idle_timeout: armed when no
 * stream uses a pooled connection, disarmed when one takes it again or it closes; the one that
 * fires closes its connection if it is still unused), and the HTTP/1 ones to hand to the shared
 * pool once their exchange is over (the client left, or asked for another origin: it keeps one
 * connection per origin it is talking to, not every origin it ever asked for).
 */
import { Arm, type Command, Disarm, ParkConnection } from "../../core/commands.ts";
import type { Connection, Server } from "../../core/connection.ts";
import { Http1Client } from "./http1.ts";
import type { PoolEntry } from "./pool_entry.ts";

export class IdleOrigins {
  readonly #timers = new Map<Arm, Connection>();
  /** Connections to park once their exchange is over. */
  readonly toPark = new Set<Connection>();

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

  /** Every idle HTTP/1 connection of `pool` is to be parked. */
  parkAll(pool: ReadonlyMap<Connection, PoolEntry>): void {
    for (const [conn, entry] of pool) {
      if (entry.layer instanceof Http1Client && entry.streams.size === 0) this.toPark.add(conn);
    }
  }

  /** Parks those whose exchange is over (`forget` takes each out of the layer's pool first). */
  park(
    pool: ReadonlyMap<Connection, PoolEntry>,
    forget: (conn: Connection, out: Command[]) => void,
    out: Command[],
  ): void {
    for (const conn of [...this.toPark]) {
      const entry = pool.get(conn);
      if (entry === undefined || !conn.open || entry.streams.size > 0) {
        this.toPark.delete(conn);
      } else if (entry.layer.idle) {
        this.toPark.delete(conn);
        forget(conn, out);
        out.push(new ParkConnection(conn as Server));
      }
    }
  }
}
