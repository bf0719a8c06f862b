/** JavaScript and CSS, highlighted as written (no reformatting): comments, strings, keywords. */
import type { Span, SpanKind, ViewLine } from "./types.ts";

const JS_KEYWORDS = new Set(
  ("break case catch class const continue debugger default delete do else export extends false " +
    "finally for function if import in instanceof let new null return super switch this throw " +
    "true try typeof undefined var void while with yield async await of static get set")
    .split(" "),
);

const JS_TOKEN =
  /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z_$][\w$]*)|(\s+)|([^\s\w$"'`/]+|\/)/g;

export function javascriptView(text: string): ViewLine[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(JS_TOKEN)) {
    const kind: SpanKind | undefined = m[1] !== undefined
      ? "comment"
      : m[2] !== undefined
      ? "string"
      : m[3] !== undefined
      ? "number"
      : m[4] !== undefined && JS_KEYWORDS.has(m[4])
      ? "keyword"
      : m[6] !== undefined
      ? "punct"
      : undefined;
    spans.push({ text: m[0], kind });
  }
  return splitSpans(spans);
}

const CSS_TOKEN =
  /(\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|([^{};\s][^{};]*?)(?=\s*\{)|([-\w]+)(\s*:)|(#[0-9a-fA-F]{3,8}\b|-?\d*\.?\d+(?:px|em|rem|%|s|ms|vh|vw|deg)?\b)|(\s+)|([{};:,()])|([^\s{};:,()"']+)/g;

export function cssView(text: string): ViewLine[] {
  const spans: Span[] = [];
  for (const m of text.matchAll(CSS_TOKEN)) {
    if (m[1] !== undefined) spans.push({ text: m[0], kind: "comment" });
    else if (m[2] !== undefined) spans.push({ text: m[0], kind: "string" });
    else if (m[3] !== undefined) spans.push({ text: m[0], kind: "tag" });
    else if (m[4] !== undefined) {
      spans.push({ text: m[4], kind: "attr" }, { text: m[5], kind: "punct" });
    } else if (m[6] !== undefined) spans.push({ text: m[0], kind: "number" });
    else if (m[8] !== undefined) spans.push({ text: m[0], kind: "punct" });
    else spans.push({ text: m[0] });
  }
  return splitSpans(spans);
}

/** Spans that may hold line breaks, as lines. */
export function splitSpans(spans: Span[]): ViewLine[] {
  const lines: ViewLine[] = [[]];
  for (const s of spans) {
    const parts = s.text.split(/\r?\n/);
    parts.forEach((p, i) => {
      if (i > 0) lines.push([]);
      if (p !== "") lines[lines.length - 1].push(s.kind ? { text: p, kind: s.kind } : { text: p });
    });
  }
  return lines;
}
