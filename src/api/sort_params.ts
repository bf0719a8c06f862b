/**
 * The `sort`, `order` and `cursor` query parameters of GET /api/flows and GET /api/events, checked
 * into a sort order for the flow store, and the opaque cursor a sorted page hands out for the next
 * one: the last flow's sort value and arrival number, with the order it belongs to so that a cursor
 * of another order is refused rather than misread. A text value longer than LONG_VALUE (a URL
 * with a long query) is left out, so that the cursor fits in a request line: the store then reads
 * it from the flow itself, which must still be there.
 */
import { Buffer } from "node:buffer";
import { isSortColumn, SORT_COLUMNS, type SortCursor, type SortOrder } from "../store/sort_sql.ts";

export interface SortRequest {
  sort: SortOrder;
  /** Where the previous page ended; without `value`, the value of the flow numbered `seq`. */
  after?: SortCursor | { seq: number };
}

/** Text values longer than this are not carried in the cursor. */
export const LONG_VALUE = 1000;

/** A cursor whose flow has gone, when its value was not carried (409). */
export class CursorGoneError extends Error {}

/** A query's sort, null when it asks for none (arrival order), or a one-line reason it is wrong. */
export function parseSort(
  query: (name: string) => string | undefined,
): SortRequest | null | { error: string } {
  const column = query("sort");
  const order = query("order");
  const cursor = query("cursor");
  if (column === undefined && order === undefined) {
    if (cursor !== undefined) return { error: "cursor= pages a sorted list: give sort= with it" };
    return null;
  }
  const name = column ?? "start";
  if (!isSortColumn(name)) {
    return { error: `sort must be one of ${SORT_COLUMNS.join(", ")}, got "${name}"` };
  }
  if (order !== undefined && order !== "asc" && order !== "desc") {
    return { error: `order must be asc or desc, got "${order}"` };
  }
  if (query("before") !== undefined || query("after") !== undefined) {
    return {
      error: "before= and after= page the arrival order; a sorted list pages with cursor=",
    };
  }
  const sort = { column: name, descending: order === "desc" };
  if (cursor === undefined) return { sort };
  const after = decodeCursor(cursor, sort);
  return typeof after === "string" ? { error: after } : { sort, after };
}

function tokenOf(sort: SortOrder): string {
  return `${sort.column}:${sort.descending ? "desc" : "asc"}`;
}

/** The cursor for the page after `last` (base64url of a small JSON array). */
export function encodeCursor(sort: SortOrder, last: SortCursor): string {
  const long = typeof last.value === "string" && last.value.length > LONG_VALUE;
  const parts = long ? [tokenOf(sort), last.seq] : [tokenOf(sort), last.value, last.seq];
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

/** The cursor's position, or a one-line reason it cannot be used with this order. */
function decodeCursor(text: string, sort: SortOrder): SortCursor | { seq: number } | string {
  const bad = `cursor "${
    text.slice(0, 40)
  }" is not one a sorted page gave out; ask for the first page again`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(text, "base64url")),
    );
  } catch {
    return bad;
  }
  if (!Array.isArray(parsed) || (parsed.length !== 3 && parsed.length !== 2)) return bad;
  const byRow = parsed.length === 2;
  const [order, value, seq] = byRow ? [parsed[0], null, parsed[1]] : parsed;
  const valueOk = value === null || typeof value === "string" ||
    (typeof value === "number" && Number.isFinite(value));
  if (typeof order !== "string" || !valueOk || !Number.isSafeInteger(seq)) return bad;
  if (order !== tokenOf(sort)) {
    return `cursor belongs to the order ${order}, not ${
      tokenOf(sort)
    }; ask for the first page again`;
  }
  return byRow ? { seq } : { value, seq };
}
