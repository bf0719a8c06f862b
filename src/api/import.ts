/**
 * POST /api/import: a recording (JSON lines) or a HAR file, sent as the raw request body, becomes
 * flows in the store, so the UI can open files. JSON lines are parsed a line at a time as the body
 * arrives; a HAR document is one JSON value and is read whole. Both are bounded in size.
 */
import type { Hono } from "hono";
import type { Flow } from "../flow/flow.ts";
import { harEntriesToFlows, isHar as isHarDocument } from "../flow/har.ts";
import { newFlowId } from "../flow/id.ts";
import { flowFromJson, flowToJson } from "../flow/serialize.ts";
import { fail, type RouteContext } from "./route_kit.ts";

/** The largest body taken; JSON lines are streamed, so this bounds time, not memory. */
export const MAX_IMPORT_BYTES = 1 << 30;
/** A HAR document (and any one JSON line) is held whole: at most this many bytes. */
export const MAX_WHOLE_BYTES = 256 << 20;
/** How many skipped lines are reported by number (the count is always given). */
const SKIPPED_LISTED = 20;

export class ImportTooLarge extends Error {}

export interface ImportResult {
  added: number;
  skipped: number;
  /** The first few skipped lines (or HAR entries), 1-based, with why. */
  problems: { line: number; reason: string }[];
  format: "jsonl" | "har";
}

const decoder = new TextDecoder();

/** "har" when the first non-blank line starts a HAR document (one line or pretty-printed). */
function looksLikeHar(firstLine: string): boolean {
  const text = firstLine.replace(/^\uFEFF/, "").trim();
  try {
    return isHarDocument(JSON.parse(text));
  } catch {
    return /^\{\s*("log"\s*:.*)?$/.test(text);
  }
}

/** Reads `body` a line at a time, handing each flow to `add`. */
export async function importFlows(
  body: ReadableStream<Uint8Array>,
  add: (flow: Flow) => void | Promise<void>,
  format: "jsonl" | "har" | null = null,
): Promise<ImportResult> {
  const result: ImportResult = { added: 0, skipped: 0, problems: [], format: format ?? "jsonl" };
  const skip = (line: number, reason: string) => {
    result.skipped++;
    if (result.problems.length < SKIPPED_LISTED) result.problems.push({ line, reason });
  };
  const take = async (flow: Flow) => {
    await add(flow);
    result.added++;
  };
  // Set by lineOf on the first line when not given (TypeScript cannot see that through a closure).
  const isHar = () => (format as string | null) === "har";
  let pending = new Uint8Array(0);
  let total = 0;
  let line = 0;
  const lineOf = async (bytes: Uint8Array) => {
    line++;
    const text = decoder.decode(bytes).trim();
    if (text === "") return;
    if (format === null) format = result.format = looksLikeHar(text) ? "har" : "jsonl";
    if (format === "har") return;
    let flow: Flow;
    try {
      flow = flowFromJson(JSON.parse(text));
    } catch (e) {
      return skip(line, (e as Error).message);
    }
    await take(flow);
  };
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_IMPORT_BYTES) {
        throw new ImportTooLarge(`the file is over ${MAX_IMPORT_BYTES >> 20} MiB`);
      }
      const buf = new Uint8Array(pending.length + value.length);
      buf.set(pending);
      buf.set(value, pending.length);
      if (isHar()) {
        pending = buf;
      } else {
        let start = 0;
        for (let nl = buf.indexOf(0x0a); nl >= 0 && !isHar(); nl = buf.indexOf(0x0a, start)) {
          await lineOf(buf.subarray(start, nl));
          start = nl + 1;
        }
        // Once a HAR is recognised, everything from its first line on is kept.
        pending = isHar() ? buf : buf.slice(start);
      }
      if (pending.length > MAX_WHOLE_BYTES) {
        throw new ImportTooLarge(
          isHar()
            ? `a HAR file is read whole: at most ${MAX_WHOLE_BYTES >> 20} MiB`
            : `line ${line + 1} is over ${MAX_WHOLE_BYTES >> 20} MiB`,
        );
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (!isHar() && pending.length > 0) await lineOf(pending);
  if (!isHar()) return result;
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(pending));
  } catch (e) {
    throw new SyntaxError(`not a HAR document: ${(e as Error).message}`);
  }
  if (!isHarDocument(json)) throw new SyntaxError("not a HAR document (no log.entries array)");
  const { flows, skipped } = harEntriesToFlows(json);
  for (const flow of flows) await take(flow);
  for (const s of skipped) skip(s.entry, `HAR entry ${s.entry}: ${s.reason}`);
  return result;
}

export function importRoutes(app: Hono, ctx: RouteContext): void {
  const { store } = ctx.control;
  app.post("/api/import", async (c) => {
    const format = c.req.query("format") ?? null;
    if (format !== null && format !== "jsonl" && format !== "har") {
      return fail(c, 400, `unknown format "${format}": use jsonl or har (or leave it out)`);
    }
    const length = Number(c.req.header("content-length") ?? "0");
    if (length > MAX_IMPORT_BYTES) {
      return fail(c, 413, `the file is over ${MAX_IMPORT_BYTES >> 20} MiB`);
    }
    const body = c.req.raw.body;
    if (body === null) return fail(c, 400, "send the file as the request body");
    const added: string[] = [];
    try {
      const result = await importFlows(body, async (flow) => {
        // A flow already here (the same file opened twice) comes in as a copy with a new id.
        const copy = (await store.get(flow.id)) === undefined
          ? flow
          : flowFromJson({ ...flowToJson(flow), id: newFlowId() });
        store.add(copy);
        added.push(copy.id);
      }, format);
      return c.json({ ...result, ids: added }, result.added > 0 ? 201 : 200);
    } catch (e) {
      if (e instanceof ImportTooLarge) return fail(c, 413, `${e.message}; nothing more was read`);
      if (e instanceof SyntaxError) return fail(c, 400, e.message);
      throw e;
    }
  });
}
