/**
 * The UI's styles. Colours are variables: light by default, dark when the system prefers it, and
 * either when chosen with the toggle (html[data-theme]). Contentview span kinds map to .k-KIND.
 */
import { COLUMNS } from "../../webui/columns.ts";
import { listCss } from "../../webui/list_html.ts";

export const STYLE_CSS = `
:root {
  --bg: #fff; --fg: #1d1d1f; --muted: #6b6b70; --line: #e2e2e6; --head: #f4f4f6;
  --stripe: #fafafc; --sel: #cfe3ff; --focus: #9cc4ff; --accent: #0b62d6; --err: #c0262d;
  --warn-bg: #fff4d6; --warn-fg: #6b4b00; --ok: #18794e; --redirect: #8250df; --client-err: #b35900;
  --k-key: #0550ae; --k-string: #0a3069; --k-number: #953800; --k-literal: #8250df;
  --k-tag: #116329; --k-attr: #953800; --k-comment: #6e7781; --k-keyword: #cf222e;
  --bar-connect: #f0a030; --bar-tls: #b070e0; --bar-request: #30a0e0; --bar-wait: #a0a0a8;
  --bar-receive: #30b070; --bar-dns: #20a8a8;
  color-scheme: light;
}
@media (prefers-color-scheme: dark) {
  :root:not([data-theme=light]) {
    --bg: #17181b; --fg: #e4e4e7; --muted: #9a9aa3; --line: #2e3036; --head: #202227;
    --stripe: #1b1c20; --sel: #23405f; --focus: #3a6db0; --accent: #6aa8ff; --err: #ff7b7b;
    --warn-bg: #3b3010; --warn-fg: #f3d27a; --ok: #4ccb8a; --redirect: #c29cff; --client-err: #f0a050;
    --k-key: #79b8ff; --k-string: #a5d6ff; --k-number: #ffab70; --k-literal: #d2a8ff;
    --k-tag: #7ee787; --k-attr: #ffa657; --k-comment: #8b949e; --k-keyword: #ff7b72;
    color-scheme: dark;
  }
}
:root[data-theme=dark] {
  --bg: #17181b; --fg: #e4e4e7; --muted: #9a9aa3; --line: #2e3036; --head: #202227;
  --stripe: #1b1c20; --sel: #23405f; --focus: #3a6db0; --accent: #6aa8ff; --err: #ff7b7b;
  --warn-bg: #3b3010; --warn-fg: #f3d27a; --ok: #4ccb8a; --redirect: #c29cff; --client-err: #f0a050;
  --k-key: #79b8ff; --k-string: #a5d6ff; --k-number: #ffab70; --k-literal: #d2a8ff;
  --k-tag: #7ee787; --k-attr: #ffa657; --k-comment: #8b949e; --k-keyword: #ff7b72;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html, body { height: 100%; overflow: hidden; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg);
  display: flex; flex-direction: column; min-width: 1024px; }
#app { display: flex; flex-direction: column; height: 100%; }
body.dropping { outline: 3px dashed var(--accent); outline-offset: -6px; }
header { flex: none; border-bottom: 1px solid var(--line); background: var(--head); }
header .bar { display: flex; gap: 8px; align-items: center; padding: 4px 8px; flex-wrap: wrap; }
header input[type=text], header input:not([type]) { width: 230px; }
.spacer { flex: 1; }
input, textarea, select, button { font: inherit; color: inherit; background: var(--bg);
  border: 1px solid var(--line); border-radius: 3px; padding: 2px 6px; }
button { cursor: pointer; }
button:hover { border-color: var(--accent); }
a { color: var(--accent); }
.brand { margin-right: 8px; }
#stats, .muted { color: var(--muted); }
#banner { background: var(--err); color: #fff; padding: 6px 10px; font-weight: 600; }
#paused-notice { background: var(--warn-bg); color: var(--warn-fg); padding: 4px 10px; }
#paused-notice button { margin-left: 8px; }
#notice { background: var(--head); border-bottom: 1px solid var(--line); padding: 3px 10px; cursor: pointer; }
.error { color: var(--err); padding: 2px 10px; }
.note { color: var(--warn-fg); background: var(--warn-bg); padding: 2px 6px; margin: 4px 0; }
.columns-chooser { position: relative; }
.menu { position: absolute; z-index: 5; background: var(--bg); border: 1px solid var(--line);
  padding: 6px; display: flex; flex-direction: column; min-width: 140px; }
main { flex: 1; display: flex; min-height: 0; }
.list-column { flex: 1; display: flex; flex-direction: column; min-width: 0; min-height: 0; }
main.with-details .list-column { flex: 0 0 55%; }
#list { flex: 1; display: flex; flex-direction: column; min-height: 0; overflow-x: auto; }
#spacer .row.placeholder { color: var(--muted); }
.row { display: grid; height: 22px; line-height: 22px; white-space: nowrap; }
.row .cell { overflow: hidden; text-overflow: ellipsis; padding: 0 6px; }
.row.head { font-weight: 600; background: var(--head); border-bottom: 1px solid var(--line);
  user-select: none; min-width: max-content; }
.row.head .cell { position: relative; }
.row.head button.sort { all: unset; cursor: pointer; display: block; width: 100%; overflow: hidden;
  text-overflow: ellipsis; }
.row.head button.sort:focus-visible { outline: 2px solid var(--focus); outline-offset: -2px; }
#new-flows { background: var(--head); border-bottom: 1px solid var(--line); padding: 3px 10px; }
#new-flows button { margin-left: 8px; }
.resizer { position: absolute; right: 0; top: 0; bottom: 0; width: 5px; cursor: col-resize; }
.resizer:hover { background: var(--accent); }
#viewport { flex: 1; overflow: auto; outline: none; }
#spacer { position: relative; min-width: max-content; }
#spacer .row { position: absolute; left: 0; right: 0; cursor: default; user-select: none; }
.row.odd { background: var(--stripe); }
.row.selected { background: var(--sel); }
.row.focus { box-shadow: inset 3px 0 var(--focus); }
.row.paused { background: var(--warn-bg); }
.row.replay .method::after { content: " ↻"; color: var(--muted); }
.row.marked .mark { color: #e0a800; }
.s-2xx .status { color: var(--ok); }
.s-3xx .status { color: var(--redirect); }
.s-4xx .status { color: var(--client-err); }
.s-5xx .status, .s-failed .status { color: var(--err); font-weight: 600; }
.s-paused .status { color: var(--warn-fg); font-weight: 600; }
.badge { font-size: 10px; font-weight: 600; border-radius: 3px; padding: 0 4px; margin-left: 6px;
  background: var(--head); border: 1px solid var(--line); }
.paused-badge { background: var(--warn-bg); color: var(--warn-fg); }
#details { flex: 1; overflow: auto; border-left: 1px solid var(--line); padding: 6px 10px; min-width: 0; }
#details h2 { font-size: 14px; margin: 8px 0 4px; }
#details h2.url { overflow-wrap: anywhere; }
#details h3 { font-size: 12px; margin: 8px 0 2px; color: var(--muted); }
.actions { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.paused-note { color: var(--warn-fg); background: var(--warn-bg); padding: 2px 6px; }
.tabs { display: flex; gap: 2px; border-bottom: 1px solid var(--line); margin-top: 6px; }
.tab { border: none; border-bottom: 2px solid transparent; border-radius: 0; background: none; }
.tab.active { border-bottom-color: var(--accent); font-weight: 600; }
table { border-collapse: collapse; }
table.headers, table.pairs { width: 100%; }
table.headers th, table.pairs th { text-align: left; font-weight: 600; padding-right: 10px;
  vertical-align: top; white-space: nowrap; }
table td { overflow-wrap: anywhere; }
pre { margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; font: 12px/1.45 ui-monospace, monospace; }
pre.view .line { min-height: 1.45em; }
.body-bar { display: flex; gap: 10px; align-items: center; margin: 6px 0; }
.decoded { background: var(--head); border: 1px solid var(--line); padding: 0 6px; border-radius: 3px; }
img.preview { max-width: 100%; max-height: 400px; display: block; margin: 6px 0;
  background: repeating-conic-gradient(#ccc 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
.k-key { color: var(--k-key); } .k-string { color: var(--k-string); } .k-number { color: var(--k-number); }
.k-literal { color: var(--k-literal); } .k-tag { color: var(--k-tag); } .k-attr { color: var(--k-attr); }
.k-comment { color: var(--k-comment); font-style: italic; } .k-keyword { color: var(--k-keyword); }
.k-punct { color: var(--muted); } .k-meta { color: var(--muted); font-style: italic; }
.k-error { color: var(--err); }
.waterfall { margin: 8px 0; }
.phase { display: grid; grid-template-columns: 70px 1fr 70px; gap: 8px; align-items: center; height: 20px; }
.track { position: relative; height: 10px; background: var(--head); }
.wf-bar { position: absolute; top: 0; bottom: 0; background: var(--bar-request); }
.wf-dns { background: var(--bar-dns); } .wf-connect { background: var(--bar-connect); }
.wf-tls { background: var(--bar-tls); }
.wf-wait { background: var(--bar-wait); } .wf-receive { background: var(--bar-receive); }
.phase-ms { text-align: right; color: var(--muted); }
table.ws-messages { width: 100%; }
table.ws-messages th { text-align: left; }
table.ws-messages td { vertical-align: top; padding-right: 8px; }
table.sse-events { width: 100%; border-collapse: collapse; }
table.sse-events th { text-align: left; }
table.sse-events td { vertical-align: top; padding-right: 8px; border-top: 1px solid var(--line); }
table.sse-events pre { margin: 0; white-space: pre-wrap; word-break: break-all; }
tr.sse-comment, tr.sse-unfinished { color: var(--muted); }
.ws-out td:first-child { color: var(--accent); } .ws-in td:first-child { color: var(--ok); }
.comment { margin: 4px 0 8px; display: flex; gap: 6px; align-items: flex-start; flex-wrap: wrap; }
#comment-text { margin: 0; padding: 2px 6px; background: var(--warn-bg); white-space: pre-wrap; flex: 1 1 100%; }
#comment-input { flex: 1 1 100%; font: inherit; }
.editor label { display: block; margin-top: 8px; font-weight: 600; }
.editor input#edit-first { width: 100%; }
.headers-editor { width: 100%; }
.headers-editor input { width: 100%; }
.body-editor textarea { width: 100%; min-height: 180px; font: 12px/1.4 ui-monospace, monospace; margin-top: 4px; }
#event-log { flex: 0 0 180px; border-top: 1px solid var(--line); display: flex; flex-direction: column; }
.log-head { display: flex; justify-content: space-between; padding: 2px 8px; background: var(--head); }
.log-lines { overflow: auto; padding: 2px 8px; font: 12px/1.4 ui-monospace, monospace; }
.log-line.error { color: var(--err); } .log-line.warn { color: var(--warn-fg); }
.overlay { position: fixed; inset: 0; background: rgba(0,0,0,.35); display: flex;
  align-items: center; justify-content: center; z-index: 10; }
.overlay-box { background: var(--bg); padding: 16px 20px; border-radius: 6px; min-width: 360px;
  max-width: 90vw; max-height: 90vh; overflow: auto; }
#compose .overlay-box, #rules .overlay-box { width: 760px; }
table.rules { width: 100%; margin-bottom: 8px; } table.rules input { width: 100%; }
.overlay-box th { text-align: left; padding-right: 16px; }
kbd { font: 12px ui-monospace, monospace; border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; }
${listCss(COLUMNS)}`;
