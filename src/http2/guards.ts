/**
 * Rapid reset defence (CVE-2023-44487): a peer that opens streams and resets them at once makes
 * the server start work it never finishes, while the concurrency limit never binds. Count the
 * streams reset by the peer (or refused by us) within a sliding window of received frames.
 */
import type { Http2Limits } from "./events.ts";

export class RecentResets {
  readonly #max: number;
  readonly #window: number;
  #frame = 0;
  /** Frame numbers at which the recent resets happened, oldest first. */
  #at: number[] = [];
  #head = 0;

  constructor(limits: Pick<Http2Limits, "maxResetsInWindow" | "resetWindowFrames">) {
    this.#max = limits.maxResetsInWindow;
    this.#window = limits.resetWindowFrames;
  }

  countFrame(): void {
    this.#frame++;
  }

  /** Records a reset; true when there were too many within the window. */
  add(): boolean {
    const at = this.#at;
    const oldest = this.#frame - this.#window;
    while (this.#head < at.length && at[this.#head] <= oldest) this.#head++;
    if (this.#head > 1024) {
      this.#at = at.slice(this.#head);
      this.#head = 0;
    }
    this.#at.push(this.#frame);
    return this.#at.length - this.#head > this.#max;
  }
}
