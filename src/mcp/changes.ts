/**
 * Edits an agent asks for (replay_flow, resume_flow) turned into the API's edits. Agents may set
 * or remove single headers instead of sending the whole list; that needs the current headers,
 * which the caller reads from the flow.
 */
import { z } from "zod";
import type { RequestEdit } from "./control_api.ts";

const headerList = z.array(z.array(z.string()).length(2)).describe(
  "the complete header list as [name, value] pairs, replacing every header, " +
    'e.g. [["Accept", "*/*"]]',
);
const setHeaders = z.record(z.string(), z.string()).describe(
  'headers to set, keeping the others, e.g. {"Authorization": "Bearer x"} (replaces every field ' +
    "of that name)",
);
const removeHeaders = z.array(z.string()).describe("names of headers to remove (case ignored)");
const body = z.string().describe(
  "the new body as text; Content-Length follows, and the message's Content-Encoding is applied " +
    "again",
);

export const requestChangesSchema = z.strictObject({
  method: z.string().optional().describe("e.g. POST"),
  url: z.string().optional().describe(
    "absolute http(s) URL; changes scheme, host, port and path (the Host header is kept unless " +
      "you change it)",
  ),
  headers: headerList.optional(),
  set_headers: setHeaders.optional(),
  remove_headers: removeHeaders.optional(),
  body: body.optional(),
});

export const responseChangesSchema = z.strictObject({
  status: z.number().int().min(100).max(999).optional().describe("e.g. 403"),
  reason: z.string().optional().describe("e.g. Forbidden"),
  headers: headerList.optional(),
  set_headers: setHeaders.optional(),
  remove_headers: removeHeaders.optional(),
  body: body.optional(),
});

export type RequestChanges = z.infer<typeof requestChangesSchema>;
export type ResponseChanges = z.infer<typeof responseChangesSchema>;

type Pairs = [string, string][];

/** The API's form of the changes to a message whose headers are now `current`. */
export function toEdit<T extends RequestChanges | ResponseChanges>(
  changes: T,
  current: Pairs,
): Omit<T, "set_headers" | "remove_headers" | "headers"> & { headers?: Pairs } {
  const { set_headers, remove_headers, headers, ...rest } = changes;
  const out: Omit<T, "set_headers" | "remove_headers" | "headers"> & { headers?: Pairs } = rest;
  if (headers !== undefined || set_headers !== undefined || remove_headers !== undefined) {
    out.headers = mergeHeaders(
      (headers as Pairs | undefined) ?? current,
      set_headers,
      remove_headers,
    );
  }
  return out;
}

/** `base` with `remove` taken out and `set` replacing (or adding) fields, order kept. */
export function mergeHeaders(
  base: Pairs,
  set: Record<string, string> = {},
  remove: string[] = [],
): Pairs {
  const drop = new Set(remove.map((n) => n.toLowerCase()));
  const setting = new Map(Object.entries(set).map(([n, v]) => [n.toLowerCase(), [n, v]] as const));
  const placed = new Set<string>();
  const out: Pairs = [];
  for (const [name, value] of base) {
    const key = name.toLowerCase();
    if (drop.has(key)) continue;
    const s = setting.get(key);
    if (s === undefined) out.push([name, value]);
    else if (!placed.has(key)) {
      // The first field of that name takes the value, in its place; later ones go.
      out.push([name, s[1]]);
      placed.add(key);
    }
  }
  for (const [key, [n, v]] of setting) if (!placed.has(key)) out.push([n, v]);
  return out;
}

export type { RequestEdit };
