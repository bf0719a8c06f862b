/**
 * A body kept in memory for hooks and observers, up to a limit. Chunks are copied: what a
 * connection layer hands out are views into receive buffers the driver may reuse.
 */
export class BodyBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  /** Bytes seen in total, kept or not. */
  seen = 0;
  /** True once the body passed the limit: nothing more is kept. */
  overflowed = false;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  /**
   * Keeps a copy of `chunk`; returns false (keeping nothing more) once the body is over the
   * limit. What was kept before stays until takeChunks(), so a held body can still be sent on.
   */
  add(chunk: Uint8Array): boolean {
    this.seen += chunk.length;
    if (this.overflowed) return false;
    if (this.#size + chunk.length > this.limit) {
      this.overflowed = true;
      return false;
    }
    this.#chunks.push(chunk.slice());
    this.#size += chunk.length;
    return true;
  }

  /** Whether add(chunk) would keep it (the body stays within the limit). */
  fits(chunk: Uint8Array): boolean {
    return !this.overflowed && this.#size + chunk.length <= this.limit;
  }

  /**
   * Keeps a copy of `chunk` for observers of a body that streams: past the limit the copies
   * already kept are dropped too (nothing will send them), so a long transfer does not carry up
   * to `limit` bytes per direction until it ends.
   */
  keep(chunk: Uint8Array): void {
    if (!this.add(chunk) && this.#chunks.length > 0) this.takeChunks();
  }

  /** The kept bytes as one array (null when the body overflowed). */
  bytes(): Uint8Array | null {
    if (this.overflowed) return null;
    if (this.#chunks.length === 1) return this.#chunks[0];
    const out = new Uint8Array(this.#size);
    let o = 0;
    for (const c of this.#chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  /** Removes and returns the kept chunks (to send a held body on after all). */
  takeChunks(): Uint8Array[] {
    const out = this.#chunks;
    this.#chunks = [];
    this.#size = 0;
    return out;
  }
}
