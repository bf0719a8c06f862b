/**
 * Recorded flows indexed by match key (a hash map of key -> queue), so finding the answer to a
 * request costs one key computation and one lookup, however many flows were recorded.
 *
 * Without reuse each recorded flow answers once, in recording order (mitmproxy's default); with
 * reuse the first recorded flow for a key answers every time.
 */
import type { Flow } from "../flow/flow.ts";
import { matchKey, type MatchOptions } from "./match_key.ts";

interface Queue {
  flows: Flow[];
  /** Index of the next flow to hand out (consumed ones stay in the array, unreferenced later). */
  next: number;
}

export class ReplayIndex {
  readonly #options: MatchOptions;
  readonly #reuse: boolean;
  readonly #byKey = new Map<string, Queue>();
  #remaining = 0;

  constructor(options: MatchOptions, reuse: boolean) {
    this.#options = options;
    this.#reuse = reuse;
  }

  /** Adds a recorded flow (it must have a response). */
  add(flow: Flow): void {
    const key = matchKey(flow.request, this.#options);
    let queue = this.#byKey.get(key);
    if (queue === undefined) this.#byKey.set(key, queue = { flows: [], next: 0 });
    queue.flows.push(flow);
    this.#remaining++;
  }

  /** The recorded flow that answers `flow`'s request, or null; consumed unless reusing. */
  take(flow: Flow): Flow | null {
    const key = matchKey(flow.request, this.#options);
    const queue = this.#byKey.get(key);
    if (queue === undefined) return null;
    if (this.#reuse) return queue.flows[0];
    const found = queue.flows[queue.next];
    // Drop the reference so that a long replay does not keep answered bodies alive.
    (queue.flows as (Flow | undefined)[])[queue.next] = undefined;
    queue.next++;
    this.#remaining--;
    if (queue.next >= queue.flows.length) this.#byKey.delete(key);
    return found;
  }

  /** Distinct match keys still answerable. */
  get keys(): number {
    return this.#byKey.size;
  }

  /** Recorded flows not handed out yet (all of them when reusing). */
  get remaining(): number {
    return this.#remaining;
  }
}
