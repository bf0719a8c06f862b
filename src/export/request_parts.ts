/**
 * What every "copy as" format needs from a recorded request: its URL, the header fields worth
 * repeating, and its body bytes (as on the wire, Content-Encoding included).
 */
import type { FlowRequest } from "../flow/flow.ts";
import { CONNECTION_FIELDS } from "../http/connection_headers.ts";
import { sameName } from "../http/headers.ts";

export class ExportError extends Error {}

/**
 * Fields that describe the original connection or framing, not the request: the client a
 * snippet is pasted into makes its own (RFC 9110 section 7.6.1; Content-Length follows the body).
 */
const LEFT_OUT = new Set([...CONNECTION_FIELDS, "http2-settings"]);

export interface RequestParts {
  method: string;
  url: string;
  /** [name, value] in order; Host only when it differs from the URL's authority. */
  headers: [string, string][];
  /** Null when the request has no body. */
  body: Uint8Array | null;
}

/** The parts of `request`; throws ExportError when its body streamed through and was not kept. */
export function requestParts(request: FlowRequest): RequestParts {
  if (request.body === null && request.bodySize > 0) {
    throw new ExportError(
      "the request body was not kept (it streamed through), so the request cannot be repeated",
    );
  }
  const headers: [string, string][] = [];
  const raw = request.headers.raw;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.startsWith(":") || LEFT_OUT.has(name.toLowerCase())) continue;
    if (sameName(name, "host") && raw[i + 1].toLowerCase() === request.authority.toLowerCase()) {
      continue;
    }
    headers.push([name, raw[i + 1]]);
  }
  const body = request.body !== null && request.body.length > 0 ? request.body : null;
  return { method: request.method, url: request.url, headers, body };
}

/** True when some header is named `name` (any case). */
export function hasHeader(headers: [string, string][], name: string): boolean {
  return headers.some(([n]) => sameName(n, name));
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * The body as text when it can be pasted as a quoted string unchanged: valid UTF-8 without NUL or
 * control characters other than tab, CR and LF. Null otherwise (binary).
 */
export function pastableText(body: Uint8Array): string | null {
  let text: string;
  try {
    text = utf8Strict.decode(body);
  } catch {
    return null;
  }
  // The fatal decoder drops a leading BOM, which would change the bytes.
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return null;
  // deno-lint-ignore no-control-regex
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text) ? null : text;
}
