/**
 * Byte helpers for the codec. HTTP/1.1 heads are octets; we map them to JS strings one byte per
 * char (ISO-8859-1), which round-trips every byte exactly, unlike TextDecoder("latin1") which is
 * really windows-1252.
 */

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

export const EMPTY: Uint8Array = new Uint8Array(0);
export const CRLF: Uint8Array = Uint8Array.of(CR, LF);

/** Decodes bytes[start, end) one byte per char. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const n = end - start;
  if (n <= 0) return "";
  if (n <= 2048) {
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  let s = "";
  for (let i = start; i < end; i += 2048) {
    const j = Math.min(i + 2048, end);
    s += String.fromCharCode.apply(null, bytes.subarray(i, j) as unknown as number[]);
  }
  return s;
}

/** Number of bytes `s` takes when encoded by {@link writeString}. */
export function byteLength(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return utf8Length(s);
  }
  return s.length;
}

/**
 * Writes `s` at `offset` and returns the new offset. Chars up to U+00FF become one byte each (so
 * parsed heads are reproduced byte for byte); a string holding any char above that (only possible
 * when an addon sets it) is written as UTF-8.
 */
export function writeString(s: string, out: Uint8Array, offset: number): number {
  const start = offset;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return writeUtf8(s, out, start);
    out[offset++] = c;
  }
  return offset;
}

/** Encodes a string as in {@link writeString}. */
export function encodeString(s: string): Uint8Array {
  const out = new Uint8Array(byteLength(s));
  writeString(s, out, 0);
  return out;
}

const utf8 = new TextEncoder();

function utf8Length(s: string): number {
  return utf8.encode(s).length;
}

function writeUtf8(s: string, out: Uint8Array, offset: number): number {
  const { written } = utf8.encodeInto(s, out.subarray(offset));
  return offset + written;
}

const typedIndexOf = Uint8Array.prototype.indexOf;

/** Index of `byte` in bytes[from, to), or -1. */
export function indexOfByte(bytes: Uint8Array, byte: number, from: number, to: number): number {
  // The typed array's own indexOf, also for a Buffer (whose override is JavaScript in Deno);
  // no view is made when the range runs to the end.
  if (to >= bytes.length) return typedIndexOf.call(bytes, byte, from);
  const i = typedIndexOf.call(bytes.subarray(from, to), byte);
  return i < 0 ? -1 : from + i;
}

/** Joins byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
