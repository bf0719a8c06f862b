/**
 * The header list every HTTP version shares (flows, filters, the API, addons and both codecs).
 * An ordered list of header fields as received: original name case, repeated names and order are
 * kept, so a message can be forwarded byte for byte. Lookups ignore case.
 *
 * ```ts
 * const h = new HeaderList(["Host", "example.com", "Accept", "*\/*"]);
 * h.get("host"); // "example.com"
 * h.set("X-Seen", "1"); // appended at the end; "Host" and "Accept" keep their place
 * ```
 */
export class HeaderList {
  /** Flat pairs: [name0, value0, name1, value1, ...]. */
  readonly raw: string[];

  constructor(raw: string[] = []) {
    this.raw = raw;
  }

  /** Builds a list from [name, value] pairs or a plain object. */
  static from(init: Iterable<readonly [string, string]> | Record<string, string>): HeaderList {
    const raw: string[] = [];
    const pairs = Symbol.iterator in init
      ? init as Iterable<readonly [string, string]>
      : Object.entries(init);
    for (const [name, value] of pairs) raw.push(name, value);
    return new HeaderList(raw);
  }

  /** Number of fields (a repeated name counts each time). */
  get size(): number {
    return this.raw.length >> 1;
  }

  /** All values of `name` joined with ", ", or undefined when absent. */
  get(name: string): string | undefined {
    const raw = this.raw;
    let out: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      if (sameName(raw[i], name)) out = out === undefined ? raw[i + 1] : `${out}, ${raw[i + 1]}`;
    }
    return out;
  }

  /** Every value of `name`, in order (one shared empty list when there is none). */
  getAll(name: string): readonly string[] {
    const raw = this.raw;
    let out: string[] | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      if (sameName(raw[i], name)) (out ??= []).push(raw[i + 1]);
    }
    return out ?? NO_VALUES;
  }

  has(name: string): boolean {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) {
      if (sameName(raw[i], name)) return true;
    }
    return false;
  }

  /** Replaces the first field named `name` in place and removes the others; appends if absent. */
  set(name: string, value: string): this {
    const raw = this.raw;
    let found = false;
    for (let i = 0; i < raw.length; i += 2) {
      if (!sameName(raw[i], name)) continue;
      if (found) {
        raw.splice(i, 2);
        i -= 2;
      } else {
        raw[i + 1] = value;
        found = true;
      }
    }
    if (!found) raw.push(name, value);
    return this;
  }

  append(name: string, value: string): this {
    this.raw.push(name, value);
    return this;
  }

  /** Removes every field named `name`; returns how many were removed. */
  delete(name: string): number {
    const raw = this.raw;
    let removed = 0;
    for (let i = raw.length - 2; i >= 0; i -= 2) {
      if (sameName(raw[i], name)) {
        raw.splice(i, 2);
        removed++;
      }
    }
    return removed;
  }

  /** [name, value] pairs in order. */
  *entries(): IterableIterator<[string, string]> {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i += 2) yield [raw[i], raw[i + 1]];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  clone(): HeaderList {
    return new HeaderList(this.raw.slice());
  }
}

/** What getAll returns for an absent name: framing asks for fields most messages lack. */
const NO_VALUES: readonly string[] = Object.freeze([]);

/** ASCII case-insensitive comparison of two field names. */
export function sameName(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  if (a === b) return true;
  // By character codes: toLowerCase() would make two strings per differing pair, and header
  // lookups compare every field of a message (several lookups per request).
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Splits a list-valued field ("close, Upgrade") into lowercase tokens. Used for Connection,
 * Transfer-Encoding and similar comma-separated fields. Only OWS (space and tab) is trimmed:
 * String.trim() would also strip \v, \f and U+00A0, so "\vchunked" would read as "chunked" here
 * while the origin sees an unknown coding, a classic TE.TE smuggling vector.
 */
export function tokens(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(",")) {
    const t = trimOws(part).toLowerCase();
    if (t) out.push(t);
  }
  return out;
}

/** Removes leading and trailing spaces and tabs (RFC 9110 OWS), nothing else. */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}
