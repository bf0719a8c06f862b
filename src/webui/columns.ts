/** The flow list's columns: what each shows, what it sorts by, and its default width. */
import { clock, ms, shortType, size } from "./format.ts";
import type { Summary } from "./types.ts";

export interface Column {
  id: string;
  label: string;
  /** What the column is, where the label is a symbol. */
  name?: string;
  /** Pixels; the path column takes what is left, at least this. */
  width: number;
  text(f: Summary): string;
  /** The API's `sort=` name when the proxy's store can sort by this column. */
  sort?: string;
  title?(f: Summary): string;
}

export function statusText(f: Summary): string {
  if (f.intercepted) return "paused";
  if (f.response) return String(f.response.status);
  return f.error ? "error" : "...";
}

/** For colouring: 2xx ok, 3xx redirect, 4xx client error, 5xx server error, or failed. */
export function statusClass(f: Summary): string {
  if (f.intercepted) return "s-paused";
  if (!f.response) return f.error ? "s-failed" : "s-pending";
  return `s-${Math.floor(f.response.status / 100)}xx`;
}

/**
 * A row's classes: its stripe (by its index in the whole list, so stripes never flip while
 * scrolling), its status colour and what it is (selected, focused, paused, failed, a replay,
 * marked). The list and the rows the server puts in the page (list_html.ts) both use it.
 */
export function rowClass(
  f: Summary,
  index: number,
  selected = false,
  focused = false,
): string {
  let cls = `row ${index % 2 ? "odd" : "even"} ${statusClass(f)}`;
  if (selected) cls += " selected";
  if (focused) cls += " focus";
  if (f.intercepted) cls += " paused";
  if (f.error) cls += " failed";
  if (f.isReplay) cls += " replay";
  if (f.marked) cls += " marked";
  return cls;
}

/** A badge after the path: the HTTP version when not 1.1, paused, a comment. */
export interface Badge {
  cls: string;
  text: string;
  title?: string;
}

export function badges(f: Summary): Badge[] {
  const out: Badge[] = [];
  const version = f.request.httpVersion;
  if (version && version !== "HTTP/1.1") {
    out.push({ cls: "badge version", text: version.replace("HTTP/", "h") });
  }
  if (f.intercepted) out.push({ cls: "badge paused-badge", text: "paused" });
  if (f.comment) out.push({ cls: "badge comment", text: "✎", title: f.comment });
  return out;
}

/** A header's sort arrow and its button's title, for the sort now in force. */
export function headerSort(
  column: Column,
  sort: { key: string | null; descending: boolean },
): { arrow: string; title: string; ariaSort: "ascending" | "descending" | "none" } {
  const sorted = sort.key === column.id;
  const next = !sorted ? "ascending" : sort.descending ? "arrival order" : "descending";
  return {
    arrow: sorted ? (sort.descending ? " ▼" : " ▲") : "",
    title: `Sort by ${column.name ?? column.label} (${next} next); drag the right edge to resize`,
    ariaSort: sorted ? (sort.descending ? "descending" : "ascending") : "none",
  };
}

export const COLUMNS: Column[] = [
  {
    id: "mark",
    label: "★",
    name: "mark",
    // Room for the sort arrow after the star.
    width: 34,
    text: (f) => (f.marked ? "★" : ""),
    sort: "marked",
  },
  {
    id: "method",
    label: "Method",
    width: 70,
    text: (f) => f.request.method,
    sort: "method",
  },
  {
    id: "scheme",
    label: "Scheme",
    width: 60,
    text: (f) => f.request.scheme,
    sort: "scheme",
  },
  {
    id: "host",
    label: "Host",
    width: 170,
    text: (f) => f.request.host,
    sort: "host",
  },
  {
    id: "port",
    label: "Port",
    width: 54,
    text: (f) => String(f.request.port),
    sort: "port",
  },
  {
    id: "path",
    label: "Path",
    width: 160,
    text: (f) => f.request.path,
    sort: "path",
    title: (f) => f.request.url,
  },
  {
    id: "status",
    label: "Status",
    width: 72,
    text: statusText,
    sort: "status",
    title: (f) => f.error ?? "",
  },
  {
    id: "type",
    label: "Type",
    width: 80,
    text: (f) => shortType(f.response?.contentType),
    sort: "type",
  },
  {
    id: "size",
    label: "Size",
    width: 72,
    text: (f) => size(f.response ? f.response.bodySize : null),
    sort: "size",
  },
  {
    id: "time",
    label: "Time",
    width: 70,
    text: (f) => ms(f.duration),
    sort: "duration",
  },
  {
    id: "start",
    label: "Start",
    width: 96,
    text: (f) => clock(f.timestamps.start),
    sort: "start",
  },
  {
    id: "version",
    label: "HTTP",
    width: 62,
    text: (f) => f.request.httpVersion.replace("HTTP/", ""),
    sort: "version",
  },
  {
    id: "comment",
    label: "Comment",
    width: 120,
    text: (f) => f.comment ?? "",
    sort: "comment",
  },
];

export const DEFAULT_COLUMNS = [
  "mark",
  "method",
  "scheme",
  "host",
  "port",
  "path",
  "status",
  "type",
  "size",
  "time",
  "start",
];

export function columnById(id: string): Column | undefined {
  return COLUMNS.find((c) => c.id === id);
}
