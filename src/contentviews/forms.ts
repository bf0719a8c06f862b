/**
 * Forms and tables: urlencoded bodies, multipart/form-data parts (RFC 7578), and the query and
 * cookie tables shown beside a message.
 */
import { utf8OrNull } from "../flow/encoding.ts";
import { NotThisFormat, type ViewLine } from "./types.ts";

/** name = value rows, names padded to one width (up to 30). */
export function tableLines(pairs: [string, string][]): ViewLine[] {
  if (pairs.length === 0) return [];
  const width = Math.min(30, Math.max(...pairs.map(([k]) => k.length)));
  return pairs.map(([k, v]) => [
    { text: k.padEnd(width), kind: "key" },
    { text: " = ", kind: "punct" },
    { text: v, kind: "string" },
  ]);
}

export function urlencodedView(text: string): ViewLine[] {
  return tableLines([...new URLSearchParams(text)]);
}

/** The boundary parameter of a multipart content type, or null. */
export function multipartBoundary(contentType: string | null): string | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  return m ? (m[1] ?? m[2]) : null;
}

const latin1 = new TextDecoder("latin1");

/** Each part: its headers, then its body as text (or its size when binary). */
export function multipartView(bytes: Uint8Array, contentType: string | null): ViewLine[] {
  const boundary = multipartBoundary(contentType);
  if (boundary === null) throw new NotThisFormat("no multipart boundary in Content-Type");
  // Latin-1 maps bytes one to one, so offsets in the string are offsets in the bytes.
  const all = latin1.decode(bytes);
  const delimiter = `--${boundary}`;
  const chunks = all.split(delimiter);
  if (chunks.length < 3) throw new NotThisFormat("no multipart parts");
  const lines: ViewLine[] = [];
  let offset = chunks[0].length + delimiter.length;
  for (const chunk of chunks.slice(1)) {
    const start = offset;
    offset += chunk.length + delimiter.length;
    if (chunk.startsWith("--")) break; // the closing delimiter
    const headEnd = chunk.indexOf("\r\n\r\n");
    if (headEnd < 0) continue;
    const head = chunk.slice(2, headEnd);
    const bodyStart = start + headEnd + 4;
    const bodyEnd = start + chunk.length - (chunk.endsWith("\r\n") ? 2 : 0);
    const body = bytes.subarray(bodyStart, Math.max(bodyStart, bodyEnd));
    const disposition = /content-disposition:[^\r\n]*/i.exec(head)?.[0] ?? "";
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1] ?? "?";
    const file = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    lines.push([
      { text: "part ", kind: "meta" },
      { text: name, kind: "key" },
      ...(file !== undefined ? [{ text: ` (file ${file})`, kind: "meta" as const }] : []),
    ]);
    for (const h of head.split("\r\n")) lines.push([{ text: "  " + h, kind: "comment" }]);
    const text = utf8OrNull(body);
    if (text === null) lines.push([{ text: `  [binary, ${body.length} bytes]`, kind: "meta" }]);
    else for (const l of text.split(/\r?\n/)) lines.push([{ text: "  " + l }]);
    lines.push([]);
  }
  return lines;
}

/** The query string of a URL as name/value pairs. */
export function queryPairs(url: string): [string, string][] {
  const q = url.indexOf("?");
  if (q < 0) return [];
  const hash = url.indexOf("#", q);
  return [...new URLSearchParams(url.slice(q + 1, hash < 0 ? undefined : hash))];
}

/** Cookie header values (`a=1; b=2`, possibly several headers) as pairs. */
export function cookiePairs(cookieHeaders: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const header of cookieHeaders) {
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (part.trim() === "") continue;
      out.push(eq < 0 ? [part.trim(), ""] : [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  }
  return out;
}

/** Set-Cookie values as name, value and the attributes after them. */
export function setCookieRows(setCookies: string[]): [string, string, string][] {
  return setCookies.map((sc) => {
    const [first, ...attrs] = sc.split(";");
    const eq = first.indexOf("=");
    return [
      eq < 0 ? first.trim() : first.slice(0, eq).trim(),
      eq < 0 ? "" : first.slice(eq + 1).trim(),
      attrs.map((a) => a.trim()).filter(Boolean).join("; "),
    ];
  });
}
