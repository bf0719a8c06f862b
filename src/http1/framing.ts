/**
 * How the body of a message is delimited: one pure function per direction, following RFC 9112
 * section 6.3 ("Message Body Length"), whose rules are quoted inline.
 */
import { HttpError, quoted } from "./errors.ts";
import { tokens, trimOws } from "../http/headers.ts";
import type { RequestHead, ResponseHead } from "./head.ts";
import type { HeaderList } from "../http/headers.ts";

export type Framing =
  /** No body at all. */
  | { kind: "none" }
  /** Exactly `length` bytes. */
  | { kind: "length"; length: number }
  /** Chunked transfer coding, possibly with trailers. */
  | { kind: "chunked" }
  /** Everything until the connection closes (responses only). */
  | { kind: "close" }
  /** No body; the connection stops speaking HTTP (2xx to CONNECT, 101 Switching Protocols). */
  | { kind: "switch" };

const NONE: Framing = { kind: "none" };
const CHUNKED: Framing = { kind: "chunked" };
const CLOSE: Framing = { kind: "close" };
const SWITCH: Framing = { kind: "switch" };

export function requestFraming(head: RequestHead): Framing {
  const te = head.headers.getAll("transfer-encoding");
  const cl = head.headers.getAll("content-length");
  if (te.length > 0) {
    // "If a message is received with both a Transfer-Encoding and a Content-Length header field,
    // the Transfer-Encoding overrides the Content-Length. Such a message might indicate an attempt
    // to perform request smuggling ... and ought to be handled as an error."
    if (cl.length > 0) {
      throw new HttpError(400, "request has both Content-Length and Transfer-Encoding");
    }
    if (head.version === "HTTP/1.0") {
      // "A server or client that receives an HTTP/1.0 message containing a Transfer-Encoding header
      // field MUST treat the message as if the framing is faulty"
      throw new HttpError(400, "HTTP/1.0 request uses Transfer-Encoding");
    }
    // "If a Transfer-Encoding header field is present in a request and the chunked transfer coding
    // is not the final encoding, the message body length cannot be determined reliably; the server
    // MUST respond with the 400 (Bad Request) status code and then close the connection."
    checkChunkedLast(te, 400, "request");
    return CHUNKED;
  }
  if (cl.length > 0) return lengthFraming(cl, 400, "request");
  // "If this is a request message and none of the above are true, then the message body length is
  // zero (no message body is present)."
  return NONE;
}

export function responseFraming(head: ResponseHead, requestMethod: string): Framing {
  const status = head.status;
  // "Any response to a HEAD request and any response with a 1xx (Informational), 204 (No
  // Content), or 304 (Not Modified) status code is always terminated by the first empty line
  // after the header fields, regardless of the header fields present in the message, and thus
  // cannot contain a message body or trailer section."
  if (status === 101) return SWITCH;
  if (requestMethod === "HEAD" || status < 200 || status === 204 || status === 304) return NONE;
  // "Any 2xx (Successful) response to a CONNECT request implies that the connection will become a
  // tunnel immediately after the empty line that concludes the header fields."
  if (requestMethod === "CONNECT" && status < 300) return SWITCH;
  const te = head.headers.getAll("transfer-encoding");
  const cl = head.headers.getAll("content-length");
  if (te.length > 0) {
    if (cl.length > 0) {
      throw new HttpError(502, "response has both Content-Length and Transfer-Encoding");
    }
    // "If a Transfer-Encoding header field is present in a response and the chunked transfer
    // coding is not the final encoding, the message body length is determined by reading the
    // connection until it is closed by the server." That holds whatever the final coding is
    // (known, unknown or malformed): a body read until close cannot desync the connection, which
    // is not reused. Only a list that ends in chunked frames by chunks, and is checked as strictly
    // as a request's.
    const codings = tokens(te.join(","));
    if (codings.length === 0) throw new HttpError(502, "response Transfer-Encoding is empty");
    if (codings[codings.length - 1] !== "chunked") return CLOSE;
    checkChunkedLast(te, 502, "response");
    return CHUNKED;
  }
  if (cl.length > 0) return lengthFraming(cl, 502, "response");
  // "Otherwise, this is a response message without a declared message body length, so the message
  // body length is determined by the number of octets received prior to the server closing the
  // connection."
  return CLOSE;
}

/**
 * Transfer codings this proxy understands well enough to frame a message by. Anything else
 * ("xchunked", "identity", "chunked;x=1", an empty list) is refused rather than guessed at: a
 * coding one parser ignores and another honours is how TE.TE smuggling works. (RFC 9112 section
 * 6.1 suggests 501 for an unknown coding in a request; it is answered 400 and the connection
 * closed, like every other framing error.)
 */
const KNOWN_CODINGS = new Set(["chunked", "gzip", "x-gzip", "deflate", "compress", "x-compress"]);

function knownCodings(te: readonly string[], status: number, what: string): string[] {
  const codings = tokens(te.join(","));
  if (codings.length === 0) throw new HttpError(status, `${what} Transfer-Encoding is empty`);
  for (const c of codings) {
    if (!KNOWN_CODINGS.has(c)) {
      throw new HttpError(
        status,
        `${what} Transfer-Encoding ${quoted(c)} is not a supported coding`,
      );
    }
  }
  return codings;
}

/** "chunked" must be the last coding and appear once. */
function checkChunkedLast(te: readonly string[], status: number, what: string): void {
  const codings = knownCodings(te, status, what);
  const last = codings.length - 1;
  if (codings[last] !== "chunked") {
    throw new HttpError(status, `${what} Transfer-Encoding does not end with chunked`);
  }
  if (codings.indexOf("chunked") !== last) {
    throw new HttpError(status, `${what} applies the chunked coding twice`);
  }
}

/**
 * "If a message is received without Transfer-Encoding and with an invalid Content-Length header
 * field, then the message framing is invalid". Repeated identical values ("42, 42") are accepted
 * as one, as RFC 9110 section 8.6 allows; differing ones are refused.
 */
function lengthFraming(values: readonly string[], status: number, what: string): Framing {
  // The usual field: one plain number (checked three or four times per message on its way).
  const plain = values.length === 1 ? plainDigits(values[0]) : -1;
  if (plain >= 0) return plain === 0 ? NONE : { kind: "length", length: plain };
  let length = -1;
  for (const field of values) {
    for (const part of field.split(",")) {
      const v = trimOws(part);
      if (!/^[0-9]{1,15}$/.test(v)) {
        throw new HttpError(status, `${what} Content-Length ${quoted(v)} is invalid`);
      }
      const n = Number(v);
      if (length >= 0 && n !== length) {
        throw new HttpError(status, `${what} has differing Content-Length values`);
      }
      length = n;
    }
  }
  return length === 0 ? NONE : { kind: "length", length };
}

/** The value of 1 to 15 ASCII digits and nothing else, or -1. */
function plainDigits(v: string): number {
  const n = v.length;
  if (n === 0 || n > 15) return -1;
  let x = 0;
  for (let i = 0; i < n; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x;
}

/**
 * Rewrites the framing fields of a message about to be forwarded into their canonical form: one
 * Content-Length field holding the plain decimal length ("0005", "5, 5" and two equal fields
 * become "5"), and one Transfer-Encoding field listing the codings in lower case (",chunked" and
 * " CHUNKED" become "chunked"; two fields "gzip" and "chunked" become "gzip, chunked"). Some
 * origins misread the spellings this parser accepts, which is how smuggling starts; the canonical
 * form means the same to every parser. Values this parser would refuse (only an addon can set
 * them) are left alone. Callers pass a copy, so the flow keeps what the peer sent.
 */
export function canonicalizeFraming(headers: HeaderList): void {
  const cl = headers.getAll("content-length");
  // One plain number without leading zeros is canonical already.
  const canonicalAlready = cl.length === 1 && plainDigits(cl[0]) >= 0 &&
    (cl[0].length === 1 || cl[0].charCodeAt(0) !== 0x30);
  if (cl.length > 0 && !canonicalAlready) {
    let length = -1;
    for (const field of cl) {
      for (const part of field.split(",")) {
        const v = trimOws(part);
        if (!/^[0-9]{1,15}$/.test(v) || (length >= 0 && Number(v) !== length)) return;
        length = Number(v);
      }
    }
    const canonical = String(length);
    if (cl.length > 1 || cl[0] !== canonical) headers.set("Content-Length", canonical);
  }
  const te = headers.getAll("transfer-encoding");
  if (te.length > 0) {
    const codings = tokens(te.join(","));
    if (codings.length === 0) return;
    const canonical = codings.join(", ");
    if (te.length > 1 || te[0] !== canonical) headers.set("Transfer-Encoding", canonical);
  }
}

/** Whether the connection option `name` is listed in the Connection header. */
export function hasConnectionOption(headers: HeaderList, name: string): boolean {
  for (const v of headers.getAll("connection")) {
    if (tokens(v).includes(name)) return true;
  }
  return false;
}

/**
 * Whether a connection stays open after this message (RFC 9112 section 9.3): "close" ends it;
 * HTTP/1.1 persists by default; HTTP/1.0 only with "keep-alive".
 */
export function keepsAlive(version: string, headers: HeaderList): boolean {
  if (hasConnectionOption(headers, "close")) return false;
  if (version !== "HTTP/1.0") return true;
  return hasConnectionOption(headers, "keep-alive");
}
