import { EMPTY } from "./bytes.ts";

/**
 * Bytes received but not yet parsed. Slices handed out by {@link take} are views, not copies; to
 * keep them valid the buffer never writes over a byte once it has been stored: it appends past
 * the end of a buffer it allocated itself, or moves to a new allocation.
 */
export class ReceiveBuffer {
  #buf: Uint8Array = EMPTY;
  #start = 0;
  #end = 0;
  /** True when #buf was allocated here, so bytes past #end may be written. */
  #owned = false;

  /** The backing array; valid bytes are [start, end). Read-only for parsers. */
  get bytes(): Uint8Array {
    return this.#buf;
  }
  get start(): number {
    return this.#start;
  }
  get end(): number {
    return this.#end;
  }
  get length(): number {
    return this.#end - this.#start;
  }

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.#start === this.#end) {
      // Nothing pending: adopt the chunk without copying.
      this.#buf = chunk;
      this.#start = 0;
      this.#end = n;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#buf.length - this.#end >= n) {
      this.#buf.set(chunk, this.#end);
      this.#end += n;
      return;
    }
    const pending = this.#end - this.#start;
    const grown = new Uint8Array(Math.max(pending + n, pending * 2, 4096));
    grown.set(this.#buf.subarray(this.#start, this.#end), 0);
    grown.set(chunk, pending);
    this.#buf = grown;
    this.#start = 0;
    this.#end = pending + n;
    this.#owned = true;
  }

  /** Removes and returns the next `n` bytes as a view (n must be <= length). */
  take(n: number): Uint8Array {
    const view = this.#buf.subarray(this.#start, this.#start + n);
    this.skip(n);
    return view;
  }

  /** Removes and returns everything pending. */
  takeAll(): Uint8Array {
    return this.take(this.length);
  }

  skip(n: number): void {
    this.#start += n;
    if (this.#start >= this.#end) {
      // Drop the reference: views handed out may still point into it, so it is never reused.
      this.#buf = EMPTY;
      this.#start = this.#end = 0;
      this.#owned = false;
    }
  }
}
