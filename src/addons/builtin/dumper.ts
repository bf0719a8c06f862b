/**
 * mitmdump-style terminal output: one line per finished flow (client, method, URL, status,
 * size, duration), headers and bodies at higher `flow_detail`, colour only on a terminal.
 *
 *   127.0.0.1:50012: GET https://example.com/ << 200 OK 1.2k 35ms
 */
import { renderBody } from "../../contentviews/mod.ts";
import type { Flow, FlowRequest, FlowResponse } from "../../flow/flow.ts";
import type { Filter } from "../../filter/mod.ts";
import type { Addon } from "../types.ts";

export interface DumperOptions {
  /** 0 prints nothing, 1 one line per flow, 2 adds headers, 3 adds bodies. */
  detail: number;
  /** Only flows matching this are shown. */
  filter?: Filter | null;
  /** Colour the output (only for a terminal). */
  color: boolean;
  write: (text: string) => void;
}

/** Bodies are rendered from their first BODY_PREVIEW * 16 bytes (64 KiB). */
const BODY_PREVIEW = 4096;

export function dumper(options: DumperOptions): Addon {
  return {
    name: "dumper",
    flow_done(flow) {
      if (options.detail <= 0 || (options.filter && !options.filter(flow))) return;
      options.write(formatFlow(flow, options.detail, options.color));
    },
  };
}

const C = {
  dim: (s: string) => `\x1b[2m${s}\x1b[22m`,
  bold: (s: string) => `\x1b[1m${s}\x1b[22m`,
  red: (s: string) => `\x1b[31m${s}\x1b[39m`,
  green: (s: string) => `\x1b[32m${s}\x1b[39m`,
  yellow: (s: string) => `\x1b[33m${s}\x1b[39m`,
  cyan: (s: string) => `\x1b[36m${s}\x1b[39m`,
};
const PLAIN = Object.fromEntries(Object.keys(C).map((k) => [k, (s: string) => s])) as typeof C;

/** The output for one flow (ending with a newline). */
export function formatFlow(flow: Flow, detail: number, color: boolean): string {
  const c = color ? C : PLAIN;
  const { request, response, error } = flow;
  const client = `${flow.client.address}:${flow.client.port}`;
  let line = `${c.dim(client + ":")} ${c.bold(request.method)} ${request.target}`;
  if (response) {
    const status = `${response.status} ${response.reason}`.trimEnd();
    const paint = response.status >= 500
      ? c.red
      : response.status >= 400
      ? c.yellow
      : response.status >= 300
      ? c.cyan
      : c.green;
    line += ` << ${paint(status)} ${humanSize(response.bodySize)}`;
  }
  const end = response?.timestampEnd ?? error?.timestamp ?? null;
  if (end !== null) line += ` ${Math.max(0, end - request.timestampStart)}ms`;
  if (error) line += ` ${c.red("error: " + error.message)}`;
  const out = [line];
  if (detail >= 2) {
    out.push(...headerLines(request, "  > "));
    if (detail >= 3) out.push(...bodyLines(request, "  > ", request.path, "request"));
    if (response) {
      out.push(...headerLines(response, "  < "));
      if (detail >= 3) out.push(...bodyLines(response, "  < ", request.path, "response"));
    }
    out.push(...websocketLines(flow, detail >= 3));
  }
  return out.join("\n") + "\n";
}

function headerLines(message: FlowRequest | FlowResponse, prefix: string): string[] {
  const lines: string[] = [];
  for (const [name, value] of message.headers) lines.push(`${prefix}${name}: ${value}`);
  return lines;
}

/** Lines of a body at most; the rest is counted. */
const BODY_LINES = 200;

/** The body through the contentviews (pretty JSON, forms, protobuf...), as mitmdump shows it. */
function bodyLines(
  message: FlowRequest | FlowResponse,
  prefix: string,
  path: string,
  side: "request" | "response",
): string[] {
  if (message.body === null) {
    return message.bodySize > 0 ? [`${prefix}[body not kept: ${humanSize(message.bodySize)}]`] : [];
  }
  if (message.body.length === 0) return [];
  let decoded: Uint8Array;
  try {
    decoded = message.decodedBody()!;
  } catch (e) {
    return [`${prefix}[body cannot be decoded: ${(e as Error).message}]`];
  }
  const shown = renderBody(
    decoded.subarray(0, BODY_PREVIEW * 16),
    message.headers.get("content-type") ?? null,
    "auto",
    BODY_LINES,
    { path, side, header: (name) => message.headers.get(name) ?? null },
  );
  if (shown.view === "hex") return [`${prefix}[binary body: ${humanSize(decoded.length)}]`];
  const lines = shown.lines.map((l) => prefix + l.map((s) => s.text).join(""));
  if (decoded.length > BODY_PREVIEW * 16) {
    lines.push(`${prefix}[... ${humanSize(decoded.length - BODY_PREVIEW * 16)} more]`);
  }
  return lines;
}

/** WebSocket messages, one line each: direction, type, size and the start of the text. */
function websocketLines(flow: Flow, full: boolean): string[] {
  const ws = flow.websocket;
  if (ws === null) return [];
  const out = [`  WebSocket: ${ws.messages.length} messages`];
  for (const m of ws.messages) {
    const dir = m.fromClient ? "  ws >" : "  ws <";
    const text = m.type === "text" ? m.text.replace(/\s+/g, " ") : "";
    const shown = full || text.length <= 80 ? text : text.slice(0, 80) + "…";
    out.push(`${dir} ${m.type} ${humanSize(m.content.length)}${shown ? " " + shown : ""}`);
  }
  if (ws.closeCode !== null) {
    out.push(`  ws closed ${ws.closeCode} ${ws.closeReason ?? ""}`.trimEnd());
  }
  return out;
}

/** 1.2k, 3.4m, 512b, like mitmdump. */
export function humanSize(n: number): string {
  if (n < 1024) return `${n}b`;
  const units = ["k", "m", "g", "t"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}
