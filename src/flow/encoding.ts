/**
 * Content-Encoding: decoding for display, filters and addons, and encoding for bodies an addon
 * sets. node:zlib does gzip, deflate, br and zstd synchronously on both Deno 2.9 and Bun 1.4.
 */
import zlib from "node:zlib";
import { tokens } from "../http/headers.ts";

/** Codings we can undo; identity needs nothing. */
export const SUPPORTED_ENCODINGS = ["gzip", "x-gzip", "deflate", "br", "zstd", "identity"];

type Zstd = {
  zstdDecompressSync(b: Uint8Array): Uint8Array;
  zstdCompressSync(b: Uint8Array): Uint8Array;
};

function decodeOne(body: Uint8Array, coding: string): Uint8Array {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return zlib.gunzipSync(body);
    case "deflate":
      // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
      try {
        return zlib.inflateSync(body);
      } catch {
        return zlib.inflateRawSync(body);
      }
    case "br":
      return zlib.brotliDecompressSync(body);
    case "zstd":
      return (zlib as unknown as Zstd).zstdDecompressSync(body);
    case "identity":
      return body;
  }
  throw new Error(`unsupported content-encoding "${coding}"`);
}

function encodeOne(body: Uint8Array, coding: string): Uint8Array {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return zlib.gzipSync(body);
    case "deflate":
      return zlib.deflateSync(body);
    case "br":
      return zlib.brotliCompressSync(body);
    case "zstd":
      return (zlib as unknown as Zstd).zstdCompressSync(body);
    case "identity":
      return body;
  }
  throw new Error(`unsupported content-encoding "${coding}"`);
}

/** Undoes the codings listed in a Content-Encoding value (applied in order, undone in reverse). */
export function decodeContent(body: Uint8Array, contentEncoding: string | undefined): Uint8Array {
  const codings = tokens(contentEncoding);
  let out = body;
  for (let i = codings.length - 1; i >= 0; i--) out = new Uint8Array(decodeOne(out, codings[i]));
  return out;
}

/** Applies the codings listed in a Content-Encoding value. */
export function encodeContent(body: Uint8Array, contentEncoding: string | undefined): Uint8Array {
  let out = body;
  for (const coding of tokens(contentEncoding)) out = new Uint8Array(encodeOne(out, coding));
  return out;
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return null;
  }
}
