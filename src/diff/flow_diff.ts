/**
 * Comparing two recordings flow by flow: flows are paired by the server-replay key (the same
 * request, src/replay/match_key.ts), the n-th of a key in A with the n-th in B, as server replay
 * would answer them. Unpaired flows are removed (only in A) or added (only in B); paired flows are
 * compared on status, headers (without volatile ones such as Date) and body (field by field when
 * both are JSON).
 */
import { createHash } from "node:crypto";
import type { Flow, FlowResponse } from "../flow/flow.ts";
import { matchKey, type MatchOptions } from "../replay/match_key.ts";
import { equalBytes } from "./bytes.ts";
import { type JsonChange, jsonDiff } from "./json_diff.ts";

/**
 * Response headers that differ between two runs of the same exchange without meaning anything:
 * clocks, request ids, and framing (the body is compared itself).
 */
export const VOLATILE_HEADERS: readonly string[] = [
  "date",
  "age",
  "expires",
  "last-modified",
  "etag",
  "set-cookie",
  "server-timing",
  "x-request-id",
  "x-correlation-id",
  "request-id",
  "x-amzn-requestid",
  "x-amz-request-id",
  "x-amz-id-2",
  "cf-ray",
  "x-runtime",
  "x-response-time",
  "report-to",
  "nel",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
];

export interface FlowRef {
  method: string;
  url: string;
}

export type Change =
  | { what: "status"; before: number | null; after: number | null }
  | { what: "header"; name: string; before: readonly string[]; after: readonly string[] }
  | { what: "body"; kind: "json"; changes: JsonChange[] }
  | { what: "body"; kind: "text"; line: number; before: string; after: string }
  | { what: "body"; kind: "bytes"; before: BodyFacts; after: BodyFacts };

/** A body that cannot be shown as text: its size and SHA-256 (null when it was not kept). */
export interface BodyFacts {
  size: number;
  sha256: string | null;
}

export interface FlowDiff {
  added: FlowRef[];
  removed: FlowRef[];
  changed: (FlowRef & { changes: Change[] })[];
  /** Paired flows with no difference. */
  same: number;
}

export interface DiffOptions {
  match: MatchOptions;
  /** Header names (any case) left out of the comparison. */
  ignoreHeaders: readonly string[];
}

/** The differences from recording `a` to recording `b`. */
export function diffFlows(a: readonly Flow[], b: readonly Flow[], options: DiffOptions): FlowDiff {
  const ignored = new Set(options.ignoreHeaders.map((h) => h.toLowerCase()));
  const pending = new Map<string, Flow[]>();
  for (const flow of b) {
    const key = matchKey(flow.request, options.match);
    const queue = pending.get(key);
    if (queue) queue.push(flow);
    else pending.set(key, [flow]);
  }
  const out: FlowDiff = { added: [], removed: [], changed: [], same: 0 };
  const paired = new Set<Flow>();
  for (const before of a) {
    const after = pending.get(matchKey(before.request, options.match))?.shift();
    if (after === undefined) {
      out.removed.push(ref(before));
      continue;
    }
    paired.add(after);
    const changes = compareResponses(before.response, after.response, ignored);
    if (changes.length === 0) out.same++;
    else out.changed.push({ ...ref(before), changes });
  }
  for (const flow of b) if (!paired.has(flow)) out.added.push(ref(flow));
  return out;
}

export function hasDifferences(diff: FlowDiff): boolean {
  return diff.added.length + diff.removed.length + diff.changed.length > 0;
}

function ref(flow: Flow): FlowRef {
  return { method: flow.request.method, url: flow.request.url };
}

function compareResponses(
  a: FlowResponse | null,
  b: FlowResponse | null,
  ignored: ReadonlySet<string>,
): Change[] {
  const changes: Change[] = [];
  if ((a?.status ?? null) !== (b?.status ?? null)) {
    changes.push({ what: "status", before: a?.status ?? null, after: b?.status ?? null });
  }
  if (a === null || b === null) return changes;
  changes.push(...compareHeaders(a, b, ignored));
  const body = compareBodies(a, b);
  if (body !== null) changes.push(body);
  return changes;
}

function compareHeaders(a: FlowResponse, b: FlowResponse, ignored: ReadonlySet<string>): Change[] {
  const names = new Set<string>();
  for (const [name] of a.headers) names.add(name.toLowerCase());
  for (const [name] of b.headers) names.add(name.toLowerCase());
  const out: Change[] = [];
  for (const name of [...names].sort()) {
    if (ignored.has(name)) continue;
    const before = a.headers.getAll(name);
    const after = b.headers.getAll(name);
    if (before.length !== after.length || before.some((v, i) => v !== after[i])) {
      out.push({ what: "header", name, before, after });
    }
  }
  return out;
}

/** The body's difference, or null when the bodies are the same (after Content-Encoding). */
function compareBodies(a: FlowResponse, b: FlowResponse): Change | null {
  const before = decoded(a);
  const after = decoded(b);
  if (before !== null && after !== null && equalBytes(before, after)) return null;
  if (before === null && after === null && a.bodySize === b.bodySize) return null;
  const textA = before === null ? null : utf8(before);
  const textB = after === null ? null : utf8(after);
  if (textA !== null && textB !== null) {
    const jsonA = parseJson(textA);
    const jsonB = parseJson(textB);
    if (jsonA.ok && jsonB.ok) {
      const changes = jsonDiff(jsonA.value, jsonB.value);
      // Same JSON written differently (spacing, key order): no difference worth a line.
      return changes.length === 0 ? null : { what: "body", kind: "json", changes };
    }
    return firstDifferentLine(textA, textB);
  }
  return { what: "body", kind: "bytes", before: facts(a, before), after: facts(b, after) };
}

function decoded(r: FlowResponse): Uint8Array | null {
  try {
    return r.decodedBody();
  } catch {
    return r.body; // an encoding we cannot undo: compare as sent
  }
}

function facts(r: FlowResponse, body: Uint8Array | null): BodyFacts {
  return {
    size: body?.length ?? r.bodySize,
    sha256: body === null ? null : createHash("sha256").update(body).digest("hex"),
  };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function utf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (t === "" || !/^[[{"\d-]|^(true|false|null)$/.test(t)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch {
    return { ok: false };
  }
}

/** The first line (1-based) where two texts differ, with both versions of it. */
function firstDifferentLine(a: string, b: string): Change {
  const la = a.split("\n");
  const lb = b.split("\n");
  let i = 0;
  while (i < la.length && i < lb.length && la[i] === lb[i]) i++;
  return { what: "body", kind: "text", line: i + 1, before: la[i] ?? "", after: lb[i] ?? "" };
}
