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
