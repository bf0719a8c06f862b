/**
 * The HPACK encoder (RFC 7541): a header list in, a header block out. It indexes fields into the
 * dynamic table unless they are sensitive or churn too much to be worth it, sends sensitive
 * fields as "never indexed" (7.1.3) so intermediaries keep them out of their tables too, and
 * Huffman-codes a string when that is shorter.
 */
import { encodeString, latin1 } from "../../http1/bytes.ts";
import { DynamicTable, entrySize } from "./dynamic_table.ts";
import { huffmanEncode, huffmanLength } from "./huffman.ts";
import { ByteWriter, writeInteger } from "./primitives.ts";
import { STATIC_EXACT, STATIC_NAME } from "./static_table.ts";

/** A field to encode; `sensitive` forces "never indexed". */
export type EncoderField = readonly [name: string, value: string, sensitive?: boolean];

export interface EncoderOptions {
  /** Our own cap on the table size, whatever the peer allows (default 4096). */
  maxTableSize?: number;
  /** "auto" (shorter of the two), "always" or "never". */
  huffman?: "auto" | "always" | "never";
  /** Whether to add a (non-sensitive) field to the dynamic table; default {@link defaultShouldIndex}. */
  shouldIndex?: (name: string, value: string) => boolean;
}

/** Credentials: never indexed, so a shared table cannot leak them by size probing (RFC 7541 7.1). */
const SENSITIVE = new Set(["authorization", "proxy-authorization"]);

/** Fields whose values change on nearly every message: indexing them would only evict others. */
const CHURNING = new Set([
  ":path",
  "content-length",
  "content-range",
  "date",
  "etag",
  "if-modified-since",
  "if-none-match",
  "last-modified",
  "age",
  "expires",
]);

/** Whether a field is a credential; short cookies too, being easy to guess (RFC 7541 7.1.3). */
export function isSensitive(name: string, value: string): boolean {
  return SENSITIVE.has(name) || ((name === "cookie" || name === "set-cookie") && value.length < 20);
}

/**
 * A string as the peer will decode it: one char per byte. Chars above U+00FF (only possible when
 * an addon sets them) go out as UTF-8, so the table must hold their UTF-8 bytes too, or its size
 * accounting would drift from the decoder's.
 */
function wire(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return latin1(encodeString(s));
  }
  return s;
}

export function defaultShouldIndex(name: string, value: string): boolean {
  return !CHURNING.has(name) && entrySize(name, value) <= 1024;
}

export class HpackEncoder {
  readonly table: DynamicTable;
  readonly #cap: number;
  readonly #huffman: "auto" | "always" | "never";
  readonly #shouldIndex: (name: string, value: string) => boolean;
  /** Size updates owed at the start of the next block: the smallest since the last block and
   * the final size (RFC 7541 4.2), or null. */
  #pending: { smallest: number; final: number } | null = null;
  readonly #w = new ByteWriter();

  constructor(opts: EncoderOptions = {}) {
    this.#cap = opts.maxTableSize ?? 4096;
    this.#huffman = opts.huffman ?? "auto";
    this.#shouldIndex = opts.shouldIndex ?? defaultShouldIndex;
    this.table = new DynamicTable(Math.min(4096, this.#cap));
    // The peer's decoder starts at 4096; if our cap is lower, tell it in the first block.
    if (this.#cap < 4096) this.#pending = { smallest: this.#cap, final: this.#cap };
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed: use min(it, our cap) from the next block. */
  setPeerMaxTableSize(size: number): void {
    const next = Math.min(size, this.#cap);
    if (next === this.table.maxSize && this.#pending === null) return;
    const p = this.#pending;
    this.#pending = { smallest: Math.min(p?.smallest ?? next, next), final: next };
    this.table.resize(next);
  }

  encode(fields: Iterable<EncoderField>): Uint8Array {
    const w = this.#w;
    const p = this.#pending;
    if (p !== null) {
      if (p.smallest < p.final) writeInteger(w, p.smallest, 5, 0x20);
      writeInteger(w, p.final, 5, 0x20);
      this.#pending = null;
    }
    for (const [rawName, rawValue, sensitiveFlag] of fields) {
      const name = wire(rawName);
      const value = wire(rawValue);
      const sensitive = sensitiveFlag ?? isSensitive(name, value);
      const key = name + "\0" + value;
      if (!sensitive) {
        const exact = STATIC_EXACT.get(key) ?? this.table.findExact(name, value);
        if (exact > 0) {
          writeInteger(w, exact, 7, 0x80); // 6.1
          continue;
        }
      }
      const nameIndex = STATIC_NAME.get(name) ?? this.table.findName(name);
      if (sensitive) {
        writeInteger(w, nameIndex, 4, 0x10); // 6.2.3 never indexed
      } else if (this.#shouldIndex(name, value) && entrySize(name, value) <= this.table.maxSize) {
        writeInteger(w, nameIndex, 6, 0x40); // 6.2.1 incremental indexing
        this.table.add(name, value);
      } else {
        writeInteger(w, nameIndex, 4, 0x00); // 6.2.2 without indexing
      }
      if (nameIndex === 0) this.#string(name);
      this.#string(value);
    }
    return w.take();
  }

  #string(s: string): void {
    const raw = encodeString(s);
    const useHuffman = this.#huffman === "always" ||
      (this.#huffman === "auto" && huffmanLength(raw) < raw.length);
    const bytes = useHuffman ? huffmanEncode(raw) : raw;
    writeInteger(this.#w, bytes.length, 7, useHuffman ? 0x80 : 0);
    this.#w.bytes(bytes);
  }
}
