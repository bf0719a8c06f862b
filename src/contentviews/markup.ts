/**
 * XML and HTML, highlighted: tags, attribute names, attribute values, comments. XML is also
 * re-indented one element a line; HTML keeps its own line breaks (re-flowing it would change what
 * whitespace-sensitive elements such as <pre> show).
 */
import { NotThisFormat, type Span, type ViewLine } from "./types.ts";

const PART =
  /(<!--[\s\S]*?-->)|(<!\[CDATA\[[\s\S]*?\]\]>)|(<[!?][^>]*>)|(<\/?[A-Za-z][^>]*>)|([^<]+)|(<)/g;

/** Highlights one piece of markup text (no line breaks inside the result's spans). */
function spansOf(text: string): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(PART)) {
    if (m[1] !== undefined || m[3] !== undefined) out.push({ text: m[0], kind: "comment" });
    else if (m[2] !== undefined) out.push({ text: m[0], kind: "string" });
    else if (m[4] !== undefined) out.push(...tagSpans(m[4]));
    else out.push({ text: m[0] });
  }
  return out;
}

const ATTR = /(\s+)([^\s=/>]+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+))?/g;

function tagSpans(tag: string): Span[] {
  const name = /^<\/?[^\s/>]+/.exec(tag)![0];
  const out: Span[] = [{ text: name, kind: "tag" }];
  let rest = tag.slice(name.length);
  const end = /\/?>$/.exec(rest)?.[0] ?? "";
  rest = rest.slice(0, rest.length - end.length);
  let last = 0;
  for (const m of rest.matchAll(ATTR)) {
    if (m.index! > last) out.push({ text: rest.slice(last, m.index) });
    out.push({ text: m[1] }, { text: m[2], kind: "attr" });
    if (m[3] !== undefined) out.push({ text: m[3], kind: "punct" }, { text: m[4], kind: "string" });
    last = m.index! + m[0].length;
  }
  if (last < rest.length) out.push({ text: rest.slice(last) });
  if (end) out.push({ text: end, kind: "tag" });
  return out;
}

/** Splits spans at line breaks into lines. */
function toLines(spans: Span[]): ViewLine[] {
  const lines: ViewLine[] = [[]];
  for (const s of spans) {
    const parts = s.text.split(/\r?\n/);
    parts.forEach((p, i) => {
      if (i > 0) lines.push([]);
      if (p !== "") lines[lines.length - 1].push({ text: p, kind: s.kind });
    });
  }
  return lines;
}

export function htmlView(text: string): ViewLine[] {
  return toLines(spansOf(text));
}

/** XML, one element a line, indented by depth; text content stays beside its element. */
export function xmlView(text: string): ViewLine[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith("<")) throw new NotThisFormat("not XML");
  const pieces = trimmed.match(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<[^>]+>|[^<]+/g) ?? [];
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if (p.trim() === "") continue;
    const closing = p.startsWith("</");
    const opening = /^<[A-Za-z]/.test(p) && !p.endsWith("/>");
    if (closing) depth = Math.max(0, depth - 1);
    // <a>text</a> stays on one line.
    if (
      opening && pieces[i + 1] !== undefined && !pieces[i + 1].startsWith("<") &&
      pieces[i + 2]?.startsWith("</")
    ) {
      lines.push("  ".repeat(depth) + p + pieces[i + 1].trim() + pieces[i + 2]);
      i += 2;
      continue;
    }
    lines.push("  ".repeat(depth) + p.trim());
    if (opening) depth++;
  }
  return lines.map((l) => {
    const indent = /^ */.exec(l)![0];
    return [{ text: indent }, ...spansOf(l.slice(indent.length))];
  });
}
