/**
 * One page of flow summaries as GET /api/flows answers it (and the `hello` of GET /api/events
 * when asked with ?page=): without a sort, the newest `limit` matching flows, oldest first, and
 * the cursor for the page before; with one, the first `limit` in that order and the cursor for the
 * page after. Each says where it is paused, and the store's stats come along.
 */
import type { Filter } from "../filter/mod.ts";
import type { Control } from "./control.ts";
import { statsOf } from "./events.ts";
import { CursorGoneError, encodeCursor, type SortRequest } from "./sort_params.ts";
import type { Page } from "./store.ts";

export interface PageRequest {
  filter: Filter | null;
  limit: number;
  after?: string;
  before?: string;
  /** A sort order (and where its previous page ended): the page is in that order. */
  sorted?: SortRequest | null;
}

export async function flowPage(control: Control, request: PageRequest) {
  const { store, interceptor } = control;
  let page: Page;
  let cursor: string | null;
  if (request.sorted) {
    const { sort, after } = request.sorted;
    const sorted = await store.sortedPage({
      filter: request.filter,
      limit: request.limit,
      sort,
      after,
    });
    if (sorted === undefined) {
      throw new CursorGoneError(
        "the flow where the previous page ended is gone (the cursor held only its number); " +
          "ask for the first page again",
      );
    }
    page = sorted;
    // Pass as ?cursor= (with the same sort and order) for the page after this one.
    cursor = sorted.last ? encodeCursor(sort, sorted.last) : null;
  } else {
    page = await store.page(request);
    cursor = null;
  }
  const flows = page.summaries.map((s) => ({ ...s, intercepted: interceptor.phaseOf(s.id) }));
  if (!request.sorted) {
    // Pass as ?before= for the page of older flows.
    cursor = page.more && flows.length > 0 ? flows[0].id : null;
  }
  return {
    flows,
    ...statsOf(store, interceptor),
    total: page.total,
    more: page.more,
    cursor,
  };
}
