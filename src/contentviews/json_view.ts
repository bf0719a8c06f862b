/** Pretty JSON, highlighted: keys, strings, numbers and literals as spans (values as written). */
import { prettyJson } from "./json_pretty.ts";
import { NotThisFormat, type Span, type ViewLine } from "./types.ts";

export function jsonView(text: string): ViewLine[] {
  const pretty = prettyJson(text);
  if (pretty === null) throw new NotThisFormat("not valid JSON");
  return pretty.split("\n").map(highlightJsonLine);
}

const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d[\d.eE+-]*)|(true|false|null)|([{}[\],:])|(\s+)/g;

/** One line of prettyJson's output (tokens never span lines there) as spans. */
export function highlightJsonLine(line: string): ViewLine {
  const spans: Span[] = [];
  for (const m of line.matchAll(TOKEN)) {
    if (m[1] !== undefined) {
      spans.push({ text: m[1], kind: m[2] !== undefined ? "key" : "string" });
      if (m[2] !== undefined) spans.push({ text: m[2], kind: "punct" });
    } else if (m[3] !== undefined) spans.push({ text: m[3], kind: "number" });
    else if (m[4] !== undefined) spans.push({ text: m[4], kind: "literal" });
    else if (m[5] !== undefined) spans.push({ text: m[5], kind: "punct" });
    else spans.push({ text: m[0] });
  }
  return spans;
}
