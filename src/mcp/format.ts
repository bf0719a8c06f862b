/**
 * How flows read to an agent: one line per flow in lists, and a flow as HTTP messages with
 * headers and bodies as text (bounded, with a note when cut; binary as a short hex preview).
 */
import { humanSize } from "../addons/builtin/dumper.ts";
import { summarize } from "../api/summary.ts";
import { flowFromJson } from "../flow/serialize.ts";
import type { BodyRead, FlowDetail, FlowSummary } from "./control_api.ts";

/** Bytes of a binary body shown in hex. */
const HEX_PREVIEW = 32;

/** `ID METHOD URL -> STATUS type size duration [marks]`, one line. */
export function summaryLine(f: FlowSummary): string {
  const req = f.request;
  const res = f.response;
  const parts = [f.id, req.method, req.url, "->"];
  if (res !== null) {
    parts.push(String(res.status));
    if (res.contentType) parts.push(res.contentType.split(";")[0].trim());
    parts.push(humanSize(res.bodySize));
  } else parts.push(f.error === null ? "(no response yet)" : "(no response)");
  if (f.duration !== null) parts.push(`${Math.round(f.duration)}ms`);
  if (f.error !== null) parts.push(`[error: ${oneLine(f.error)}]`);
  if (f.intercepted !== null) parts.push(`[paused at ${f.intercepted}]`);
  if (f.isReplay) parts.push("[replay]");
  if (f.marked) parts.push("[marked]");
  return parts.join(" ");
}

export interface Bodies {
  request: BodyText;
  response: BodyText | null;
}

/** A body as the agent sees it, or why it is not there. */
export type BodyText = { read: BodyRead; contentType: string | null } | { note: string };

/** The flow as an HTTP exchange in text, with the bodies given. */
export function flowText(flow: FlowDetail, bodies: Bodies): string {
  const req = flow.request;
  const res = flow.response;
  const head = [`Flow ${flow.id}`];
  if (flow.isReplay) head.push("(a replay)");
  if (flow.intercepted !== null) {
    head.push(`- paused at ${flow.intercepted}: resume_flow or kill_flow lets it go on`);
  }
  const lines = [head.join(" ")];
  const client = `${flow.client.address}:${flow.client.port}`;
  const server = flow.server === null
    ? "not connected"
    : `${flow.server.address}:${flow.server.port}`;
  lines.push(`Client ${client}, server ${server}`);
  if (flow.error !== null) lines.push(`Error: ${oneLine(flow.error.message)}`);
  if (flow.websocket) lines.push(`WebSocket: ${flow.websocket.messages.length} messages`);
  lines.push("", `${req.method} ${req.url} ${req.httpVersion}`);
  for (const [name, value] of req.headers) lines.push(`${name}: ${value}`);
  lines.push("", bodyText(bodies.request));
  if (res === null) {
    lines.push("", flow.error === null ? "(no response yet)" : "(no response)");
  } else {
    lines.push("", `${res.httpVersion} ${res.status} ${res.reason}`.trimEnd());
    for (const [name, value] of res.headers) lines.push(`${name}: ${value}`);
    if (bodies.response !== null) lines.push("", bodyText(bodies.response));
  }
  return lines.join("\n");
}

/** The list form of a whole flow: the same summary the API lists (src/api/summary.ts). */
export function summaryOf(flow: FlowDetail): FlowSummary {
  return summarize(flowFromJson(flow), flow.intercepted);
}

function bodyText(body: BodyText): string {
  if ("note" in body) return body.note;
  const { read, contentType } = body;
  if (read.total === 0) return "(no body)";
  const text = asText(read.bytes, contentType);
  const form = read.decoded ? "" : " as sent (still content-encoded)";
  const problem = read.decodeProblem === null ? "" : ` (${read.decodeProblem})`;
  if (text === null) {
    const shown = read.bytes.subarray(0, HEX_PREVIEW);
    const hex = [...shown].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const more = read.total > shown.length ? " ..." : "";
    return `[binary body${form}, ${read.total} bytes${
      contentType ? `, ${contentType}` : ""
    }${problem}; first bytes: ${hex}${more}]`;
  }
  const cut = read.bytes.length < read.total
    ? `\n[body truncated: showing the first ${read.bytes.length} of ${read.total} bytes${form}; ` +
      `ask get_flow for more with a larger max_body_bytes]`
    : "";
  const note = read.decoded && read.decodeProblem === null ? "" : `\n[body shown${form}${problem}]`;
  return text + cut + note;
}

/** Types shown as text even with control characters in them (text/*, JSON, XML, forms...). */
const TEXT_TYPES = new RegExp(
  "^(text/|application/([\\w.+-]*\\+)?" +
    "(json|xml|javascript|x-www-form-urlencoded|yaml|x-ndjson)\\b)",
  "i",
);

/**
 * The bytes as text when they are UTF-8 text (a multi-byte character cut at the end is dropped),
 * null when they look binary.
 */
export function asText(bytes: Uint8Array, contentType: string | null): string | null {
  let text: string;
  try {
    // stream: a character cut by the truncation is held back instead of failing.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes, {
      stream: true,
    });
  } catch {
    return null;
  }
  if (contentType !== null && TEXT_TYPES.test(contentType)) return text;
  let control = 0;
  for (let i = 0; i < Math.min(text.length, 4096); i++) {
    const c = text.charCodeAt(i);
    if (c < 0x09 || (c > 0x0d && c < 0x20) || c === 0x7f) control++;
  }
  return control === 0 ? text : null;
}

/** The first Content-Type field's value, or null. */
export function contentTypeOf(headers: [string, string][]): string | null {
  return headers.find(([n]) => n.toLowerCase() === "content-type")?.[1] ?? null;
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
