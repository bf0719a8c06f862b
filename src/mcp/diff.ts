/**
 * diff_flows: what differs between two flows - request line, status, headers (by name, case
 * ignored) and bodies (line by line for text, by size and first differing byte for binary).
 */
import { equalBytes, firstDifference } from "../diff/bytes.ts";
import { lineDiff } from "../diff/line_diff.ts";
import type { FlowDetail } from "./control_api.ts";
import { asText, contentTypeOf, oneLine } from "./format.ts";

export interface DiffSide {
  flow: FlowDetail;
  /** Decoded bodies, possibly cut at the call's limit (then `complete` is false). */
  requestBody: { bytes: Uint8Array; complete: boolean } | null;
  responseBody: { bytes: Uint8Array; complete: boolean } | null;
}

export function diffFlows(a: DiffSide, b: DiffSide): string {
  const out: string[] = [`a = ${a.flow.id}`, `b = ${b.flow.id}`, ""];
  const ra = a.flow.request;
  const rb = b.flow.request;
  compare(out, "method", ra.method, rb.method);
  compare(out, "url", ra.url, rb.url);
  const sa = a.flow.response;
  const sb = b.flow.response;
  compare(
    out,
    "status",
    sa ? `${sa.status} ${sa.reason}`.trim() : "(no response)",
    sb ? `${sb.status} ${sb.reason}`.trim() : "(no response)",
  );
  compare(out, "error", a.flow.error?.message ?? "none", b.flow.error?.message ?? "none");
  headerDiff(out, "request headers", ra.headers, rb.headers);
  bodyDiff(
    out,
    "request body",
    a.requestBody,
    b.requestBody,
    contentTypeOf(ra.headers),
    contentTypeOf(rb.headers),
  );
  if (sa || sb) {
    headerDiff(out, "response headers", sa?.headers ?? [], sb?.headers ?? []);
    bodyDiff(
      out,
      "response body",
      a.responseBody,
      b.responseBody,
      contentTypeOf(sa?.headers ?? []),
      contentTypeOf(sb?.headers ?? []),
    );
  }
  return out.join("\n").trimEnd();
}

function compare(out: string[], what: string, a: string, b: string): void {
  out.push(a === b ? `${what}: same (${oneLine(a)})` : `${what}: ${oneLine(a)} -> ${oneLine(b)}`);
}

/** Header values by lower-case name, repeated fields joined with ", " (RFC 9110 5.3). */
function byName(headers: [string, string][]): Map<string, { name: string; value: string }> {
  const map = new Map<string, { name: string; value: string }>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const seen = map.get(key);
    map.set(key, seen ? { name: seen.name, value: `${seen.value}, ${value}` } : { name, value });
  }
  return map;
}

function headerDiff(
  out: string[],
  what: string,
  a: [string, string][],
  b: [string, string][],
): void {
  const ma = byName(a);
  const mb = byName(b);
  const lines: string[] = [];
  for (const [key, { name, value }] of ma) {
    const other = mb.get(key);
    if (other === undefined) lines.push(`  - ${name}: ${value}`);
    else if (other.value !== value) lines.push(`  ~ ${name}: ${value} -> ${other.value}`);
  }
  for (const [key, { name, value }] of mb) {
    if (!ma.has(key)) lines.push(`  + ${name}: ${value}`);
  }
  out.push(lines.length === 0 ? `${what}: same` : `${what} (- only in a, + only in b, ~ changed):`);
  out.push(...lines);
}

function bodyDiff(
  out: string[],
  what: string,
  a: DiffSide["requestBody"],
  b: DiffSide["requestBody"],
  typeA: string | null,
  typeB: string | null,
): void {
  if (a === null || b === null) {
    out.push(`${what}: ${a === null ? "a" : "b"}'s body was not kept, so it cannot be compared`);
    return;
  }
  const partial = a.complete && b.complete ? "" : " (compared up to the byte limit of this call)";
  if (equalBytes(a.bytes, b.bytes)) {
    out.push(`${what}: same (${a.bytes.length} bytes)${partial}`);
    return;
  }
  const ta = asText(a.bytes, typeA);
  const tb = asText(b.bytes, typeB);
  if (ta === null || tb === null) {
    out.push(
      `${what}: differs - ${a.bytes.length} vs ${b.bytes.length} bytes, first difference at ` +
        `byte ${firstDifference(a.bytes, b.bytes)}${partial}`,
    );
    return;
  }
  out.push(`${what}: differs${partial} (- a, + b):`);
  out.push(...lineDiff(ta.split("\n"), tb.split("\n")));
}
