/**
 * The flows the UI holds, in arrival order, with an id -> position index so that live updates
 * cost O(1) each, and a cached sorted view that is rebuilt only when something changed.
 */
import type { FlowsEvent, Summary } from "./types.ts";

export type SortKey = string | null;

export class FlowStore {
  flows: Summary[] = [];
  private index = new Map<string, number>();
  /** Goes up on every change; views compare it to know when to recompute. */
  version = 0;
  private sortedCache: { version: number; key: string; rows: Summary[] } | null = null;

  get(id: string): Summary | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.flows[i];
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  replaceAll(flows: Summary[]): void {
    this.flows = flows.slice();
    this.reindex();
  }

  /** Older flows from the next page go in front. */
  prepend(older: Summary[]): void {
    const fresh = older.filter((f) => !this.index.has(f.id));
    this.flows = fresh.concat(this.flows);
    this.reindex();
  }

  upsert(f: Summary): void {
    const i = this.index.get(f.id);
    if (i === undefined) {
      this.index.set(f.id, this.flows.length);
      this.flows.push(f);
    } else this.flows[i] = f;
    this.version++;
  }

  remove(ids: Iterable<string>): void {
    const gone = new Set(ids);
    if (!gone.size) return;
    this.flows = this.flows.filter((f) => !gone.has(f.id));
    this.reindex();
  }

  apply(ev: FlowsEvent): void {
    if (ev.clear) this.replaceAll([]);
    this.remove(ev.remove);
    for (const f of ev.upsert) this.upsert(f);
  }

  /** The flows sorted by `sortValue` (stable: equal keys keep arrival order). */
  sorted(
    key: string | null,
    descending: boolean,
    sortValue: (f: Summary) => string | number,
  ): Summary[] {
    if (key === null) return this.flows;
    const cacheKey = `${key}:${descending}`;
    const c = this.sortedCache;
    if (c && c.version === this.version && c.key === cacheKey) return c.rows;
    const keyed = this.flows.map((f, i) => ({ f, i, v: sortValue(f) }));
    const dir = descending ? -1 : 1;
    keyed.sort((a, b) => (a.v < b.v ? -dir : a.v > b.v ? dir : a.i - b.i));
    const rows = keyed.map((k) => k.f);
    this.sortedCache = { version: this.version, key: cacheKey, rows };
    return rows;
  }

  private reindex(): void {
    this.index = new Map();
    this.flows.forEach((f, i) => this.index.set(f.id, i));
    this.version++;
  }
}
