/**
 * What the list asks for first. main.tsx opens the event stream with it before the UI renders, so
 * the proxy reads the first page while the page renders; each load asks the same way. The first
 * page is only the rows that fill the window (the first paint waits for it); the rest of the
 * first FULL_PAGE follows right after it, and older pages when their placeholders scroll into
 * view.
 */
import { columnById } from "./columns.ts";
import { LIST_MARGIN, ROW_HEIGHT } from "./flow_list.tsx";
import { sortParams, type SortState, UNSORTED } from "./sorting.ts";
import type { FlowPage } from "./types.ts";

/** Flows loaded at once after a (re)load: the first page and the rest that follows it. */
export const FULL_PAGE = 200;

/**
 * The page of newest flows the server put in the page (GET / to a logged-in browser), once: null
 * when there is none.
 */
export function takeInlinePage(): FlowPage | null {
  const block = document.getElementById("first-page");
  if (block === null) return null;
  block.remove();
  try {
    const page = JSON.parse(block.textContent ?? "") as FlowPage;
    return Array.isArray(page.flows) ? page : null;
  } catch {
    return null;
  }
}

/** The API's name of the sort's column; undefined when unsorted (arrival order). */
export function apiSort(sort: SortState): string | undefined {
  return sort.key === null ? undefined : columnById(sort.key)?.sort;
}

/** The sort kept from the last visit (arrival order when none, or one this UI cannot ask for). */
export function savedSort(): SortState {
  try {
    const v = localStorage.getItem("mitm.sort");
    const s = v === null ? UNSORTED : JSON.parse(v) as SortState;
    return apiSort(s) === undefined ? UNSORTED : s;
  } catch {
    return UNSORTED;
  }
}

/** Rows that fill the window, and the margin the list draws beyond it; at most FULL_PAGE. */
export function firstPageSize(): number {
  const rows = Math.ceil((globalThis.innerHeight || 800) / ROW_HEIGHT) + LIST_MARGIN;
  return Math.min(FULL_PAGE, rows);
}

/** "?sort=..&filter=.." for the list in this order and filter ("" for neither). */
export function listQuery(sort: SortState, filter: string): string {
  const params = new URLSearchParams(sortParams(sort, apiSort(sort)));
  if (filter) params.set("filter", filter);
  return params.size ? `?${params}` : "";
}

/** The event stream's query whose hello brings the first `size` flows of that list. */
export function streamQuery(sort: SortState, filter: string, size: number): string {
  const q = listQuery(sort, filter);
  return `${q ? `${q}&` : "?"}page=${size}`;
}
