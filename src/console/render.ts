/**
 * The console's frame: a title bar, the current view, a status bar and the prompt line, for a
 * terminal of any size from 80x24 up (narrower ones get fewer columns, never wrapped lines).
 */
import { humanSize } from "../addons/builtin/dumper.ts";
import type { Flow } from "../flow/flow.ts";
import { flowLines } from "./flow_lines.ts";
import { HELP } from "./help.ts";
import type { ConsoleModel } from "./model.ts";
import { TABS } from "./model.ts";
import type { Line, Segment, Style } from "./screen.ts";

export interface RenderSource {
  get(id: string): Flow | undefined;
  pausedAt(id: string): "request" | "response" | null;
  /** "proxy at http://127.0.0.1:8080", shown in the title bar. */
  title: string;
  events: readonly string[];
  /** [name, value] pairs for the options view. */
  options(): [string, string][];
  pausedCount(): number;
}

const seg = (text: string, ...style: Style[]): Segment => ({ text, style });

export function renderFrame(
  model: ConsoleModel,
  src: RenderSource,
  width: number,
  height: number,
): Line[] {
  const bodyRows = Math.max(1, height - 3);
  model.pageRows = Math.max(1, bodyRows - 1);
  const lines: Line[] = [titleBar(model, src)];
  let body: Line[];
  switch (model.view) {
    case "list":
      body = listView(model, src, width, bodyRows);
      break;
    case "flow":
      body = flowView(model, src, bodyRows);
      break;
    case "help":
      body = page(model, HELP.map((l) => [seg(l)]), bodyRows, "Help (q: back)");
      break;
    case "events":
      body = page(
        model,
        src.events.map((l) => [seg(l, ...(/error|fail/i.test(l) ? ["red" as const] : []))]),
        bodyRows,
        "Event log (q: back)",
      );
      break;
    case "options":
      body = optionsView(model, src, bodyRows);
      break;
  }
  for (let i = 0; i < bodyRows; i++) lines.push(body[i] ?? []);
  lines.push(statusBar(model, src));
  lines.push(promptLine(model));
  return lines;
}

function titleBar(model: ConsoleModel, src: RenderSource): Line {
  const paused = src.pausedCount();
  return [
    seg(` mitm.ts console  ${src.title}`, "reverse", "bold"),
    seg(`  [${model.ids.length} flows]`, "reverse"),
    ...(model.filterText ? [seg(`  filter: ${model.filterText}`, "reverse")] : []),
    ...(model.interceptText ? [seg(`  intercept: ${model.interceptText}`, "reverse")] : []),
    ...(paused ? [seg(`  ${paused} paused`, "reverse", "yellow")] : []),
    seg(" ", "reverse"),
  ];
}

function statusBar(model: ConsoleModel, src: RenderSource): Line {
  const help = model.view === "list"
    ? "?:help  Enter:open  f:filter  i:intercept  a:resume  q:quit"
    : model.view === "flow"
    ? "Tab:next tab  m:view  e:edit  a:resume  r:replay  q:back"
    : "q:back";
  const pos = model.view === "list" && model.ids.length
    ? `[${model.cursor + 1}/${model.ids.length}]${model.follow ? " follow" : ""} `
    : "";
  const status = model.status || (src.events.length ? src.events[src.events.length - 1] : "");
  return [seg(pos, "dim"), seg(status.slice(0, 200)), seg("   " + help, "dim")];
}

function promptLine(model: ConsoleModel): Line {
  const p = model.prompt;
  if (p === null) return [];
  const label = model.promptLabel();
  if (p.error !== null) {
    return [seg(label + p.text, "bold"), seg("  " + p.error, "red")];
  }
  return [seg(label, "bold"), seg(p.text), seg("_", "reverse")];
}

function statusStyle(status: number): Style {
  return status >= 500 ? "red" : status >= 400 ? "yellow" : status >= 300 ? "cyan" : "green";
}

function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0"))
    .join(":");
}

function typeOf(flow: Flow): string {
  if (flow.websocket) return "websocket";
  const t = flow.response?.headers.get("content-type") ?? "";
  return t.split(";")[0].trim();
}

function fit(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(0, width - 1)) + "…" : text.padEnd(width);
}

/** One row of the flow list. */
export function listRow(flow: Flow, paused: string | null, width: number): Segment[] {
  const req = flow.request;
  const res = flow.response;
  const end = res?.timestampEnd ?? flow.error?.timestamp ?? null;
  const duration = end === null ? "" : `${Math.max(0, end - req.timestampStart)}ms`;
  const size = res ? humanSize(res.bodySize) : "";
  // Fixed columns first; what is left goes to host (a third) and path.
  // marks 2, time 9, scheme 6, method 8, status 4, size 7, duration 7, two separators.
  const fixed = 45;
  const showType = width >= 100;
  const typeW = showType ? 16 : 0;
  const rest = Math.max(12, width - fixed - typeW);
  const hostW = Math.min(40, Math.max(8, Math.floor(rest * 0.4)));
  const pathW = Math.max(4, rest - hostW);
  const status = flow.error && !res ? "ERR" : res ? String(res.status) : paused ? "..." : "";
  return [
    seg(flow.marked ? "●" : " ", "magenta"),
    seg(paused ? "⏸" : " ", "yellow"),
    seg(clock(req.timestampStart) + " ", "dim"),
    seg(fit(req.scheme, 5) + " "),
    seg(fit(req.method, 7) + " ", "bold"),
    seg(fit(req.host + (isDefaultPort(req.scheme, req.port) ? "" : `:${req.port}`), hostW) + " "),
    seg(fit(req.path, pathW) + " "),
    seg(
      fit(status, 3) + " ",
      ...(flow.error ? ["red" as const] : res ? [statusStyle(res.status)] : []),
    ),
    // A flow that failed before its response shows why where the type and size would be.
    ...(flow.error && !res ? [seg(fit(flow.error.message, typeW + 6) + " ", "red")] : [
      ...(showType ? [seg(fit(typeOf(flow), typeW - 1) + " ", "dim")] : []),
      seg(size.padStart(6) + " "),
    ]),
    seg(duration.padStart(7)),
  ];
}

function isDefaultPort(scheme: string, port: number): boolean {
  return (scheme === "http" && port === 80) || (scheme === "https" && port === 443);
}

function listView(model: ConsoleModel, src: RenderSource, width: number, rows: number): Line[] {
  if (model.ids.length === 0) {
    return [[], [
      seg(
        model.filterText
          ? `  No flows match "${model.filterText}" (f to change the filter).`
          : "  No flows yet: send traffic through the proxy.",
        "dim",
      ),
    ]];
  }
  // Keep the cursor in view: scroll by the least that shows it.
  let top = Math.min(model.scroll, model.cursor);
  if (model.cursor >= top + rows) top = model.cursor - rows + 1;
  top = Math.max(0, Math.min(top, model.ids.length - rows));
  model.scroll = top;
  const out: Line[] = [];
  for (let i = top; i < Math.min(model.ids.length, top + rows); i++) {
    const id = model.ids[i];
    const flow = src.get(id);
    if (flow === undefined) {
      out.push([seg("  (flow gone)", "dim")]);
      continue;
    }
    const row = listRow(flow, src.pausedAt(id), width);
    out.push(i === model.cursor ? row.map((s) => ({ ...s, style: ["reverse"] })) : row);
  }
  return out;
}

function flowView(model: ConsoleModel, src: RenderSource, rows: number): Line[] {
  const id = model.selected;
  const flow = id === null ? undefined : src.get(id);
  if (flow === undefined) return [[seg("The flow is gone.", "dim")]];
  const paused = src.pausedAt(flow.id);
  const tabs: Line = [];
  for (const t of TABS) {
    if (t === "websocket" && flow.websocket === null) continue;
    tabs.push(seg(` ${t} `, ...(t === model.tab ? ["reverse" as const, "bold" as const] : [])));
  }
  if (paused) tabs.push(seg(`   paused at ${paused}: a resume, x kill, e edit`, "yellow"));
  const text = flowLines(flow, model.tab, model.contentView);
  return [tabs, ...page(model, text, rows - 1, null)];
}

/** A scrolled page of lines, with a heading when given. */
function page(model: ConsoleModel, lines: Line[], rows: number, heading: string | null): Line[] {
  const head = heading === null ? [] : [[seg(heading, "bold")]];
  const room = rows - head.length;
  model.scroll = Math.max(0, Math.min(model.scroll, lines.length - room));
  return [...head, ...lines.slice(model.scroll, model.scroll + room)];
}

function optionsView(model: ConsoleModel, src: RenderSource, rows: number): Line[] {
  const values = src.options();
  const out: Line[] = [[seg("Options (Enter: set the one under the cursor, q: back)", "bold")]];
  const top = Math.max(0, model.optionCursor - (rows - 2));
  values.slice(top, top + rows - 1).forEach(([name, value], i) => {
    const row = [seg(name.padEnd(28), "bold"), seg(value)];
    out.push(
      top + i === model.optionCursor ? row.map((s) => ({ ...s, style: ["reverse"] })) : row,
    );
  });
  return out;
}
