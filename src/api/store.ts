/**
 * The flows the web UI and API show: in arrival order, bounded by count (max_flows) and by kept
 * body bytes (max_flow_bytes). The oldest go first and are counted in `dropped`. Recording to a
 * file does not go through here, so it is never bounded by this.
 */
import type { Flow } from "../flow/flow.ts";
import type { Filter } from "../filter/mod.ts";

export type StoreEvent =
  | { type: "added" | "updated"; flow: Flow }
  | { type: "removed"; id: string }
  | { type: "cleared" };

export interface ListQuery {
  filter?: Filter | null;
  /** At most this many (the newest ones when more match). */
  limit?: number;
  /** Only flows that arrived after the flow with this id. */
  after?: string;
}

export class FlowStore {
  maxFlows: number;
  maxBytes: number;
  /** Flows evicted to stay within the bounds since the start. */
  dropped = 0;
  #flows = new Map<string, { flow: Flow; bytes: number }>();
  #bytes = 0;
  #listeners = new Set<(event: StoreEvent) => void>();

  constructor(maxFlows: number, maxBytes: number) {
    this.maxFlows = maxFlows;
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.#flows.size;
  }

  /** Body bytes held by the flows kept. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: string): Flow | undefined {
    return this.#flows.get(id)?.flow;
  }

  /** Adds a flow that has just begun. */
  add(flow: Flow): void {
    if (this.#flows.has(flow.id)) return this.update(flow);
    const bytes = bodyBytes(flow);
    this.#flows.set(flow.id, { flow, bytes });
    this.#bytes += bytes;
    this.#emit({ type: "added", flow });
    this.#evict();
  }

  /**
   * Reports a change to a kept flow and re-counts its bodies. A flow no longer here (deleted,
   * cleared, dropped) stays gone.
   */
  update(flow: Flow): void {
    const entry = this.#flows.get(flow.id);
    if (entry === undefined) return;
    const bytes = bodyBytes(flow);
    this.#bytes += bytes - entry.bytes;
    entry.bytes = bytes;
    this.#emit({ type: "updated", flow });
    this.#evict();
  }

  /** Reports a change to a kept flow (intercepted, resumed) without re-counting it. */
  touch(flow: Flow): void {
    if (this.#flows.has(flow.id)) this.#emit({ type: "updated", flow });
  }

  remove(id: string): boolean {
    const entry = this.#flows.get(id);
    if (entry === undefined) return false;
    this.#flows.delete(id);
    this.#bytes -= entry.bytes;
    this.#emit({ type: "removed", id });
    return true;
  }

  clear(): void {
    this.#flows.clear();
    this.#bytes = 0;
    this.#emit({ type: "cleared" });
  }

  /** Changes the bounds; flows over the new ones are dropped at once. */
  setLimits(maxFlows: number, maxBytes: number): void {
    this.maxFlows = maxFlows;
    this.maxBytes = maxBytes;
    this.#evict();
  }

  /** Flows in arrival order. */
  list(query: ListQuery = {}): Flow[] {
    const out: Flow[] = [];
    let started = query.after === undefined || !this.#flows.has(query.after);
    for (const [id, { flow }] of this.#flows) {
      if (!started) {
        started = id === query.after;
        continue;
      }
      if (!query.filter || query.filter(flow)) out.push(flow);
    }
    const limit = query.limit ?? Infinity;
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  /** Calls `fn` on every change; returns a function that stops it. */
  subscribe(fn: (event: StoreEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #emit(event: StoreEvent): void {
    for (const fn of this.#listeners) fn(event);
  }

  #evict(): void {
    // The newest flow stays even when it alone is over the byte bound.
    while (
      this.#flows.size > this.maxFlows ||
      (this.#bytes > this.maxBytes && this.#flows.size > 1)
    ) {
      const oldest = this.#flows.keys().next().value as string;
      this.remove(oldest);
      this.dropped++;
    }
  }
}

function bodyBytes(flow: Flow): number {
  return (flow.request.body?.length ?? 0) + (flow.response?.body?.length ?? 0);
}
