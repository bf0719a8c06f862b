/**
 * Copy as JavaScript fetch(). Strings are JSON string literals (valid JavaScript); headers are
 * [name, value] pairs so repeated names stay; a binary body is base64 decoded into a Uint8Array.
 * Host is left out (fetch refuses to set it); the URL carries the authority. fetch parses the
 * URL as WHATWG URL does, which percent-encodes a few characters the original may have sent bare
 * (`'` in a query): same meaning, not always the same bytes.
 */
import type { FlowRequest } from "../flow/flow.ts";
import { sameName } from "../http/headers.ts";
import { base64Encode } from "../flow/serialize.ts";
import { pastableText, requestParts } from "./request_parts.ts";

export function toFetch(request: FlowRequest): string {
  const { method, url, headers, body } = requestParts(request);
  const lines = [`await fetch(${JSON.stringify(url)}, {`, `  method: ${JSON.stringify(method)},`];
  const kept = headers.filter(([name]) => !sameName(name, "host"));
  if (kept.length > 0) {
    lines.push("  headers: [");
    for (const pair of kept) lines.push(`    ${JSON.stringify(pair)},`);
    lines.push("  ],");
  }
  if (body !== null) {
    const text = pastableText(body);
    lines.push(
      text !== null
        ? `  body: ${JSON.stringify(text)},`
        : `  body: Uint8Array.from(atob(${
          JSON.stringify(base64Encode(body))
        }), (c) => c.charCodeAt(0)),`,
    );
  }
  lines.push("});");
  return lines.join("\n");
}
