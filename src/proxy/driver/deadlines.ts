/**
 * Coarse timeouts for many connections with one timer. Arming or clearing a deadline is a field
 * write, not a setTimeout/clearTimeout pair per request (which showed up at ~3% of CPU on the
 * keep-alive hot path); one interval sweeps everything watched. Deadlines fire up to one tick late.
 */
export interface Expiring {
  /** When to expire (ms since the epoch); 0 when nothing is due. */
  deadline: number;
  /** Where the sweeper keeps it while watched; -1 (or absent) when not watched. */
  watchIndex?: number;
  expire(): void;
}

export class Deadlines {
  /**
   * The watched items in an array, each knowing its index: watching and unwatching (twice per
   * keep-alive request) swap and push, where a Set would rehash as it grows and shrinks.
   */
  readonly #watched: Expiring[] = [];
  readonly #tickMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `tickMs`: how often to look, which is also how late a deadline may fire. */
  constructor(tickMs: number) {
    this.#tickMs = tickMs;
  }

  watch(item: Expiring): void {
    if ((item.watchIndex ?? -1) >= 0) return;
    item.watchIndex = this.#watched.length;
    this.#watched.push(item);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#tickMs);
      // Do not keep the process alive for the sweeper alone.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  unwatch(item: Expiring): void {
    const i = item.watchIndex ?? -1;
    const watched = this.#watched;
    if (i < 0 || watched[i] !== item) return;
    const last = watched.pop()!;
    if (last !== item) {
      watched[i] = last;
      last.watchIndex = i;
    }
    item.watchIndex = -1;
    if (watched.length === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = Date.now();
    const due: Expiring[] = [];
    for (const item of this.#watched) {
      if (item.deadline !== 0 && item.deadline <= now) due.push(item);
    }
    // Expired after the scan: expire() may watch and unwatch, which moves items in the array.
    for (const item of due) {
      // Unwatched or re-armed by an expiry before it (a closing connection clears its timers).
      if ((item.watchIndex ?? -1) < 0 || item.deadline === 0 || item.deadline > now) continue;
      item.deadline = 0;
      item.expire();
    }
  }
}

/** A tick fine enough for the shortest timeout in use (a quarter of it, 25 ms to 1 s). */
export function tickFor(...timeoutsMs: number[]): number {
  return Math.min(1000, Math.max(25, Math.min(...timeoutsMs) / 4));
}
