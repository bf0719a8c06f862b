/**
 * HPACK primitives (RFC 7541 section 5): prefixed integers and string literals, plus a growable
 * byte writer the encoder writes into.
 */
import { HpackError } from "../errors.ts";

/** Integers above this are refused (no HPACK field needs more; it keeps arithmetic exact). */
export const MAX_INTEGER = 0xffffffff;

/** Appends bytes; grows by doubling. */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
  }
  get length(): number {
    return this.#len;
  }
  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  /** Sets bits of an already written byte (for the flags sharing an integer's first byte). */
  orAt(index: number, bits: number): void {
    this.#buf[index] |= bits;
  }
  /** The bytes written so far (a copy, so the writer may be reused). */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    return out;
  }
}

/**
 * Writes `value` as an integer with an N-bit prefix (RFC 7541 5.1); `flags` are the high bits of
 * the first byte that do not belong to the prefix.
 */
export function writeInteger(w: ByteWriter, value: number, prefixBits: number, flags: number) {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    w.byte(flags | value);
    return;
  }
  w.byte(flags | max);
  let rest = value - max;
  while (rest >= 128) {
    w.byte((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  w.byte(rest);
}

/** A decoded integer and the offset just past it. */
export interface Decoded<T> {
  value: T;
  next: number;
}

/** Reads an integer with an N-bit prefix at `offset` of `block`. */
export function readInteger(
  block: Uint8Array,
  offset: number,
  prefixBits: number,
): Decoded<number> {
  if (offset >= block.length) throw new HpackError("header block ends inside an integer");
  const max = (1 << prefixBits) - 1;
  let value = block[offset] & max;
  let i = offset + 1;
  if (value < max) return { value, next: i };
  let scale = 1;
  for (;;) {
    if (i >= block.length) throw new HpackError("header block ends inside an integer");
    const b = block[i++];
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (value > MAX_INTEGER) throw new HpackError("HPACK integer is larger than 2^32");
    if ((b & 0x80) === 0) return { value, next: i };
    // Zero-valued continuation bytes would let an integer run on forever without growing.
    if (scale > 2 ** 35) throw new HpackError("HPACK integer has too many bytes");
  }
}
