/** The flow list's columns: what each shows, how it sorts, and its default width. */
import { clock, ms, shortType, size } from "./format.ts";
import type { Summary } from "./types.ts";

export interface Column {
  id: string;
  label: string;
  /** Pixels; the path column takes what is left, at least this. */
  width: number;
  text(f: Summary): string;
  sortValue(f: Summary): string | number;
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
    width: 24,
    text: (f) => (f.marked ? "★" : ""),
    sortValue: (f) => +f.marked,
  },
  {
    id: "method",
    label: "Method",
    width: 70,
    text: (f) => f.request.method,
    sortValue: (f) => f.request.method,
  },
  {
    id: "scheme",
    label: "Scheme",
    width: 60,
    text: (f) => f.request.scheme,
    sortValue: (f) => f.request.scheme,
  },
  {
    id: "host",
    label: "Host",
    width: 170,
    text: (f) => f.request.host,
    sortValue: (f) => f.request.host,
  },
  {
    id: "port",
    label: "Port",
    width: 54,
    text: (f) => String(f.request.port),
    sortValue: (f) => f.request.port,
  },
  {
    id: "path",
    label: "Path",
    width: 160,
    text: (f) => f.request.path,
    sortValue: (f) => f.request.path,
    title: (f) => f.request.url,
  },
  {
    id: "status",
    label: "Status",
    width: 72,
    text: statusText,
    sortValue: (f) => (f.response ? f.response.status : f.error ? 1000 : 0),
    title: (f) => f.error ?? "",
  },
  {
    id: "type",
    label: "Type",
    width: 80,
    text: (f) => shortType(f.response?.contentType),
    sortValue: (f) => shortType(f.response?.contentType),
  },
  {
    id: "size",
    label: "Size",
    width: 72,
    text: (f) => size(f.response ? f.response.bodySize : null),
    sortValue: (f) => f.response?.bodySize ?? -1,
  },
  {
    id: "time",
    label: "Time",
    width: 70,
    text: (f) => ms(f.duration),
    sortValue: (f) => f.duration ?? -1,
  },
  {
    id: "start",
    label: "Start",
    width: 96,
    text: (f) => clock(f.timestamps.start),
    sortValue: (f) => f.timestamps.start,
  },
  {
    id: "version",
    label: "HTTP",
    width: 62,
    text: (f) => f.request.httpVersion.replace("HTTP/", ""),
    sortValue: (f) => f.request.httpVersion,
  },
  {
    id: "comment",
    label: "Comment",
    width: 120,
    text: (f) => f.comment ?? "",
    sortValue: (f) => f.comment ?? "",
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
