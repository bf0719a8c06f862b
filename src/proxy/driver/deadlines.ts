/**
 * Coarse timeouts for many connections with one timer. Arming or clearing a deadline is a field
 * write, not a setTimeout/clearTimeout pair per request (which showed up at ~3% of CPU on the
 * keep-alive hot path); one interval sweeps everything watched. Deadlines fire up to one tick late.
 */
export interface Expiring {
  /** When to expire (ms since the epoch); 0 when nothing is due. */
  deadline: number;
  expire(): void;
}

export class Deadlines {
  readonly #watched = new Set<Expiring>();
  readonly #tickMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `tickMs`: how often to look, which is also how late a deadline may fire. */
  constructor(tickMs: number) {
    this.#tickMs = tickMs;
  }

  watch(item: Expiring): void {
    this.#watched.add(item);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#tickMs);
      // Do not keep the process alive for the sweeper alone.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  unwatch(item: Expiring): void {
    this.#watched.delete(item);
    if (this.#watched.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = Date.now();
    for (const item of this.#watched) {
      if (item.deadline !== 0 && item.deadline <= now) {
        item.deadline = 0;
        item.expire();
      }
    }
  }
}

/** A tick fine enough for the shortest timeout in use (a quarter of it, 25 ms to 1 s). */
export function tickFor(...timeoutsMs: number[]): number {
  return Math.min(1000, Math.max(25, Math.min(...timeoutsMs) / 4));
}
