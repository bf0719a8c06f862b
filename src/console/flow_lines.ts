/**
 * The text of one flow's tabs: request and response (first line, headers, body through the
 * contentviews), detail (connection, TLS, timing) and WebSocket messages.
 */
import { renderBody, type SpanKind, type ViewName } from "../contentviews/mod.ts";
import type { Flow, FlowRequest, FlowResponse } from "../flow/flow.ts";
import { humanSize } from "../addons/builtin/dumper.ts";
import type { Line, Style } from "./screen.ts";
import type { Tab } from "./model.ts";

const seg = (text: string, ...style: Style[]) => ({ text, style });

/** How the contentviews' span kinds look in a terminal. */
const SPAN_STYLE: Record<SpanKind, Style[]> = {
  key: ["cyan"],
  string: ["green"],
  number: ["yellow"],
  literal: ["magenta"],
  tag: ["blue"],
  attr: ["cyan"],
  comment: ["dim"],
  punct: [],
  keyword: ["magenta"],
  meta: ["dim"],
  error: ["red"],
};

export function flowLines(flow: Flow, tab: Tab, view: ViewName): Line[] {
  switch (tab) {
    case "request":
      return messageLines(
        `${flow.request.method} ${flow.request.target} ${flow.request.httpVersion}`,
        flow.request,
        view,
        flow.request.path,
        "request",
      );
    case "response":
      if (flow.response === null) {
        return [[
          seg(flow.error ? `no response: ${flow.error.message}` : "no response yet", "dim"),
        ]];
      }
      return messageLines(
        `${flow.response.httpVersion} ${flow.response.status} ${flow.response.reason}`,
        flow.response,
        view,
        flow.request.path,
        "response",
      );
    case "detail":
      return detailLines(flow);
    case "websocket":
      return websocketLines(flow);
  }
}

function messageLines(
  first: string,
  m: FlowRequest | FlowResponse,
  view: ViewName,
  path: string,
  side: "request" | "response",
): Line[] {
  const lines: Line[] = [[seg(first, "bold")]];
  for (const [name, value] of m.headers) lines.push([seg(name + ":", "cyan"), seg(" " + value)]);
  lines.push([]);
  if (m.body === null) {
    if (m.bodySize > 0) {
      lines.push([seg(`[body not kept: ${humanSize(m.bodySize)} streamed through]`, "dim")]);
    }
    return lines;
  }
  if (m.body.length === 0) return lines;
  const encoding = m.headers.get("content-encoding");
  let bytes: Uint8Array;
  try {
    bytes = m.decodedBody()!;
  } catch (e) {
    lines.push([seg(`[body cannot be decoded: ${(e as Error).message}]`, "red")]);
    return lines;
  }
  const shown = renderBody(bytes, m.headers.get("content-type") ?? null, view, undefined, {
    path,
    side,
    header: (name) => m.headers.get(name) ?? null,
  });
  const notes = [
    `${shown.view} view`,
    humanSize(bytes.length),
    ...(encoding && encoding !== "identity" ? [`decoded from ${encoding}`] : []),
    ...(shown.note ? [shown.note] : []),
  ];
  lines.push([seg(`[${notes.join(", ")}; m: change view]`, "dim")]);
  for (const l of shown.lines) {
    lines.push(l.map((s) => s.kind ? seg(s.text, ...SPAN_STYLE[s.kind]) : seg(s.text)));
  }
  if (m.trailers && m.trailers.raw.length > 0) {
    lines.push([], [seg("Trailers", "bold")]);
    for (const [name, value] of m.trailers) {
      lines.push([seg(name + ":", "cyan"), seg(" " + value)]);
    }
  }
  return lines;
}

function time(ms: number | undefined | null): string {
  return ms == null ? "-" : new Date(ms).toISOString();
}

function span(a: number | undefined | null, b: number | undefined | null): string {
  return a == null || b == null ? "-" : `${Math.max(0, b - a)} ms`;
}

function detailLines(flow: Flow): Line[] {
  const c = flow.client;
  const s = flow.server;
  const req = flow.request;
  const res = flow.response;
  const rows: [string, string][] = [
    ["Client", `${c.address}:${c.port}`],
    [
      "Client TLS",
      c.tls ? `${c.tls.version ?? "?"}, SNI ${c.tls.sni ?? "-"}, ALPN ${c.tls.alpn ?? "-"}` : "no",
    ],
    ["Server", s ? `${s.address}:${s.port}${s.reused ? " (reused connection)" : ""}` : "-"],
    [
      "Server TLS",
      s?.tls ? `${s.tls.version ?? "?"}, SNI ${s.tls.sni ?? "-"}, ALPN ${s.tls.alpn ?? "-"}` : "no",
    ],
    ["HTTP", req.httpVersion],
    ["Replay", flow.isReplay ? "yes" : "no"],
    ["Error", flow.error ? flow.error.message : "-"],
    ["", ""],
    ["Request start", time(req.timestampStart)],
    ["DNS lookup", span(s?.timestampDnsStart, s?.timestampDnsEnd)],
    ["Connect", span(s?.timestampTcpStart, s?.timestampTcpEnd)],
    ["TLS handshake", span(s?.timestampTlsStart, s?.timestampTlsEnd)],
    ["Request sent", span(req.timestampStart, req.timestampEnd)],
    ["Waiting", span(req.timestampEnd, res?.timestampStart)],
    ["Receiving", span(res?.timestampStart, res?.timestampEnd)],
    ["Total", span(req.timestampStart, res?.timestampEnd ?? flow.error?.timestamp)],
  ];
  return rows.map(([k, v]) => k === "" ? [] : [seg(k.padEnd(15), "bold"), seg(v)]);
}

function websocketLines(flow: Flow): Line[] {
  const ws = flow.websocket;
  if (ws === null) return [[seg("not a WebSocket flow", "dim")]];
  const lines: Line[] = [[seg(`${ws.messages.length} messages`, "bold")]];
  for (const m of ws.messages) {
    const dir = m.fromClient ? "client ->" : "<- server";
    const body = m.type === "text"
      ? new TextDecoder().decode(m.content)
      : `[${m.type}, ${m.content.length} bytes]`;
    lines.push([
      seg(new Date(m.timestamp).toISOString().slice(11, 23) + " ", "dim"),
      seg(dir + " ", m.fromClient ? "cyan" : "green"),
      seg(`${m.type} ${humanSize(m.content.length)} `, "dim"),
      seg(body.replace(/\s+/g, " ").slice(0, 500)),
    ]);
  }
  if (ws.closeCode != null) {
    lines.push([seg(`closed: ${ws.closeCode} ${ws.closeReason ?? ""}`, "dim")]);
  }
  return lines;
}
