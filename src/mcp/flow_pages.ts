/**
 * list_flows' two views of the store's pages: the newest matches, and the oldest ones after a
 * cursor (paging forward, or watching for new traffic). The store pages newest first, so the
 * oldest page after a cursor is found by walking its pages back with `before`.
 */
import type { ControlApi, FlowList, FlowSummary } from "./control_api.ts";

export interface Listing {
  /** The flows to show, in arrival order. */
  shown: FlowSummary[];
  /** Matching flows in all (after the cursor, when there is one). */
  matching: number;
  /** The store's counts, from the first page read. */
  stats: FlowList;
}

/** The newest `limit` matching flows. */
export async function newestFlows(
  api: ControlApi,
  filter: string | undefined,
  limit: number,
): Promise<Listing> {
  const page = await api.listFlows({ filter, limit });
  return { shown: page.flows, matching: page.total, stats: page };
}

/** The oldest `limit` matching flows that arrived after the flow `cursor`. */
export async function flowsAfter(
  api: ControlApi,
  filter: string | undefined,
  cursor: string,
  limit: number,
): Promise<Listing> {
  const first = await api.listFlows({ filter, after: cursor, limit });
  let page = first;
  let matching = page.flows.length;
  let newer: FlowSummary[] = [];
  while (page.more && page.flows.length > 0) {
    newer = page.flows;
    page = await api.listFlows({ filter, after: cursor, before: newer[0].id, limit });
    matching += page.flows.length;
  }
  // The oldest page may be short: the page after it fills it up to `limit`.
  const shown = [...page.flows, ...newer.slice(0, limit - page.flows.length)];
  return { shown, matching, stats: first };
}
