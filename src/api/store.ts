/**
 * The flows the web UI and API show, kept on disk in SQLite (src/store/) within a byte budget
 * (flow_store_max_bytes): past it the oldest go and are counted in `dropped`.
 *
 * The proxy never waits on the disk: add() and update() only note the flow and tell listeners;
 * the noted flows are written in one transaction every FLUSH_MS (sooner past FLUSH_FLOWS), by a
 * timer. Reads write the queue first, so they see every flow. No Flow object is kept beyond the
 * queue: memory stays flat however many flows there are. A flow whose request or response is still
 * on its way is written as it is now and written again at its next change.
 */
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { FlowDb, type PageRow } from "../store/flow_db.ts";
import { type StoreLocation, storeLocation } from "../store/location.ts";
import type { FlowSummary } from "./summary.ts";

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
  /** Only flows that arrived before the flow with this id (the cursor of the previous page). */
  before?: string;
}

export interface StoreOptions {
  /** A session file to keep (created, or opened and added to); default: a temporary one. */
  file?: string;
  /** The budget: past it the oldest flows go. */
  maxBytes: number;
  /** Body chunk size (stream_large_bodies: no kept body is larger). */
  chunkSize?: number;
}

export interface Page {
  /** Summaries (`intercepted` null), oldest first. */
  summaries: FlowSummary[];
  /** Matching flows in the whole store. */
  total: number;
  /** True when older matching flows exist before this page. */
  more: boolean;
}

const FLUSH_MS = 100;
const FLUSH_FLOWS = 512;
/** Explicitly deleted ids remembered so that a late update does not bring the flow back. */
const REMOVED_MEMORY = 4096;

/** Per live Flow object: its number, and whether it has been written. */
interface FlowState {
  seq: number;
  written: boolean;
}

export class FlowStore {
  maxBytes: number;
  readonly location: StoreLocation;
  readonly #db: FlowDb;
  readonly #states = new WeakMap<Flow, FlowState>();
  readonly #pending = new Map<string, Flow>();
  readonly #removed = new Set<string>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  #nextSeq: number;
  /** Flows numbered below this were evicted or cleared: their updates are ignored. */
  #floor = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: StoreOptions) {
    this.maxBytes = options.maxBytes;
    this.location = storeLocation(options.file);
    try {
      // stream_large_bodies may be tiny (or 0, nothing kept): chunks stay a sensible size.
      const chunkSize = Math.max(64 * 1024, options.chunkSize ?? 4 << 20);
      this.#db = new FlowDb(this.location.path, { chunkSize });
    } catch (e) {
      this.location.remove();
      throw e;
    }
    this.#nextSeq = this.#db.maxSeq + 1;
  }

  /** Where the database is. */
  get path(): string {
    return this.location.path;
  }

  /** Flows kept (written and waiting to be). */
  get size(): number {
    let unwritten = 0;
    for (const flow of this.#pending.values()) if (!this.#written(flow)) unwritten++;
    return this.#db.count + unwritten;
  }

  /** What the written flows take on disk, as the budget counts it. */
  get bytes(): number {
    return this.#db.bytes;
  }

  /** Flows evicted to stay within the budget (over the life of the session file). */
  get dropped(): number {
    return this.#db.dropped;
  }

  get(id: string): Flow | undefined {
    const pending = this.#pending.get(id);
    if (pending !== undefined) return pending;
    const seq = this.#db.seqOf(id);
    return seq === undefined ? undefined : this.#db.read(seq);
  }

  /** Adds a flow that has just begun. */
  add(flow: Flow): void {
    if (this.#closed) return;
    if (this.#states.has(flow)) return this.update(flow);
    this.#states.set(flow, { seq: this.#nextSeq++, written: false });
    this.#queue(flow);
    this.#emit({ type: "added", flow });
  }

  /** Reports a change to a kept flow. A flow no longer here (deleted, cleared, dropped) stays gone. */
  update(flow: Flow): void {
    const state = this.#states.get(flow);
    if (state === undefined || state.seq < this.#floor || this.#closed) return;
    if (this.#removed.has(flow.id)) return;
    this.#queue(flow);
    this.#emit({ type: "updated", flow });
  }

  /** Reports a change to a kept flow (intercepted, resumed) that needs no write. */
  touch(flow: Flow): void {
    const state = this.#states.get(flow);
    if (state !== undefined && state.seq >= this.#floor && !this.#removed.has(flow.id)) {
      this.#emit({ type: "updated", flow });
    }
  }

  remove(id: string): boolean {
    this.flush();
    if (!this.#db.remove(id)) return false;
    this.#removed.add(id);
    if (this.#removed.size > REMOVED_MEMORY) {
      this.#removed.delete(this.#removed.values().next().value as string);
    }
    this.#emit({ type: "removed", id });
    return true;
  }

  clear(): void {
    this.#pending.clear();
    this.#db.clear();
    this.#floor = this.#nextSeq;
    this.#emit({ type: "cleared" });
  }

  /** Changes the budget; flows over it go at once. */
  setLimits(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.flush();
  }

  /** Flows in arrival order, read back one at a time (for exports). */
  *flows(query: ListQuery = {}): Generator<Flow> {
    this.flush();
    yield* this.#db.flows({ filter: query.filter, ...this.#cursors(query) });
  }

  /** Flows in arrival order, whole (the newest `limit` when more match). */
  list(query: ListQuery = {}): Flow[] {
    this.flush();
    const { rows } = this.#db.page({
      filter: query.filter,
      limit: query.limit,
      ...this.#cursors(query),
    });
    return rows.map((r) => this.#db.read(r.seq)).filter((f): f is Flow => f !== undefined);
  }

  /** A page of summaries, oldest first, with the count of all matching flows. */
  page(query: ListQuery): Page {
    this.flush();
    const { rows, more } = this.#db.page({
      filter: query.filter,
      limit: query.limit,
      ...this.#cursors(query),
    });
    return {
      summaries: rows.map((r: PageRow) => this.#db.summary(r.seq))
        .filter((s): s is FlowSummary => s !== undefined),
      total: this.#db.total({ filter: query.filter }),
      more,
    };
  }

  #cursors(query: ListQuery): { afterSeq?: number; beforeSeq?: number } {
    const out: { afterSeq?: number; beforeSeq?: number } = {};
    if (query.after !== undefined) {
      const seq = this.#db.seqOf(query.after);
      // An unknown cursor (deleted, dropped) lists from the start, as before.
      if (seq !== undefined) out.afterSeq = seq;
    }
    if (query.before !== undefined) {
      const seq = this.#db.seqOf(query.before);
      if (seq !== undefined) out.beforeSeq = seq;
    }
    return out;
  }

  /** Calls `fn` on every change; returns a function that stops it. */
  subscribe(fn: (event: StoreEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Writes the queued flows now, then evicts past the budget. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    if (this.#pending.size > 0) this.#write();
    const evicted = this.#db.evict(this.maxBytes);
    if (evicted.count > 0) {
      this.#floor = Math.max(this.#floor, evicted.lastSeq + 1);
      for (const id of evicted.ids) this.#emit({ type: "removed", id });
    }
  }

  #write(): void {
    const batch = [];
    for (const flow of this.#pending.values()) {
      const state = this.#states.get(flow);
      if (state !== undefined && state.seq >= this.#floor) {
        batch.push({ seq: state.seq, flow, written: state.written });
        state.written = true;
      }
    }
    this.#pending.clear();
    this.#db.write(batch);
  }

  #written(flow: Flow): boolean {
    return this.#states.get(flow)?.written ?? false;
  }

  /** Writes what is queued and closes the database; a temporary store is deleted. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
    this.location.remove();
  }

  #queue(flow: Flow): void {
    this.#pending.set(flow.id, flow);
    if (this.#pending.size >= FLUSH_FLOWS) {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#flushSafely(), 0);
    } else this.#timer ??= setTimeout(() => this.#flushSafely(), FLUSH_MS);
  }

  #flushSafely(): void {
    try {
      this.flush();
    } catch (e) {
      // A full disk or a removed file must not end the proxy: the batch is lost, and said so.
      console.error(`mitm: cannot write flows to ${this.path}: ${(e as Error).message}`);
    }
  }

  #emit(event: StoreEvent): void {
    for (const fn of this.#listeners) fn(event);
  }
}
