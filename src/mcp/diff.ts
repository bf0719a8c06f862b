/**
 * diff_flows: what differs between two flows - request line, status, headers (by name, case
 * ignored) and bodies (line by line for text, by size and first differing byte for binary).
 */
import type { FlowDetail } from "./control_api.ts";
import { asText, oneLine } from "./format.ts";

/** Changed lines shown per body; more are counted. */
const MAX_DIFF_LINES = 200;
/** Lines per side beyond which the line-by-line comparison is not attempted. */
const MAX_LCS_LINES = 2000;

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
    typeOf(ra.headers),
    typeOf(rb.headers),
  );
  if (sa || sb) {
    headerDiff(out, "response headers", sa?.headers ?? [], sb?.headers ?? []);
    bodyDiff(
      out,
      "response body",
      a.responseBody,
      b.responseBody,
      typeOf(sa?.headers ?? []),
      typeOf(sb?.headers ?? []),
    );
  }
  return out.join("\n").trimEnd();
}

function compare(out: string[], what: string, a: string, b: string): void {
  out.push(a === b ? `${what}: same (${oneLine(a)})` : `${what}: ${oneLine(a)} -> ${oneLine(b)}`);
}

function typeOf(headers: [string, string][]): string | null {
  return headers.find(([n]) => n.toLowerCase() === "content-type")?.[1] ?? null;
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
  if (sameBytes(a.bytes, b.bytes)) {
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && firstDifference(a, b) === a.length;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Changed lines, `-`/`+` with 1-based line numbers of a, after trimming the common ends. */
export function lineDiff(a: string[], b: string[]): string[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length > MAX_LCS_LINES || midB.length > MAX_LCS_LINES) {
    return [
      `  first difference at line ${start + 1}; ${midA.length} vs ${midB.length} lines differ ` +
      `(too many to compare line by line)`,
    ];
  }
  const ops = editScript(midA, midB);
  const lines: string[] = [];
  let lineA = start;
  let hidden = 0;
  let lastShownA = -2;
  for (const op of ops) {
    if (op.kind === "same") {
      lineA++;
      continue;
    }
    if (lines.length >= MAX_DIFF_LINES) {
      hidden++;
      if (op.kind === "del") lineA++;
      continue;
    }
    if (lineA !== lastShownA) lines.push(`  @@ line ${lineA + 1} of a`);
    if (op.kind === "del") {
      lines.push(`  - ${op.text}`);
      lineA++;
    } else lines.push(`  + ${op.text}`);
    lastShownA = lineA;
  }
  if (hidden > 0) lines.push(`  ... ${hidden} more changed lines`);
  return lines;
}

type Op = { kind: "same" | "del" | "add"; text: string };

/** A shortest edit script from the longest common subsequence (small inputs only). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i * (m + 1) + j]: LCS length of a[i..] and b[j..].
  const lcs = new Uint16Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j]
        ? lcs[(i + 1) * (m + 1) + j + 1] + 1
        : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: "same", text: a[i] });
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
      ops.push({ kind: "del", text: a[i++] });
    } else ops.push({ kind: "add", text: b[j++] });
  }
  while (i < n) ops.push({ kind: "del", text: a[i++] });
  while (j < m) ops.push({ kind: "add", text: b[j++] });
  return ops;
}
