/**
 * Sorting the flow list in SQL: each sortable column's value as an expression over the `flows`
 * table (alias `f`), and the keyset condition that pages through that order. The order is the
 * value, then `seq` (arrival) for equal values, so every flow has one place and a cursor
 * (value, seq) names the gap after it exactly, however many flows arrive or go meanwhile; an
 * OFFSET would skip or repeat rows when the list changes under it, and reads every skipped row.
 *
 * NULL (no response yet, not finished) is a value too: it sorts before every other value
 * ascending and after them descending, as SQLite orders NULL. Text sorts without regard to ASCII
 * case (NOCASE, as the filters match), other characters by their UTF-8 bytes. A flow without a
 * comment sorts as the empty comment; `marked` is 0 or 1 (unmarked flows first ascending).
 */
import type { SqlValue } from "../runtime/mod.ts";

export const SORT_COLUMNS = [
  "start",
  "method",
  "host",
  "path",
  "url",
  "status",
  "type",
  "size",
  "duration",
  "scheme",
  "port",
  "version",
  "comment",
  "marked",
] as const;

export type SortColumn = (typeof SORT_COLUMNS)[number];

export function isSortColumn(name: string): name is SortColumn {
  return (SORT_COLUMNS as readonly string[]).includes(name);
}

export interface SortOrder {
  column: SortColumn;
  descending: boolean;
}

/** Where a page ended: the last flow's sort value and its seq. */
export interface SortCursor {
  value: number | string | null;
  seq: number;
}

/**
 * Where the path starts in `url`: its first "/" after "http://" or "https://" (a URL is always one
 * of those, and a host has no "/"), searched from the 9th character: 0 when it has none (path "*").
 */
const PATH_AT = "instr(substr(f.url, 9), '/')";

/** A value of the flow's document (src/store/doc.ts), read from its flow_docs row. */
const fromDoc = (sql: string) => `(SELECT ${sql} FROM flow_docs d WHERE d.seq = f.seq)`;

/**
 * The sort value of each column. `method`, `host` and `url` are NOCASE columns (and `host` and
 * `status` have indexes that give their order without sorting). Size, duration, port, HTTP version
 * and comment live only in the document; reading it costs a lookup a row (docs/BENCHMARKS.md has
 * what that costs).
 */
const SORT_SQL: Record<SortColumn, string> = {
  start: "f.started",
  method: "f.method",
  host: "f.host",
  url: "f.url",
  // Cut from the URL in two string steps (half the time of finding "://" first, measured).
  path: `(CASE WHEN ${PATH_AT} = 0 THEN '*' ELSE substr(f.url, 8 + ${PATH_AT}) END) COLLATE NOCASE`,
  status: "f.status",
  // Every Content-Type value of the response as "\nA\nB\n" ("" for none): the first one decides.
  type: "f.res_type COLLATE NOCASE",
  size: fromDoc("json_extract(d.doc, '$.response.bodySize')"),
  // As the summary's duration: from the request's start to the response's end (or the error).
  duration: fromDoc(
    "max(0, coalesce(json_extract(d.doc, '$.response.timestampEnd'), " +
      "json_extract(d.doc, '$.error.timestamp')) - f.started)",
  ),
  // The URL starts with the scheme ("http" or "https", as the request has it) and ":".
  scheme: "substr(f.url, 1, instr(f.url, ':') - 1)",
  port: fromDoc("json_extract(d.doc, '$.request.port')"),
  version: fromDoc("json_extract(d.doc, '$.request.httpVersion')") + " COLLATE NOCASE",
  // The document leaves an empty comment out.
  comment: fromDoc("coalesce(json_extract(d.doc, '$.comment'), '')") + " COLLATE NOCASE",
  marked: "f.marked",
};

export function sortValueSql(column: SortColumn): string {
  return SORT_SQL[column];
}

export function orderBySql(order: SortOrder): string {
  const dir = order.descending ? "DESC" : "ASC";
  return `${SORT_SQL[order.column]} ${dir}, f.seq ${dir}`;
}

/** The rows after `cursor` in the order (row values, so an index on the column can seek to it). */
export function keysetSql(
  order: SortOrder,
  cursor: SortCursor,
): { sql: string; params: SqlValue[] } {
  const v = SORT_SQL[order.column];
  if (cursor.value === null) {
    // Among the NULLs by seq; ascending, every non-NULL value comes after them.
    return order.descending
      ? { sql: `(${v} IS NULL AND f.seq < ?)`, params: [cursor.seq] }
      : { sql: `((${v} IS NULL AND f.seq > ?) OR ${v} IS NOT NULL)`, params: [cursor.seq] };
  }
  // A NULL value compares as unknown, so it is left out here; descending, the NULLs come last.
  return order.descending
    ? { sql: `((${v}, f.seq) < (?, ?) OR ${v} IS NULL)`, params: [cursor.value, cursor.seq] }
    : { sql: `(${v}, f.seq) > (?, ?)`, params: [cursor.value, cursor.seq] };
}
