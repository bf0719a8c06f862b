/**
 * One part of a flow as the file $EDITOR opens, and back: the request or status line as text,
 * headers as "Name: value" lines, the body as its decoded bytes (binary-safe: the file holds the
 * bytes themselves, and an unchanged body is not touched).
 */
import type { Flow } from "../flow/flow.ts";
import { HeaderList } from "../http/headers.ts";
import type { EditPart } from "./model.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export class EditError extends Error {}

/** The bytes the editor is given for `part`. */
export function partToFile(flow: Flow, part: EditPart): Uint8Array {
  const req = flow.request;
  const res = flow.response;
  switch (part) {
    case "request-line":
      return utf8.encode(`${req.method} ${req.url}\n`);
    case "request-headers":
      return utf8.encode([...req.headers].map(([n, v]) => `${n}: ${v}\n`).join(""));
    case "request-body":
      return req.decodedBody() ?? new Uint8Array(0);
    case "response-line":
      return utf8.encode(`${res!.status} ${res!.reason}\n`);
    case "response-headers":
      return utf8.encode([...res!.headers].map(([n, v]) => `${n}: ${v}\n`).join(""));
    case "response-body":
      return res!.decodedBody() ?? new Uint8Array(0);
  }
}

/** Applies the edited file to the flow; throws EditError (one line) when it does not parse. */
export function applyFile(flow: Flow, part: EditPart, before: Uint8Array, after: Uint8Array): void {
  if (sameBytes(before, after)) return;
  const req = flow.request;
  const res = flow.response!;
  switch (part) {
    case "request-line": {
      const m = /^\s*(\S+)\s+(https?:\/\/\S+)\s*$/i.exec(text.decode(after));
      if (!m || !TOKEN.test(m[1])) {
        throw new EditError("the request line must be METHOD http(s)://host/path");
      }
      req.method = m[1];
      req.url = m[2];
      return;
    }
    case "response-line": {
      const m = /^\s*(\d{3})(?:[ \t]+([^\r\n]*))?\s*$/.exec(text.decode(after));
      if (!m) throw new EditError("the status line must be a three-digit status and a reason");
      res.status = Number(m[1]);
      res.reason = m[2]?.trim() ?? "";
      return;
    }
    case "request-headers":
    case "response-headers": {
      const headers = (part === "request-headers" ? req : res).headers;
      const pairs = parseHeaders(text.decode(after));
      // In place: the proxy may hold a reference to this list.
      headers.raw.splice(0, headers.raw.length, ...HeaderList.from(pairs).raw);
      return;
    }
    case "request-body":
      req.setBody(after);
      return;
    case "response-body":
      res.setBody(after);
      return;
  }
}

function parseHeaders(source: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [i, line] of source.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon).trim() : "";
    if (!TOKEN.test(name)) throw new EditError(`line ${i + 1} is not "Name: value"`);
    pairs.push([name, line.slice(colon + 1).trim()]);
  }
  return pairs;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
