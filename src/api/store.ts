/**
 * The flows the web UI and API show, kept on disk in SQLite (src/store/) within a byte budget
 * (flow_store_max_bytes): past it the oldest go and are counted in `dropped`.
 *
 * The proxy never waits on the disk: add() and update() only note the flow and tell listeners.
 * Every FLUSH_MS (sooner past FLUSH_FLOWS) the noted flows go to the writer (src/store/writer.ts)
 * as one batch in one transaction: read from the live flows on this thread (the default), or
 * copied as plain data for a writer thread. With the inline writer, a flow that is done (finish())
 * is written at once into the open transaction instead of waiting in the queue, so that the Flow
 * (body and all) can be collected young, as without the store; the next flush commits it. Reads
 * wait until what was handed over is committed, then read through a connection of their own. No
 * Flow object is kept beyond the queue: memory stays flat however many flows there are. A flow
 * still on its way is written as it is and written again at its next change.
 */
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { FlowDb, type PageRow } from "../store/flow_db.ts";
import type { SortCursor, SortOrder } from "../store/sort_sql.ts";
import { type StoreLocation, storeLocation } from "../store/location.ts";
import {
  StoreWriter,
  type WriteItem,
  type WriterReply,
  type WriterRequest,
} from "../store/writer.ts";
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
  /** Write on this thread instead of a worker (flow_store_writer=inline). */
  inlineWriter?: boolean;
}

export interface Page {
  /** Summaries (`intercepted` null), oldest first. */
  summaries: FlowSummary[];
  /** Matching flows in the whole store. */
  total: number;
  /** True when older matching flows exist before this page. */
  more: boolean;
}

/** A page in a sort order; `last` is where it ended, for the next page (null when none follows). */
export interface SortedPage extends Page {
  last: SortCursor | null;
}

const FLUSH_MS = 250;
const FLUSH_FLOWS = 512;
/**
 * Flows handed to the writer and not yet written, past which new ones are dropped (and counted)
 * rather than queued: memory stays bounded even if the disk cannot keep up with the proxy.
 */
const MAX_BACKLOG = 20_000;
/** Explicitly deleted ids remembered so that a late update does not bring the flow back. */
const REMOVED_MEMORY = 4096;

/** Per live Flow object: its number, and whether it has been handed to the writer. */
interface FlowState {
  seq: number;
  written: boolean;
  /** Dropped before it was written (the writer had fallen behind). */
  gone?: boolean;
}

export class FlowStore {
  maxBytes: number;
  readonly location: StoreLocation;
  /** Reads only: the writer thread has the connection that writes. */
  readonly #db: FlowDb;
  readonly #writer: StoreWriter;
  /**
   * Where a flow's FlowState is kept: a property of the Flow under this store's own symbol rather
   * than a WeakMap entry, which JavaScriptCore's collector has to revisit for every flow.
   */
  readonly #stateKey = Symbol("flow store state");
  readonly #pending = new Map<string, Flow>();
  readonly #removed = new Set<string>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  #nextSeq: number;
  /** Flows numbered below this were evicted or cleared: their updates are ignored. */
  #floor = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** #timer is the flush at once (past FLUSH_FLOWS). */
  #flushSoon = false;
  #closed = false;
  /** The last request handed to the writer (reads wait for it). */
  #last: Promise<unknown> = Promise.resolve();
  /** New flows handed over but not yet answered for (counted in size meanwhile). */
  #inFlight = 0;
  #count: number;
  #bytes: number;
  #dropped: number;
  /** A write that failed, said once. */
  #failure: string | null = null;
  /** Flows dropped because the writer fell behind (added to `dropped`). */
  #behind = 0;
  /** New flows written by finish() in the open transaction (counted in size until committed). */
  #uncommitted = 0;
  /** finish() wrote something (new or not) that the next flush must commit. */
  #toCommit = false;

  constructor(options: StoreOptions) {
    this.maxBytes = options.maxBytes;
    this.location = storeLocation(options.file);
    // stream_large_bodies may be tiny (or 0, nothing kept): chunks stay a sensible size.
    const chunkSize = Math.max(64 * 1024, options.chunkSize ?? 4 << 20);
    // A temporary store is deleted at exit: no fsync (a killed proxy loses nothing committed).
    const durable = !this.location.temporary;
    try {
      this.#db = new FlowDb(this.location.path, { chunkSize, durable });
    } catch (e) {
      this.location.remove();
      throw e;
    }
    this.#writer = new StoreWriter(this.location.path, chunkSize, {
      durable,
      inline: options.inlineWriter,
    });
    this.#nextSeq = this.#db.maxSeq + 1;
    this.#count = this.#db.count;
    this.#bytes = this.#db.bytes;
    this.#dropped = this.#db.dropped;
  }

  /** Where the database is. */
  get path(): string {
    return this.location.path;
  }

  /** "worker" when writes happen on a thread of their own, else "inline". */
  get writerMode(): string {
    return this.#writer.mode;
  }

  /** Flows kept (written, being written and waiting to be). */
  get size(): number {
    let unwritten = 0;
    for (const flow of this.#pending.values()) if (!this.#written(flow)) unwritten++;
    return this.#count + this.#inFlight + this.#uncommitted + unwritten;
  }

  /** What the written flows take on disk, as the budget counts it. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Flows evicted to stay within the budget (over the life of the session file). */
  get dropped(): number {
    return this.#dropped + this.#behind;
  }

  /**
   * The flow with this id: the live object while it is queued, else read from the database. A flow
   * read back can be changed and given to update() (marks, comments), which writes it in place.
   */
  async get(id: string): Promise<Flow | undefined> {
    const pending = this.#pending.get(id);
    if (pending !== undefined) return pending;
    await this.sync();
    const seq = this.#db.seqOf(id);
    const flow = seq === undefined ? undefined : this.#db.read(seq);
    if (flow !== undefined) this.#setState(flow, { seq: seq!, written: true });
    return flow;
  }

  /** Adds a flow that has just begun. */
  add(flow: Flow): void {
    if (this.#closed) return;
    if (this.#stateOf(flow) !== undefined) return this.update(flow);
    this.#setState(flow, { seq: this.#nextSeq++, written: false });
    this.#queue(flow);
    if (this.#heard) this.#emit({ type: "added", flow });
  }

  /** Reports a change to a kept flow. A flow no longer here (deleted, cleared, dropped) stays gone. */
  update(flow: Flow): void {
    const state = this.#stateOf(flow);
    if (state === undefined || state.seq < this.#floor || this.#closed) return;
    if (state.gone || this.#removed.has(flow.id)) return;
    this.#queue(flow);
    if (this.#heard) this.#emit({ type: "updated", flow });
  }

  /**
   * Reports that a kept flow is done (flow_done). The writer takes it now (inline: written in
   * the transaction the next flush commits; for the worker: its rows added to the next batch), so
   * that the Flow can be collected young.
   */
  finish(flow: Flow): void {
    const state = this.#stateOf(flow);
    if (state === undefined || state.seq < this.#floor) return;
    if (this.#closed || state.gone || this.#removed.has(flow.id)) return;
    this.#pending.delete(flow.id);
    try {
      this.#writer.writeNow({ seq: state.seq, written: state.written, flow });
      this.#toCommit = true;
      if (!state.written) this.#uncommitted++;
      state.written = true;
    } catch (e) {
      // The open transaction is lost with it: said once, as a failed batch is.
      this.#uncommitted = 0;
      this.#toCommit = false;
      this.#writeFailed(e as Error);
    }
    this.#scheduleFlush(this.#pending.size + this.#uncommitted);
    if (this.#heard) this.#emit({ type: "updated", flow });
  }

  /** Reports a change to a kept flow (intercepted, resumed) that needs no write. */
  touch(flow: Flow): void {
    const state = this.#stateOf(flow);
    if (state !== undefined && state.seq >= this.#floor && !this.#removed.has(flow.id)) {
      if (this.#heard) this.#emit({ type: "updated", flow });
    }
  }

  async remove(id: string): Promise<boolean> {
    this.flush();
    const reply = await this.#request({ op: "remove", id });
    if (!reply.removed) return false;
    this.#removed.add(id);
    if (this.#removed.size > REMOVED_MEMORY) {
      this.#removed.delete(this.#removed.values().next().value as string);
    }
    this.#emit({ type: "removed", id });
    return true;
  }

  async clear(): Promise<void> {
    this.#pending.clear();
    this.#uncommitted = 0; // committed, then deleted, by the clear below
    this.#toCommit = false;
    this.#floor = this.#nextSeq;
    this.#emit({ type: "cleared" });
    await this.#request({ op: "clear" });
  }

  /** Changes the budget; flows over it go at once. */
  async setLimits(maxBytes: number): Promise<void> {
    this.maxBytes = maxBytes;
    this.flush();
    await this.#request({ op: "evict", maxBytes });
  }

  /** Flows in arrival order, read back one at a time (for exports). */
  async *flows(query: ListQuery = {}): AsyncGenerator<Flow> {
    await this.sync();
    yield* this.#db.flows({ filter: query.filter, ...this.#cursors(query) });
  }

  /** Flows in arrival order, whole (the newest `limit` when more match). */
  async list(query: ListQuery = {}): Promise<Flow[]> {
    await this.sync();
    const { rows } = this.#db.page({
      filter: query.filter,
      limit: query.limit,
      ...this.#cursors(query),
    });
    return rows.map((r) => this.#db.read(r.seq)).filter((f): f is Flow => f !== undefined);
  }

  /** A page of summaries, oldest first, with the count of all matching flows. */
  async page(query: ListQuery): Promise<Page> {
    await this.sync();
    const { rows, more } = this.#db.page({
      filter: query.filter,
      limit: query.limit,
      ...this.#cursors(query),
    });
    const cursors = query.after !== undefined || query.before !== undefined;
    return {
      summaries: rows.map((r: PageRow) => this.#db.summary(r.seq))
        .filter((s): s is FlowSummary => s !== undefined),
      // A first page that holds every match is the count: a filter SQL cannot answer from an
      // index (a body's text, say) then reads the store once, not twice.
      total: !more && !cursors ? rows.length : this.#db.total({ filter: query.filter }),
      more,
    };
  }

  /**
   * The first `limit` matching flows in a sort order (after `after`, where the page before ended),
   * with the count of all matching flows; undefined when `after` names a flow by its number alone
   * and that flow is gone.
   */
  async sortedPage(
    query: {
      filter?: Filter | null;
      limit?: number;
      sort: SortOrder;
      /** Without `value`: after the flow numbered `seq`, at its value. */
      after?: SortCursor | { seq: number };
    },
  ): Promise<SortedPage | undefined> {
    await this.sync();
    let after: SortCursor | undefined;
    if (query.after !== undefined) {
      const at = query.after;
      const value = "value" in at ? at.value : this.#db.sortValueOf(at.seq, query.sort.column);
      if (value === undefined) return undefined;
      after = { value, seq: at.seq };
    }
    const { rows, more } = this.#db.sortedPage({ ...query, after });
    const end = rows.at(-1);
    return {
      summaries: rows.map((r) => this.#db.summary(r.seq)).filter((s): s is FlowSummary =>
        s !== undefined
      ),
      // As in page(): a first page with every match is the count.
      total: !more && !query.after ? rows.length : this.#db.total({ filter: query.filter }),
      more,
      last: more && end ? { value: end.value, seq: end.seq } : null,
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

  /** Hands the queued flows to the writer now (it writes them in one transaction). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushSoon = false;
    if (this.#closed || (this.#pending.size === 0 && !this.#toCommit)) return;
    if (this.#inFlight > MAX_BACKLOG) return this.#fellBehind();
    const batch: WriteItem[] = [];
    let fresh = 0;
    for (const flow of this.#pending.values()) {
      const state = this.#stateOf(flow);
      if (state !== undefined && state.seq >= this.#floor) {
        batch.push({ seq: state.seq, written: state.written, flow });
        if (!state.written) fresh++;
        state.written = true;
      }
    }
    this.#pending.clear();
    // An empty batch still commits what finish() wrote.
    fresh += this.#uncommitted;
    this.#uncommitted = 0;
    if (batch.length === 0 && !this.#toCommit) return;
    this.#toCommit = false;
    this.#inFlight += fresh;
    void this.#track(this.#writer.write(batch, this.maxBytes))
      .catch(() => {}) // said once in #track
      .finally(() => (this.#inFlight -= fresh));
  }

  /** The writer has no room: the queued new flows are counted as dropped and stay gone. */
  #fellBehind(): void {
    if (this.#behind === 0) {
      console.error(
        "mitm: the flow store cannot keep up with the traffic; flows are dropped until it does",
      );
    }
    for (const flow of this.#pending.values()) {
      const state = this.#stateOf(flow);
      if (state === undefined || state.written || state.gone) continue;
      state.gone = true;
      this.#behind++;
    }
    this.#pending.clear();
  }

  /** Resolves once everything added so far is written. */
  async sync(): Promise<void> {
    this.flush();
    await this.#last.catch(() => {});
  }

  #stateOf(flow: Flow): FlowState | undefined {
    return (flow as unknown as Record<symbol, FlowState | undefined>)[this.#stateKey];
  }

  #setState(flow: Flow, state: FlowState): void {
    (flow as unknown as Record<symbol, FlowState>)[this.#stateKey] = state;
  }

  #written(flow: Flow): boolean {
    return this.#stateOf(flow)?.written ?? false;
  }

  /** Writes what is queued and closes the database; a temporary store is deleted. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.sync();
    this.#closed = true;
    await this.#writer.close().catch(() => {});
    this.#db.close();
    this.location.remove();
  }

  /** Sends a request after the ones before it; applies its reply to the totals. */
  #request(req: WriterRequest): Promise<WriterReply> {
    return this.#track(this.#writer.request(req));
  }

  /** Applies the reply of the writer's latest request to the totals (reads wait for it). */
  #track(pending: Promise<WriterReply>): Promise<WriterReply> {
    const result = pending.then((reply) => {
      this.#count = reply.count;
      this.#bytes = reply.bytes;
      this.#dropped = reply.dropped;
      if (reply.evicted.ids.length > 0) {
        this.#floor = Math.max(this.#floor, reply.evicted.lastSeq + 1);
        for (const id of reply.evicted.ids) this.#emit({ type: "removed", id });
      }
      return reply;
    }, (e: Error) => {
      this.#writeFailed(e);
      throw e;
    });
    this.#last = result;
    return result;
  }

  /** A full disk or a removed file must not end the proxy: the batch is lost, and said so once. */
  #writeFailed(e: Error): void {
    if (this.#failure === null) {
      this.#failure = e.message;
      console.error(`mitm: cannot write flows to ${this.path}: ${e.message}`);
    }
  }

  #queue(flow: Flow): void {
    this.#pending.set(flow.id, flow);
    this.#scheduleFlush(this.#pending.size + this.#uncommitted);
  }

  /**
   * A flush soon (at once past FLUSH_FLOWS flows waiting). The flush at once is armed once: armed
   * anew for every flow, it would be put off for as long as flows keep coming.
   */
  #scheduleFlush(waiting: number): void {
    if (waiting >= FLUSH_FLOWS) {
      if (this.#flushSoon) return;
      clearTimeout(this.#timer);
      this.#flushSoon = true;
      this.#timer = setTimeout(() => this.flush(), 0);
    } else this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  #emit(event: StoreEvent): void {
    for (const fn of this.#listeners) fn(event);
  }

  /** True when someone listens (no event is made for nobody: three a flow otherwise). */
  get #heard(): boolean {
    return this.#listeners.size > 0;
  }
}
