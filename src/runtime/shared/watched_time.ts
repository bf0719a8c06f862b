/**
 * Timeouts that count only time the event loop was awake to watch. A plain timer also counts time
 * the loop spent busy elsewhere (many handshakes at once, a loaded machine): after a stall longer
 * than the timeout, Deno runs the due timer before it reads what arrived during the stall, so a
 * peer whose bytes were already waiting in the socket was taken for a silent one (a ClientHello
 * for a server-first protocol, a handshake for a stuck one). Time is therefore counted in short
 * steps, and a step that comes late counts no more than twice its length, which leaves the loop
 * several turns to read what is there.
 */

/** Steps per wait: short enough that a stall costs little, few enough to be cheap. */
const STEPS = 20;
const MIN_STEP_MS = 25;

export interface WatchedTimeout {
  /** Resolves once `ms` of watched time have passed (never, once cancelled). */
  elapsed: Promise<void>;
  cancel(): void;
}

export function watchedTimeout(ms: number): WatchedTimeout {
  const step = Math.max(MIN_STEP_MS, Math.ceil(ms / STEPS));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const elapsed = new Promise<void>((resolve) => {
    let watched = 0;
    let last = Date.now();
    const tick = () => {
      const now = Date.now();
      watched += Math.min(now - last, 2 * step);
      last = now;
      if (watched >= ms) return resolve();
      if (!cancelled) timer = setTimeout(tick, Math.min(step, ms - watched));
    };
    timer = setTimeout(tick, Math.min(step, ms));
  });
  return {
    elapsed,
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
