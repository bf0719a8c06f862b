/**
 * The HPACK dynamic table (RFC 7541 2.3.2 and 4): a FIFO of header fields, newest first, whose
 * size (name + value + 32 per entry, in bytes) never exceeds its maximum; adding evicts the
 * oldest entries as needed, and an entry larger than the whole table just empties it (4.4).
 */
import { STATIC_TABLE } from "./static_table.ts";

/** Bytes an entry counts for (RFC 7541 4.1). Names and values are one byte per char. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

export class DynamicTable {
  /** Oldest first: the newest entry is at the end, so adding is a push. */
  #entries: [string, string][] = [];
  #size = 0;
  #max: number;

  constructor(maxSize = 4096) {
    this.#max = maxSize;
  }

  get size(): number {
    return this.#size;
  }
  get maxSize(): number {
    return this.#max;
  }
  get length(): number {
    return this.#entries.length;
  }

  /** Changes the maximum size, evicting entries that no longer fit. */
  resize(maxSize: number): void {
    this.#max = maxSize;
    this.#evict(0);
  }

  add(name: string, value: string): void {
    const size = entrySize(name, value);
    this.#evict(size);
    if (size > this.#max) return; // 4.4: the table is now empty and the entry is not added
    this.#entries.push([name, value]);
    this.#size += size;
  }

  /** Entry at dynamic index `i` (1 = newest), or undefined. */
  at(i: number): readonly [string, string] | undefined {
    return this.#entries[this.#entries.length - i];
  }

  /** Entries newest first (for tests and debugging). */
  list(): [string, string][] {
    return this.#entries.slice().reverse();
  }

  /** Index in the combined address space (static first, RFC 7541 2.3.3) of an exact match, or 0. */
  findExact(name: string, value: string): number {
    const e = this.#entries;
    for (let i = e.length - 1; i >= 0; i--) {
      if (e[i][0] === name && e[i][1] === value) return STATIC_TABLE.length + e.length - i;
    }
    return 0;
  }

  /** Combined index of an entry with this name, or 0. */
  findName(name: string): number {
    const e = this.#entries;
    for (let i = e.length - 1; i >= 0; i--) {
      if (e[i][0] === name) return STATIC_TABLE.length + e.length - i;
    }
    return 0;
  }

  #evict(room: number): void {
    let drop = 0;
    while (drop < this.#entries.length && this.#size + room > this.#max) {
      const [n, v] = this.#entries[drop++];
      this.#size -= entrySize(n, v);
    }
    if (drop > 0) this.#entries.splice(0, drop);
  }
}
