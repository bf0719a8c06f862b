/**
 * One page of flow summaries as GET /api/flows answers it (and the `hello` of GET /api/events
 * when asked with ?page=): the newest `limit` matching flows, oldest first, where each is paused,
 * the store's stats, and the cursor for the page before.
 */
import type { Filter } from "../filter/mod.ts";
import type { Control } from "./control.ts";
import { statsOf } from "./events.ts";

export interface PageRequest {
  filter: Filter | null;
  limit: number;
  after?: string;
  before?: string;
}

export async function flowPage(control: Control, request: PageRequest) {
  const { store, interceptor } = control;
  const page = await store.page(request);
  const flows = page.summaries.map((s) => ({ ...s, intercepted: interceptor.phaseOf(s.id) }));
  return {
    flows,
    ...statsOf(store, interceptor),
    total: page.total,
    more: page.more,
    // Pass as ?before= for the page of older flows.
    cursor: page.more && flows.length > 0 ? flows[0].id : null,
  };
}
