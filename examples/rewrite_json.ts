/**
 * Rewrites JSON responses: every "price" field anywhere in the document becomes 0, and a
 * "rewritten_by" field is added at the top level. Compressed bodies are decoded and re-encoded.
 *   mitm -s examples/rewrite_json.ts
 */
import type { Addon } from "../mod.ts";

function zeroPrices(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(zeroPrices);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === "price" ? 0 : zeroPrices(v);
    return out;
  }
  return value;
}

export default {
  name: "rewrite-json",
  response(flow) {
    const response = flow.response;
    if (!response || !/json/i.test(response.headers.get("content-type") ?? "")) return;
    if (response.body === null) return; // streamed: too large to hold
    const doc = zeroPrices(response.json());
    if (doc !== null && typeof doc === "object" && !Array.isArray(doc)) {
      (doc as Record<string, unknown>).rewritten_by = "mitm.ts";
    }
    response.setJson(doc);
  },
} satisfies Addon;
