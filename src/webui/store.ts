/**
 * The flows the UI holds, in the list's order (arrival, or the sort the proxy's store answered),
 * with an id -> position index so that live updates of listed flows cost O(1) each.
 */
import type { FlowsEvent, Summary } from "./types.ts";

export class FlowStore {
  flows: Summary[] = [];
  private index = new Map<string, number>();
  /** Goes up on every change; views compare it to know when to recompute. */
  version = 0;

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

  /** A later page of a sorted list goes after the loaded flows. */
  append(later: Summary[]): void {
    this.flows = this.flows.concat(later.filter((f) => !this.index.has(f.id)));
    this.reindex();
  }

  /** A new flow where a sorted list puts it. */
  insertAt(position: number, f: Summary): void {
    this.flows.splice(position, 0, f);
    this.reindex();
  }

  private reindex(): void {
    this.index = new Map();
    this.flows.forEach((f, i) => this.index.set(f.id, i));
    this.version++;
  }
}
