/**
 * "Copy as": a recorded request as a curl or HTTPie command, a JavaScript fetch() call, or the raw
 * HTTP/1.1 bytes. Pure functions of the request; ExportError when the body was not kept.
 */
import type { FlowRequest } from "../flow/flow.ts";
import { toCurl } from "./curl.ts";
import { toFetch } from "./fetch.ts";
import { toHttpie } from "./httpie.ts";
import { toRawHttp } from "./raw.ts";

export { ExportError } from "./request_parts.ts";
export { toCurl, toFetch, toHttpie, toRawHttp };

export const EXPORT_FORMATS = ["curl", "fetch", "httpie", "raw"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(s: string): s is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(s);
}

/** The request in `format`: text for the snippets, bytes for raw. */
export function exportRequest(request: FlowRequest, format: ExportFormat): string | Uint8Array {
  switch (format) {
    case "curl":
      return toCurl(request);
    case "fetch":
      return toFetch(request);
    case "httpie":
      return toHttpie(request);
    case "raw":
      return toRawHttp(request);
  }
}
