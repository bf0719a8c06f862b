/**
 * The flow list as HTML text, for the page the server sends (src/api/ui_page.ts): the same header
 * and rows, with the same cells, classes and data-id, that the list (flow_list.tsx) renders, so
 * that the browser paints the newest flows while the script is still on its way; the script's
 * first render then replaces them. The page's Content-Security-Policy allows no inline styles, so
 * nothing here is positioned by a style attribute: inside `.ssr` the rows are in the page's flow,
 * newest first, stacked up from the bottom of the window, and style.css sizes the columns.
 */
import { badges, type Column, headerSort, rowClass } from "./columns.ts";
import type { SortState } from "./sorting.ts";
import type { Summary } from "./types.ts";

/** The Element Timing name of the server's rows (main.tsx waits until they are painted). */
export const ROWS_PAINTED = "server-rows";

/** The cookie that keeps a chosen theme ("dark" or "light"; none: the system's). */
export const THEME_COOKIE = "mitm-theme";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe as an element's content and as a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function cellHtml(column: Column, f: Summary, timed: boolean): string {
  let title = column.title ? ` title="${escapeHtml(column.title(f))}"` : "";
  if (timed) title += ` elementtiming="${ROWS_PAINTED}"`;
  let html = escapeHtml(column.text(f));
  if (column.id === "path") {
    for (const b of badges(f)) {
      const badgeTitle = b.title === undefined ? "" : ` title="${escapeHtml(b.title)}"`;
      html += `<b class="${b.cls}"${badgeTitle}>${escapeHtml(b.text)}</b>`;
    }
  }
  return `<span class="cell ${column.id}"${title}>${html}</span>`;
}

function headerHtml(columns: Column[], sort: SortState): string {
  const cells = columns.map((c) => {
    const resizer = '<i class="resizer"></i>';
    if (c.sort === undefined) {
      return `<span class="cell ${c.id}" data-col="${c.id}" role="columnheader">` +
        `${escapeHtml(c.label)}${resizer}</span>`;
    }
    const { arrow, title, ariaSort } = headerSort(c, sort);
    return `<span class="cell ${c.id} sortable" data-col="${c.id}" role="columnheader" ` +
      `aria-sort="${ariaSort}"><button type="button" class="sort" title="${escapeHtml(title)}">` +
      `${escapeHtml(c.label)}${escapeHtml(arrow)}</button>${resizer}</span>`;
  });
  return `<div class="row head">${cells.join("")}</div>`;
}

/**
 * The list section with these rows: `flows` in list order, the first of them at `firstIndex` in
 * the whole list (its stripe follows from it, as in the live list).
 */
export function listHtml(
  flows: Summary[],
  firstIndex: number,
  columns: Column[],
  sort: SortState,
): string {
  const newest = flows.length - 1;
  const rows = flows.map((f, k) => {
    // The newest row's first cell with text says when the rows are painted (Element Timing):
    // the script waits for that.
    const timed = k === newest ? columns.find((c) => c.text(f) !== "") : undefined;
    return `<div class="${rowClass(f, firstIndex + k)}" data-id="${escapeHtml(f.id)}">` +
      columns.map((c) => cellHtml(c, f, c === timed)).join("") + "</div>";
  });
  // The newest (the rows in view) come first in the page: parsed and painted first, and
  // stacked upwards from the bottom of the window by the styles (column-reverse).
  rows.reverse();
  return `<section id="list" class="ssr">${headerHtml(columns, sort)}` +
    `<div id="viewport"><div id="spacer">${rows.join("\n")}</div></div></section>`;
}

/**
 * The page's UI until the script renders: a toolbar of the same height (its boxes and buttons
 * disabled: nothing typed there is lost to the script's render) and the list.
 */
export function shellHtml(statsText: string, list: string): string {
  const button = (label: string) => `<button type="button" disabled>${label}</button>`;
  return '<header class="ssr"><div class="bar"><strong class="brand">mitm.ts</strong>' +
    '<label>Filter <input disabled placeholder="~d example.com &amp; !~t image"></label>' +
    '<label>Intercept <input disabled placeholder="~u /api &amp; ~m POST"></label>' +
    `<span id="stats">${escapeHtml(statsText)}</span></div>` +
    `<div class="bar"><span class="muted">Flows:</span>${
      ["Replay", "Mark", "Delete"].map(button).join("")
    }</div></header>` +
    `<main><div class="list-column">${list}</div></main>`;
}

/**
 * The styles of the server's list: its cells sized as the live list's grid sizes them (the path
 * takes what is left), its rows stacked from the bottom of the window.
 */
export function listCss(columns: Column[]): string {
  const widths = columns.map((c) =>
    c.id === "path"
      ? `#list.ssr .cell.path { flex: 1 0 ${c.width}px; }`
      : `#list.ssr .cell.${c.id} { flex: 0 0 ${c.width}px; }`
  );
  return [
    "#list.ssr #viewport { display: flex; flex-direction: column; justify-content: flex-end;",
    "  overflow-y: scroll; }",
    "#list.ssr #spacer { flex: none; display: flex; flex-direction: column-reverse; }",
    "#list.ssr .row { display: flex; }",
    "#list.ssr #spacer .row { position: static; }",
    ...widths,
  ].join("\n") + "\n";
}
