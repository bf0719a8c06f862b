/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/** @jsxImportSource preact */
/** The web UI's entry point; scripts/build_ui.ts bundles from here. */
import { render } from "preact";
import { App } from "./app.tsx";
import { firstPageSize, savedSort, streamQuery } from "./first_load.ts";
import { ROWS_PAINTED } from "./list_html.ts";
import { openEarly } from "./live.ts";

// Opened as /?token=... (the server set the cookie and sent the page): take the token out of the
// address bar and the history before anything else.
if (new URLSearchParams(location.search).has("token")) {
  history.replaceState(history.state, "", location.pathname + location.hash);
}

// The first page is asked for now, so that the proxy reads it while the UI renders; the first
// load (the same query) takes the stream over.
openEarly(streamQuery(savedSort(), "", firstPageSize()));
const root = document.getElementById("app")!;
// A click on the server's rows (or a sortable header) before the first render is done again on the
// same row (header) of the live list, not lost.
let early: string | null = null;
const noteClick = (e: MouseEvent) => {
  const target = e.target as Element;
  if (target.closest(".resizer")) return;
  const row = target.closest(".row[data-id]");
  const column = target.closest(".row.head [data-col]");
  if (row) early = `.row[data-id="${CSS.escape(row.getAttribute("data-id")!)}"]`;
  else if (column) {
    early = `.row.head [data-col="${CSS.escape(column.getAttribute("data-col")!)}"] button.sort`;
  }
};
root.addEventListener("click", noteClick);
const start = () => {
  root.removeEventListener("click", noteClick);
  root.replaceChildren();
  render(<App />, root);
  if (early !== null) root.querySelector<HTMLElement>(early)?.click();
};
// The rows the server put in the page (list_html.ts) are shown first: the first render, which
// takes their place (the same rows, now live), waits until they are painted (or a moment, when no
// paint comes: a hidden tab), so that it does not hold back that paint.
if (root.firstElementChild && document.visibilityState === "visible") {
  afterRowsPainted(start, 1000);
} else start();

/**
 * Calls `fn` once the server's rows are painted, or after `ms` at the latest. Element Timing
 * (Chromium) says when; elsewhere the first contentful paint is the nearest (the page's first
 * frame can come before its rows are parsed: then it is too early); neither: at once.
 */
function afterRowsPainted(fn: () => void, ms: number): void {
  const types = PerformanceObserver.supportedEntryTypes ?? [];
  const type = types.includes("element") ? "element" : types.includes("paint") ? "paint" : null;
  if (type === null) return fn();
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    observer.disconnect();
    clearTimeout(timer);
    fn();
  };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const name = type === "element"
        ? (e as PerformanceEntry & { identifier: string }).identifier
        : e.name;
      if (name === (type === "element" ? ROWS_PAINTED : "first-contentful-paint")) once();
    }
  });
  const timer = setTimeout(once, ms);
  observer.observe({ type, buffered: true });
}
