/**
 * The flow store's database: writing batches of flows in one transaction, evicting the oldest
 * past the byte budget, and reading pages, counts and whole flows back. Synchronous (SQLite is);
 * the caller decides when to write (src/api/store.ts batches off the proxy's path).
 */
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import type { SqlDatabase, SqlStatement, SqlValue } from "../runtime/mod.ts";
import { type FlowSummary, summarize } from "../api/summary.ts";
import { flowFromJson } from "../flow/serialize.ts";
import { toFlowJson } from "./doc.ts";
import { filterToSql } from "./filter_sql.ts";
import { decodeRowBatch } from "./row_batch.ts";
import { FLOW_COLUMNS, flowFromRows, type FlowRows, flowToRows, type StoredParts } from "./rows.ts";
import { bodyKey, CHUNKS_PER_FLOW, openStoreFile, type StoreFileOptions, wsKey } from "./schema.ts";
import {
  keysetSql,
  orderBySql,
  type SortCursor,
  type SortOrder,
  sortValueSql,
} from "./sort_sql.ts";

/** A flow to write and the number it is kept under (arrival order). */
export interface PendingFlow {
  seq: number;
  flow: Flow;
  /** Written before: its rows are replaced. */
  written: boolean;
}

export interface Evicted {
  count: number;
  ids: string[];
  /** The newest seq evicted (0 when none). */
  lastSeq: number;
}

export interface PageQuery {
  filter?: Filter | null;
  limit?: number;
  /** Only flows that arrived before / after the one with this seq. */
  beforeSeq?: number;
  afterSeq?: number;
}

export interface PageRow {
  seq: number;
  id: string;
}

/** A page in a sort order: the first `limit` matching flows after `after`. */
export interface SortedPageQuery {
  filter?: Filter | null;
  limit?: number;
  sort: SortOrder;
  after?: SortCursor;
}

export interface SortedRow extends PageRow {
  /** The flow's sort value, for the cursor of the page after it. */
  value: number | string | null;
}

/** Rows read per round when the JS matcher has to look at candidates. */
const SCAN_BATCH = 256;
/**
 * The most rows a sorted round reads. A column without an index is sorted anew by each round, so
 * rounds grow (doubling) when the JS matcher turns many rows away: few rounds over a big store.
 */
const SORTED_BATCH_MAX = 16384;

export class FlowDb {
  readonly path: string;
  readonly db: SqlDatabase;
  /** Body chunks are at most this long. */
  chunkSize: number;
  #count = 0;
  #bytes = 0;
  #dropped = 0;
  #maxSeq = 0;
  /** A transaction opened by writeOne() and not yet committed, and the totals before it. */
  #inTransaction = false;
  #saved = { count: 0, bytes: 0, maxSeq: 0 };
  readonly #st: Record<string, SqlStatement>;

  constructor(path: string, options: StoreFileOptions & { chunkSize?: number } = {}) {
    this.path = path;
    this.chunkSize = Math.max(1, options.chunkSize ?? 4 << 20);
    this.db = openStoreFile(path, options);
    const db = this.db;
    const prepare = (sql: string) => db.prepare(sql);
    this.#st = {
      // No `INSERT OR REPLACE`: it may delete rows, so SQLite copies every page it touches to a
      // statement journal first (four 16 KiB pages a flow, measured: most of the write's cost).
      // A flow written again is deleted first; OR IGNORE (a duplicate id) needs no journal.
      insertFlow: prepare(
        `INSERT OR IGNORE INTO flows (seq, ${FLOW_COLUMNS}) VALUES (${"?, ".repeat(15)}?)`,
      ),
      insertDoc: prepare(
        "INSERT INTO flow_docs (seq, doc, req_heads, res_heads, req_data, res_data) " +
          "VALUES (?, ?, ?, ?, ?, ?)",
      ),
      deleteFlow: prepare("DELETE FROM flows WHERE seq = ?"),
      deleteDoc: prepare("DELETE FROM flow_docs WHERE seq = ?"),
      deleteChunks: prepare("DELETE FROM bodies WHERE key BETWEEN ? AND ?"),
      deleteWs: prepare("DELETE FROM ws_messages WHERE key BETWEEN ? AND ?"),
      insertChunk: prepare("INSERT INTO bodies (key, data) VALUES (?, ?)"),
      insertWs: prepare(
        "INSERT INTO ws_messages (key, from_client, type, ts, dropped, injected, content) " +
          "VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      oldBytes: prepare("SELECT bytes FROM flows WHERE seq = ?"),
      seqOf: prepare("SELECT seq FROM flows WHERE id = ?"),
      oldest: prepare("SELECT seq, id, bytes FROM flows WHERE seq > ? ORDER BY seq LIMIT 512"),
      setInfo: prepare("INSERT OR REPLACE INTO store_info (key, value) VALUES (?, ?)"),
      doc: prepare(
        "SELECT f.id, d.doc, d.req_heads, d.res_heads, d.req_data, d.res_data, f.req_body, " +
          "f.res_body FROM flow_docs d JOIN flows f ON f.seq = d.seq WHERE d.seq = ?",
      ),
      chunks: prepare("SELECT key, data FROM bodies WHERE key BETWEEN ? AND ? ORDER BY key"),
      ws: prepare(
        "SELECT from_client, type, ts, dropped, injected, content FROM ws_messages " +
          "WHERE key BETWEEN ? AND ? ORDER BY key",
      ),
      summary: prepare(
        "SELECT f.id, d.doc, d.req_heads, d.res_heads FROM flow_docs d JOIN flows f ON " +
          "f.seq = d.seq WHERE d.seq = ?",
      ),
    };
    const totals = db.prepare(
      "SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, " +
        "coalesce(max(seq), 0) AS m FROM flows",
    ).get()!;
    this.#count = Number(totals.n);
    this.#bytes = Number(totals.b);
    this.#maxSeq = Number(totals.m);
    const dropped = db.prepare("SELECT value FROM store_info WHERE key = 'dropped'").get();
    this.#dropped = Number(dropped?.value ?? 0);
  }

  /** Flows stored. */
  get count(): number {
    return this.#count;
  }

  /** What the stored flows take, as the budget counts it. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Flows evicted by the budget over the life of this file. */
  get dropped(): number {
    return this.#dropped;
  }

  /** The highest seq stored (0 when empty): new flows number after it. */
  get maxSeq(): number {
    return this.#maxSeq;
  }

  /**
   * Writes flows (new or changed) in one transaction: the one writeOne() opened, if any, which
   * this commits.
   */
  write(batch: PendingFlow[]): void {
    if (batch.length === 0) return this.commit();
    this.#begin();
    try {
      for (const item of batch) this.#writeFlow(item);
    } catch (e) {
      this.rollback();
      throw e;
    }
    this.commit();
  }

  /**
   * Writes one flow in the open transaction (opening one if none is): it is on disk, and visible
   * to other connections, at the next commit() (or write()). A failure rolls the transaction back.
   */
  writeOne(item: PendingFlow): void {
    this.#begin();
    try {
      this.#writeFlow(item);
    } catch (e) {
      this.rollback();
      throw e;
    }
  }

  /** Commits what writeOne() wrote (nothing when no transaction is open). */
  commit(): void {
    if (!this.#inTransaction) return;
    this.db.exec("COMMIT");
    this.#inTransaction = false;
  }

  /** Drops what writeOne() wrote since the last commit, and the totals with it. */
  rollback(): void {
    if (!this.#inTransaction) return;
    this.#inTransaction = false;
    try {
      this.db.exec("ROLLBACK");
    } catch {
      // SQLite may have rolled back already (a full disk, say).
    }
    this.#count = this.#saved.count;
    this.#bytes = this.#saved.bytes;
    this.#maxSeq = this.#saved.maxSeq;
  }

  #begin(): void {
    if (this.#inTransaction) return;
    this.db.exec("BEGIN");
    this.#inTransaction = true;
    this.#saved = { count: this.#count, bytes: this.#bytes, maxSeq: this.#maxSeq };
  }

  #writeFlow({ seq, flow, written }: PendingFlow): void {
    this.#writeRows(seq, written, flowToRows(flow, this.chunkSize));
  }

  /**
   * Writes a batch encoded by RowBatchEncoder (the writer thread's input) in one transaction: the
   * one writeOne() opened, if any, which this commits.
   */
  writeEncoded(bytes: Uint8Array): void {
    this.#begin();
    try {
      for (const r of decodeRowBatch(bytes)) {
        this.#writeRows(r.seq, r.written, r.rows ?? flowToRows(r.flow, this.chunkSize));
      }
    } catch (e) {
      this.rollback();
      throw e;
    }
    this.commit();
  }

  #writeRows(seq: number, written: boolean, rows: FlowRows): void {
    const st = this.#st;
    if (written) {
      const old = st.oldBytes.get(seq);
      if (old !== undefined) {
        this.#bytes -= Number(old.bytes);
        this.#count--;
        st.deleteFlow.run(seq);
        st.deleteDoc.run(seq);
        this.#deleteParts(seq, seq);
      }
    }
    // Another flow with this id (a copy that slipped through an import) is not written.
    if (Number(st.insertFlow.run(seq, ...rows.flow).changes) === 0) return;
    st.insertDoc.run(seq, ...rows.doc);
    for (const [part, idx, data] of rows.chunks) {
      st.insertChunk.run(bodyKey(seq, part, idx), data);
    }
    for (let i = 0; i < rows.ws.length; i++) st.insertWs.run(wsKey(seq, i), ...rows.ws[i]);
    this.#bytes += rows.bytes;
    this.#count++;
    if (seq > this.#maxSeq) this.#maxSeq = seq;
  }

  /** Deletes the extra body chunks and WebSocket messages of flows lo..hi (inclusive). */
  #deleteParts(lo: number, hi: number): void {
    this.#st.deleteChunks.run(bodyKey(lo, 0, 0), bodyKey(hi + 1, 0, 0) - 1);
    this.#st.deleteWs.run(wsKey(lo, 0), wsKey(hi + 1, 0) - 1);
  }

  /**
   * Deletes the oldest flows until the rest take at most `maxBytes`; the newest one stays even when
   * it alone is over. Returns what went.
   */
  evict(maxBytes: number): Evicted {
    this.commit();
    const out: Evicted = { count: 0, ids: [], lastSeq: 0 };
    if (this.#bytes <= maxBytes || this.#count <= 1) return out;
    let excess = this.#bytes - maxBytes;
    let last = 0;
    let freed = 0;
    scan: while (excess > 0) {
      const rows = this.#st.oldest.all(last);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (out.count >= this.#count - 1 || excess <= 0) break scan;
        last = Number(row.seq);
        excess -= Number(row.bytes);
        freed += Number(row.bytes);
        out.ids.push(String(row.id));
        out.count++;
      }
    }
    if (out.count === 0) return out;
    out.lastSeq = last;
    this.db.exec("BEGIN");
    try {
      this.#deleteRange(0, last);
      this.#dropped += out.count;
      this.#st.setInfo.run("dropped", String(this.#dropped));
      this.db.exec("COMMIT");
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
    this.#bytes -= freed;
    this.#count -= out.count;
    return out;
  }

  /** Deletes flows lo..hi (inclusive) with all their rows. */
  #deleteRange(lo: number, hi: number): void {
    this.db.exec(
      `DELETE FROM flows WHERE seq BETWEEN ${lo} AND ${hi};` +
        `DELETE FROM flow_docs WHERE seq BETWEEN ${lo} AND ${hi};`,
    );
    this.#deleteParts(lo, hi);
  }

  /** Deletes one flow; false when it is not stored. */
  remove(id: string): boolean {
    this.commit();
    const row = this.#st.seqOf.get(id);
    if (row === undefined) return false;
    const seq = Number(row.seq);
    const bytes = Number(this.#st.oldBytes.get(seq)?.bytes ?? 0);
    this.db.exec("BEGIN");
    this.#deleteRange(seq, seq);
    this.db.exec("COMMIT");
    this.#bytes -= bytes;
    this.#count--;
    return true;
  }

  clear(): void {
    this.commit();
    this.db.exec("BEGIN");
    this.#deleteRange(0, this.#maxSeq);
    this.db.exec("COMMIT");
    this.#bytes = 0;
    this.#count = 0;
  }

  seqOf(id: string): number | undefined {
    const row = this.#st.seqOf.get(id);
    return row === undefined ? undefined : Number(row.seq);
  }

  /** The whole flow, bodies and WebSocket messages included. */
  read(seq: number): Flow | undefined {
    const row = this.#st.doc.get(seq);
    if (row === undefined) return undefined;
    const parts: StoredParts = {
      id: String(row.id),
      doc: String(row.doc),
      reqHeads: String(row.req_heads),
      resHeads: String(row.res_heads),
      reqBody: Number(row.req_body),
      resBody: Number(row.res_body),
      reqData: row.req_data as Uint8Array | null,
      resData: row.res_data as Uint8Array | null,
      chunks: this.#st.chunks.all(bodyKey(seq, 0, 0), bodyKey(seq + 1, 0, 0) - 1).map((c) => [
        Number(c.key) % CHUNKS_PER_FLOW >= CHUNKS_PER_FLOW / 2 ? 1 : 0,
        c.data as Uint8Array,
      ]),
      ws: this.#st.ws.all(wsKey(seq, 0), wsKey(seq + 1, 0) - 1) as unknown as StoredParts["ws"],
    };
    return flowFromRows(parts);
  }

  /** The list summary of a flow (`intercepted` null), made from its document without bodies. */
  summary(seq: number): FlowSummary | undefined {
    const row = this.#st.summary.get(seq);
    if (row === undefined) return undefined;
    const json = toFlowJson(
      String(row.id),
      String(row.doc),
      String(row.req_heads),
      String(row.res_heads),
    );
    return summarize(flowFromJson(json), null);
  }

  #where(query: PageQuery): {
    sql: string;
    params: SqlValue[];
    sure: string;
    sureParams: SqlValue[];
    exact: boolean;
  } {
    const conds: string[] = [];
    const params: SqlValue[] = [];
    let sure = "1";
    let sureParams: SqlValue[] = [];
    let exact = true;
    if (query.filter) {
      const c = filterToSql(query.filter.ast);
      conds.push(c.maybe);
      params.push(...c.maybeParams);
      sure = c.sure;
      sureParams = c.sureParams;
      exact = c.exact;
    }
    if (query.beforeSeq !== undefined) {
      conds.push("f.seq < ?");
      params.push(query.beforeSeq);
    }
    if (query.afterSeq !== undefined) {
      conds.push("f.seq > ?");
      params.push(query.afterSeq);
    }
    return { sql: conds.length ? conds.join(" AND ") : "1", params, sure, sureParams, exact };
  }

  /**
   * The newest `limit` matching flows (before/after the cursors), oldest first, and whether there
   * are older matching ones beyond them.
   */
  page(query: PageQuery): { rows: PageRow[]; more: boolean } {
    const limit = query.limit ?? Infinity;
    const out: PageRow[] = [];
    let more = false;
    for (const row of this.#scan(query, "DESC")) {
      if (out.length >= limit) {
        more = true;
        break;
      }
      out.push(row);
    }
    return { rows: out.reverse(), more };
  }

  /** Matching flows in arrival order (or newest first), read a batch at a time. */
  *#scan(query: PageQuery, order: "ASC" | "DESC"): Generator<PageRow> {
    const w = this.#where(query);
    const filter = query.filter;
    const cursorOp = order === "DESC" ? "<" : ">";
    const st = this.db.prepare(
      `SELECT f.seq, f.id, (${w.sure}) AS sure FROM flows f WHERE (${w.sql}) AND f.seq ${cursorOp} ?` +
        ` ORDER BY f.seq ${order} LIMIT ${SCAN_BATCH}`,
    );
    let cursor = order === "DESC" ? Number.MAX_SAFE_INTEGER : -1;
    while (true) {
      const rows = st.all(...w.sureParams, ...w.params, cursor);
      for (const row of rows) {
        const seq = Number(row.seq);
        cursor = seq;
        if (!w.exact && Number(row.sure) !== 1) {
          const flow = this.read(seq);
          if (flow === undefined || !filter!(flow)) continue;
        }
        yield { seq, id: String(row.id) };
      }
      if (rows.length < SCAN_BATCH) return;
    }
  }

  /** The sort value of the flow numbered `seq` (undefined when it is not stored). */
  sortValueOf(seq: number, column: SortOrder["column"]): SortCursor["value"] | undefined {
    const row = this.db.prepare(`SELECT ${sortValueSql(column)} AS v FROM flows f WHERE f.seq = ?`)
      .get(seq);
    if (row === undefined) return undefined;
    return typeof row.v === "bigint" ? Number(row.v) : row.v as SortCursor["value"];
  }

  /** The first `limit` matching flows in the sort order (after the cursor), and whether more follow. */
  sortedPage(query: SortedPageQuery): { rows: SortedRow[]; more: boolean } {
    const limit = query.limit ?? Infinity;
    const rows: SortedRow[] = [];
    let more = false;
    for (const row of this.#sortedScan(query, limit + 1)) {
      if (rows.length >= limit) {
        more = true;
        break;
      }
      rows.push(row);
    }
    return { rows, more };
  }

  /**
   * Matching flows in the sort order, a round at a time: each round asks SQL for the rows after
   * the last one seen (keyset: the value, then seq), the filter's SQL part in the same WHERE.
   */
  *#sortedScan(query: SortedPageQuery, wanted: number): Generator<SortedRow> {
    const w = this.#where({ filter: query.filter });
    const filter = query.filter;
    const select = `SELECT f.seq, f.id, ${sortValueSql(query.sort.column)} AS v, (${w.sure}) ` +
      `AS sure FROM flows f WHERE (${w.sql}) AND `;
    const order = ` ORDER BY ${orderBySql(query.sort)} LIMIT ?`;
    let cursor = query.after;
    let batch = Math.min(Math.max(wanted, SCAN_BATCH), SORTED_BATCH_MAX);
    while (true) {
      const keyset = cursor ? keysetSql(query.sort, cursor) : { sql: "1", params: [] };
      const rows = this.db.prepare(select + keyset.sql + order)
        .all(...w.sureParams, ...w.params, ...keyset.params, batch);
      for (const row of rows) {
        const seq = Number(row.seq);
        const value = typeof row.v === "bigint" ? Number(row.v) : row.v as SortCursor["value"];
        cursor = { value, seq };
        if (!w.exact && Number(row.sure) !== 1) {
          const flow = this.read(seq);
          if (flow === undefined || !filter!(flow)) continue;
        }
        yield { seq, id: String(row.id), value };
      }
      if (rows.length < batch) return;
      batch = Math.min(batch * 2, SORTED_BATCH_MAX);
    }
  }

  /** Matching flows in arrival order, read back whole one at a time. */
  *flows(query: PageQuery = {}): Generator<Flow> {
    for (const row of this.#scan(query, "ASC")) {
      const flow = this.read(row.seq);
      if (flow !== undefined) yield flow;
    }
  }

  /** How many flows match (SQL alone when it can decide, else with the JS matcher). */
  total(query: PageQuery = {}): number {
    const w = this.#where(query);
    if (w.exact) {
      return Number(
        this.db.prepare(`SELECT count(*) AS n FROM flows f WHERE ${w.sql}`).get(...w.params)!.n,
      );
    }
    let n = 0;
    for (const _ of this.#scan(query, "DESC")) n++;
    return n;
  }

  close(): void {
    this.commit();
    this.db.close();
  }
}
