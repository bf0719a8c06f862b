/**
 * The HPACK decoder (RFC 7541 sections 3 and 6): a complete header block in, a header list out.
 * Every failure is an {@link HpackError} (a connection error of type COMPRESSION_ERROR), except a
 * list over the size limit, which is an HPACK bomb and ends the connection with
 * ENHANCE_YOUR_CALM: decoding stops at once instead of building the list.
 */
import { latin1 } from "../../http1/bytes.ts";
import { ErrorCode, HpackError } from "../errors.ts";
import { DynamicTable, entrySize } from "./dynamic_table.ts";
import { huffmanDecode } from "./huffman.ts";
import { readInteger } from "./primitives.ts";
import { STATIC_TABLE } from "./static_table.ts";

/** A decoded field: name, value, and whether it came as "never indexed" (RFC 7541 6.2.3). */
export type DecodedField = [name: string, value: string, neverIndexed?: boolean];

export interface DecoderOptions {
  /** Largest dynamic table the peer may use: our SETTINGS_HEADER_TABLE_SIZE (default 4096). */
  maxTableSize?: number;
  /** Largest decoded header list, counted as in RFC 9113 6.5.2 (default 64 KiB). */
  maxHeaderListSize?: number;
}

export class HpackDecoder {
  readonly table: DynamicTable;
  #maxTableSize: number;
  /** Set when our limit went below the table's size: the next block must begin with an update. */
  #updateRequired = false;
  maxHeaderListSize: number;

  constructor(opts: DecoderOptions = {}) {
    this.#maxTableSize = opts.maxTableSize ?? 4096;
    this.maxHeaderListSize = opts.maxHeaderListSize ?? 65536;
    this.table = new DynamicTable(this.#maxTableSize);
  }

  /**
   * Changes the limit on the table size the peer may choose (once the peer acknowledged our new
   * SETTINGS_HEADER_TABLE_SIZE). A lower limit obliges the peer to send a size update (4.2).
   */
  setMaxTableSize(size: number): void {
    if (size < this.table.maxSize) this.#updateRequired = true;
    this.#maxTableSize = size;
  }

  decode(block: Uint8Array): DecodedField[] {
    const out: DecodedField[] = [];
    let listSize = 0;
    let i = 0;
    let fieldsSeen = false;
    while (i < block.length) {
      const b = block[i];
      let name: string;
      let value: string;
      let never = false;
      if (b & 0x80) {
        // 6.1 Indexed Header Field
        const idx = readInteger(block, i, 7);
        i = idx.next;
        [name, value] = this.#entry(idx.value);
      } else if ((b & 0xe0) === 0x20) {
        // 6.3 Dynamic Table Size Update: only at the start of a block (4.2)
        if (fieldsSeen) throw new HpackError("dynamic table size update after a header field");
        const size = readInteger(block, i, 5);
        i = size.next;
        if (size.value > this.#maxTableSize) {
          throw new HpackError(
            `dynamic table size update to ${size.value} exceeds the limit of ${this.#maxTableSize}`,
          );
        }
        this.table.resize(size.value);
        this.#updateRequired = false;
        continue;
      } else {
        // 6.2 Literal Header Field: with incremental indexing (01), without (0000), never (0001)
        const indexing = (b & 0xc0) === 0x40;
        never = (b & 0xf0) === 0x10;
        const prefix = indexing ? 6 : 4;
        const idx = readInteger(block, i, prefix);
        i = idx.next;
        if (idx.value === 0) {
          const n = this.#string(block, i);
          name = n.value;
          i = n.next;
        } else name = this.#entry(idx.value)[0];
        const v = this.#string(block, i);
        value = v.value;
        i = v.next;
        if (indexing) this.table.add(name, value);
      }
      if (this.#updateRequired) {
        throw new HpackError("header block lacks the dynamic table size update the limit requires");
      }
      fieldsSeen = true;
      listSize += entrySize(name, value);
      if (listSize > this.maxHeaderListSize) {
        throw new HpackError(
          `decoded header list is larger than ${this.maxHeaderListSize} bytes`,
          ErrorCode.ENHANCE_YOUR_CALM,
        );
      }
      out.push(never ? [name, value, true] : [name, value]);
    }
    if (this.#updateRequired && block.length > 0) {
      throw new HpackError("header block lacks the dynamic table size update the limit requires");
    }
    return out;
  }

  #entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError("header field index 0 is not valid");
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1];
    const e = this.table.at(index - STATIC_TABLE.length);
    if (e === undefined) throw new HpackError(`header field index ${index} is past the tables`);
    return e;
  }

  #string(block: Uint8Array, offset: number): { value: string; next: number } {
    if (offset >= block.length) throw new HpackError("header block ends before a string");
    const huffman = (block[offset] & 0x80) !== 0;
    const len = readInteger(block, offset, 7);
    const end = len.next + len.value;
    if (end > block.length) throw new HpackError("header string runs past the header block");
    // A string alone may not exceed the whole list's limit (bounds Huffman output too).
    if (len.value > this.maxHeaderListSize) {
      throw new HpackError(
        `header string is larger than ${this.maxHeaderListSize} bytes`,
        ErrorCode.ENHANCE_YOUR_CALM,
      );
    }
    const raw = block.subarray(len.next, end);
    const bytes = huffman ? huffmanDecode(raw, this.maxHeaderListSize) : raw;
    return { value: latin1(bytes), next: end };
  }
}
