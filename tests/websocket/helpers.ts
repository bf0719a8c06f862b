/** Shared fixtures: RFC 6455 section 5.7 and RFC 7692 section 7.2.3 example frames, and chunking. */
import { FrameParser } from "../../src/websocket/frame_parser.ts";
import type { Frame } from "../../src/websocket/frame.ts";

export const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** RFC 6455 5.7. */
export const RFC = {
  unmaskedHello: hex("81 05 48 65 6c 6c 6f"),
  maskedHello: hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
  fragmentedHel: hex("01 03 48 65 6c"),
  fragmentedLo: hex("80 02 6c 6f"),
  unmaskedPing: hex("89 05 48 65 6c 6c 6f"),
  maskedPong: hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
};

/** RFC 7692 7.2.3: "Hello" compressed, and again with context takeover. */
export const DEFLATE = {
  hello: hex("c1 07 f2 48 cd c9 c9 07 00"),
  helloAgain: hex("c1 05 f2 00 11 00 00"),
  helloStored: hex("c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00"),
  /** "Hello" in two fragments, compressed. */
  helloFragments: [hex("41 03 f2 48 cd"), hex("80 04 c9 c9 07 00")],
};

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The bytes cut three ways (h11's rule): whole, one byte at a time, and random pieces. */
export function* chunkings(bytes: Uint8Array, seed = 1): Generator<[string, Uint8Array[]]> {
  yield ["whole", [bytes]];
  yield ["byte by byte", Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))];
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = 1 + Math.floor(rand() * 40);
    pieces.push(bytes.subarray(i, i + n));
    i += n;
  }
  yield ["random pieces", pieces];
}

export function parseAll(parser: FrameParser, chunks: Uint8Array[]): Frame[] {
  return chunks.flatMap((c) => parser.push(c));
}

/** n random bytes (getRandomValues gives at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}
