/**
 * Sorting the flow list. The proxy's flow store sorts (GET /api/flows?sort=&order=, paged with a
 * cursor), so a sorted list is right over every stored flow, not only the loaded ones. The list
 * then holds the first pages of that order, and the rest loads as it scrolls into view.
 *
 * Live changes: a flow already listed is updated where it is. A new flow goes where the sort puts
 * it when the sort is by start time (its place follows from its start, which never changes);
 * sorted by anything else, new flows are counted in a "new flows" hint instead of jumping into
 * the list while one reads it (their values are often not final yet: a pending response has no
 * status, size or duration), and the hint reloads the sorted list.
 */
import type { FlowStore } from "./store.ts";
import type { FlowsEvent, Summary } from "./types.ts";

export interface SortState {
  /** The column id (columns.ts), or null for arrival order. */
  key: string | null;
  descending: boolean;
}

export const UNSORTED: SortState = { key: null, descending: false };

/** A click on a header: ascending, then descending, then back to arrival order. */
export function nextSort(current: SortState, key: string): SortState {
  if (current.key !== key) return { key, descending: false };
  return current.descending ? UNSORTED : { key, descending: true };
}

/** The query parameters that ask the API for this order (`sort` is the API's column name). */
export function sortParams(sort: SortState, apiName: string | undefined): Record<string, string> {
  if (sort.key === null || apiName === undefined) return {};
  return { sort: apiName, order: sort.descending ? "desc" : "asc" };
}

/** What a live event changed in a sorted list. */
export interface SortedChange {
  /** New flows put in the list. */
  added: number;
  /** Listed flows removed. */
  removed: number;
  /** New flows not put in the list: their place is past the loaded pages, or not followed. */
  elsewhere: number;
  /** Of those, the ones the list cannot show where they belong until it is loaded again. */
  hinted: number;
}

/**
 * Applies a live event to a list in the order `sort` of the API column `apiName`. `complete`:
 * every matching flow is loaded (no page follows), so a flow sorting last belongs in the list.
 */
export function applySorted(
  store: FlowStore,
  ev: FlowsEvent,
  apiName: string,
  descending: boolean,
  complete: boolean,
): SortedChange {
  const change: SortedChange = { added: 0, removed: 0, elsewhere: 0, hinted: 0 };
  if (ev.clear) store.replaceAll([]);
  const gone = ev.remove.filter((id) => store.has(id));
  change.removed = gone.length;
  store.remove(gone);
  for (const f of ev.upsert) {
    if (store.has(f.id)) {
      store.upsert(f);
      continue;
    }
    if (apiName !== "start") {
      change.elsewhere++;
      change.hinted++;
      continue;
    }
    const at = startPosition(store.flows, f.timestamps.start, descending);
    // Past the last loaded flow with pages still to come: that page will bring it.
    if (at === store.flows.length && !complete) change.elsewhere++;
    else {
      store.insertAt(at, f);
      change.added++;
    }
  }
  return change;
}

/**
 * Where a new flow with this start goes: after the flows that start at the same time ascending
 * (it arrived after them), before them descending; the exact reverse, as the store orders ties.
 */
function startPosition(flows: Summary[], start: number, descending: boolean): number {
  let lo = 0, hi = flows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = flows[mid].timestamps.start;
    const before = descending ? v > start : v <= start;
    if (before) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
