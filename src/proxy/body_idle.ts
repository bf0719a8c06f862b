/**
 * The body idle timeout (body_timeout) on the shared deadline sweeper: while a body is read, each
 * read must bring bytes within the timeout of being asked for, or it fails with the error
 * `stalled()` makes. Arming is a field write per read, no timer per request; waiting for the
 * other side to take bytes (backpressure) does not count, only waiting for bytes to arrive.
 */
import { HttpError } from "../http1/mod.ts";
import type { ProxyContext } from "./context.ts";
import type { Deadlines, Expiring } from "./driver/deadlines.ts";
import type { ReadFn } from "./pump.ts";

export class BodyIdle implements Expiring {
  /** For the sweeper: when the read in progress times out (0: no read in progress). */
  deadline = 0;
  readonly #deadlines: Deadlines;
  readonly #ms: number;
  readonly #stalled: () => Error;
  /** Fails the read in progress. */
  #fail: ((e: Error) => void) | null = null;
  #watched = false;

  /** `ms` <= 0: no timeout. */
  constructor(deadlines: Deadlines, ms: number, stalled: () => Error) {
    this.#deadlines = deadlines;
    this.#ms = ms;
    this.#stalled = stalled;
  }

  /** `read`, failing when it brings nothing within the timeout. Call {@link done} at the end. */
  wrap(read: ReadFn): ReadFn {
    if (this.#ms <= 0) return read;
    if (!this.#watched) {
      this.#watched = true;
      this.#deadlines.watch(this);
    }
    return () =>
      new Promise<Uint8Array | null>((resolve, reject) => {
        this.#fail = reject;
        this.deadline = Date.now() + this.#ms;
        const settle = () => {
          // A read that already timed out must not disarm the one after it.
          if (this.#fail !== reject) return;
          this.#fail = null;
          this.deadline = 0;
        };
        read().then((chunk) => {
          settle();
          resolve(chunk);
        }, (e) => {
          settle();
          reject(e);
        });
      });
  }

  /** Stops watching (the exchange is over). */
  done(): void {
    this.deadline = 0;
    this.#fail = null;
    if (this.#watched) {
      this.#watched = false;
      this.#deadlines.unwatch(this);
    }
  }

  expire(): void {
    const fail = this.#fail;
    this.#fail = null;
    fail?.(this.#stalled());
  }
}

/** body_timeout for a request body: the client stalling gets 408 (see forward.ts). */
export function requestBodyIdle(ctx: ProxyContext): BodyIdle {
  const seconds = ctx.options.body_timeout;
  return new BodyIdle(
    ctx.deadlines,
    seconds * 1000,
    () =>
      new HttpError(
        408,
        `the client stopped sending the request body for ${seconds} s (body_timeout)`,
      ),
  );
}

/** body_timeout for a response body from the origin at `authority()`. */
export function responseBodyIdle(ctx: ProxyContext, authority: () => string): BodyIdle {
  const seconds = ctx.options.body_timeout;
  return new BodyIdle(
    ctx.deadlines,
    seconds * 1000,
    () =>
      new HttpError(
        502,
        `${authority()} stopped sending the response body for ${seconds} s (body_timeout)`,
      ),
  );
}
