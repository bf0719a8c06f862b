/** The UI's styles: a compact table on the left, details on the right. */
export const STYLE_CSS = `
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { font: 13px/1.4 system-ui, sans-serif; display: flex; flex-direction: column; color: #222; }
header { display: flex; gap: 10px; align-items: center; padding: 6px 10px; background: #2d3340; color: #eee; flex-wrap: wrap; }
header .brand { margin-right: 8px; }
header input { width: 240px; font: 12px monospace; padding: 3px 5px; }
header a, header button { color: #eee; font-size: 12px; }
header button { background: #4a5263; border: 1px solid #667; border-radius: 3px; padding: 3px 8px; cursor: pointer; }
#stats { margin-left: auto; font-size: 12px; opacity: .85; }
.error, #banner { padding: 4px 10px; background: #fde8e8; color: #a00; font: 12px monospace; white-space: pre-wrap; }
main { flex: 1; display: flex; min-height: 0; }
#list { flex: 1 1 55%; display: flex; flex-direction: column; min-width: 0; border-right: 1px solid #ccc; }
#viewport { flex: 1; overflow-y: auto; position: relative; outline: none; }
#spacer { position: relative; }
#rows { position: absolute; left: 0; right: 0; top: 0; }
.row { display: grid; grid-template-columns: 64px 170px 1fr 60px 64px 64px 64px; height: 22px; line-height: 22px; padding: 0 6px; white-space: nowrap; cursor: default; }
.row > span { overflow: hidden; text-overflow: ellipsis; padding-right: 6px; }
.row.head { font-weight: 600; background: #eef0f3; border-bottom: 1px solid #ccc; }
.row:nth-child(even) { background: #f7f8fa; }
.row.selected { background: #cfe0ff !important; }
.row.paused { background: #fff2c6; }
.row.failed .status { color: #b00; }
.row.replay .method::after { content: " \\21bb"; color: #36c; }
#details { flex: 1 1 45%; overflow: auto; padding: 8px 12px; min-width: 0; }
#details h2 { font-size: 14px; margin: 12px 0 4px; }
#details h2:first-child { margin-top: 0; }
#details .actions { display: flex; gap: 6px; margin: 6px 0; flex-wrap: wrap; }
#details .paused-note { background: #fff2c6; padding: 4px 6px; }
#details table { border-collapse: collapse; font: 12px monospace; width: 100%; }
#details td { border-bottom: 1px solid #eee; padding: 1px 6px 1px 0; vertical-align: top; word-break: break-all; }
#details td:first-child { font-weight: 600; white-space: nowrap; width: 1%; }
#details pre { background: #f6f7f9; padding: 6px; margin: 4px 0; white-space: pre-wrap; word-break: break-all; font: 12px monospace; max-height: 400px; overflow: auto; }
#details img.preview { max-width: 100%; max-height: 300px; border: 1px solid #ddd; background: #fff; }
#details .editor textarea, #details .editor input { width: 100%; font: 12px monospace; }
#details .editor textarea { min-height: 80px; }
#details .editor label { display: block; margin-top: 6px; }
#details .muted { color: #777; }
`;
