/**
 * Request line, status line and header block: parsing (RFC 9112 sections 2-5) and serializing.
 * Parsing is strict where leniency enables request smuggling (bare LF, bare CR, NUL, obs-fold,
 * whitespace before the colon) and keeps everything else byte for byte. Responses may end lines
 * with a bare LF, as browsers accept (RFC 9112 section 2.2 lets a recipient do so); they are sent
 * on with CRLF, since every head is serialized anew.
 */
import { byteLength, CR, HTAB, indexOfByte, latin1, LF, SP, writeString } from "./bytes.ts";
import { HttpError } from "./errors.ts";
import { HeaderList } from "../http/headers.ts";
import type { ReceiveBuffer } from "./receive_buffer.ts";

export interface RequestHead {
  method: string;
  /** The request-target exactly as sent (see target.ts to interpret it). */
  target: string;
  /** "HTTP/1.1" or "HTTP/1.0" (any "HTTP/1.x" is kept as sent). */
  version: string;
  headers: HeaderList;
}

export interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: HeaderList;
}

export interface HeadLimits {
  /** Largest head (start line + fields + final CRLF) accepted, in bytes. */
  maxHeadBytes: number;
  /** Most header fields accepted in one head or trailer section. */
  maxHeaderCount: number;
  /**
   * Largest body accepted, in bytes (Infinity: no limit). A declared Content-Length over it is
   * refused at the head; chunked and close-delimited bodies are counted as they pass.
   */
  maxBodyBytes?: number;
}

export const DEFAULT_LIMITS: HeadLimits = {
  maxHeadBytes: 64 * 1024,
  maxHeaderCount: 256,
  maxBodyBytes: Infinity,
};

/** tchar from RFC 9110 section 5.6.2, as a lookup table. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * Finds the end of a head or trailer section in a receive buffer, resuming where the previous call
 * stopped so that a head arriving in many small pieces is scanned once.
 */
export class HeadScanner {
  #scanned = 0;
  #lineStart = 0;
  readonly #limit: number;
  readonly #tooLarge: () => HttpError;
  readonly #status: number;
  readonly #skipLeadingEmptyLines: boolean;
  readonly #bareLf: boolean;
  readonly #bareCr: string | null;

  /**
   * `bareLf`: accept a line ended by LF alone (responses only: in a request, a bare LF that the
   * next hop reads differently is a smuggling vector). `bareCr`: the error for a CR followed by
   * anything but LF, raised as soon as that byte arrives rather than once the section is whole
   * (for trailers, which no head deadline covers); null leaves it to the field parser.
   */
  constructor(
    limit: number,
    status: number,
    tooLarge: () => HttpError,
    skipLeadingEmptyLines: boolean,
    bareLf = false,
    bareCr: string | null = null,
  ) {
    this.#limit = limit;
    this.#status = status;
    this.#tooLarge = tooLarge;
    this.#skipLeadingEmptyLines = skipLeadingEmptyLines;
    this.#bareLf = bareLf;
    this.#bareCr = bareCr;
  }

  /**
   * Returns the length of the complete section (including its final empty line) at the start of
   * `buf`, or -1 when more bytes are needed. Leading empty lines are dropped when enabled (RFC 9112
   * section 2.2 asks servers to ignore a CRLF before a request line).
   */
  scan(buf: ReceiveBuffer): number {
    const b = buf.bytes;
    for (;;) {
      const s = buf.start;
      const e = buf.end;
      let i = s + this.#scanned;
      let lineStart = s + this.#lineStart;
      for (;;) {
        const lf = indexOfByte(b, LF, i, e);
        // From the byte before the new ones: a CR that ended the last call's bytes.
        if (this.#bareCr !== null) this.#checkBareCr(b, Math.max(s, i - 1), lf < 0 ? e : lf);
        if (lf < 0) {
          this.#scanned = e - s;
          this.#lineStart = lineStart - s;
          if (e - s > this.#limit) throw this.#tooLarge();
          return -1;
        }
        const crlf = lf > lineStart && b[lf - 1] === CR;
        if (!crlf && !this.#bareLf) {
          throw new HttpError(this.#status, "line ends with a bare LF instead of CRLF");
        }
        const size = lf + 1 - s;
        if (size > this.#limit) throw this.#tooLarge();
        if ((crlf ? lf - 1 : lf) === lineStart) {
          if (lineStart === s && this.#skipLeadingEmptyLines) {
            buf.skip(size);
            this.reset();
            break; // rescan from the new start
          }
          this.reset();
          return size;
        }
        lineStart = lf + 1;
        i = lf + 1;
      }
    }
  }

  reset(): void {
    this.#scanned = 0;
    this.#lineStart = 0;
  }

  #checkBareCr(b: Uint8Array, from: number, to: number): void {
    for (let cr = indexOfByte(b, CR, from, to); cr >= 0; cr = indexOfByte(b, CR, cr + 1, to)) {
      if (cr + 1 < to && b[cr + 1] !== LF) throw new HttpError(this.#status, this.#bareCr!);
    }
  }
}

/** Parses a complete request head occupying b[start, end) (end is just past the final CRLF). */
export function parseRequestHead(
  b: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): RequestHead {
  const lf = indexOfByte(b, LF, start, end);
  const lineEnd = lf - 1;
  const sp1 = indexOfByte(b, SP, start, lineEnd);
  if (sp1 < 0) throw bad("request line has no request-target");
  const method = cachedString(b, start, sp1);
  if (!isToken(method)) throw bad("method is not a valid token");
  const sp2 = indexOfByte(b, SP, sp1 + 1, lineEnd);
  if (sp2 < 0) throw bad("request line has no HTTP version (HTTP/0.9 is not supported)");
  if (sp2 === sp1 + 1) throw bad("request line has two spaces in a row");
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = b[i];
    if (c <= 0x20 || c === 0x7f) throw bad("request-target contains a control character");
    // RFC 9112 section 3.2 allows only ASCII in a request-target (RFC 3986 characters, with
    // anything else percent-encoded). Origins disagree on what raw bytes >= 0x80 mean (Latin-1,
    // UTF-8, refused), so they are refused rather than guessed at or re-encoded.
    if (c >= 0x80) throw bad("request-target contains a byte above 0x7F (not percent-encoded)");
  }
  const target = latin1(b, sp1 + 1, sp2);
  const version = cachedString(b, sp2 + 1, lineEnd);
  if (!isHttpVersion(version)) {
    throw bad(
      version.includes(" ") ? "request line has extra spaces" : "HTTP version is malformed",
    );
  }
  if (version.charCodeAt(5) !== 0x31) {
    throw new HttpError(505, `${version} is not supported; this proxy speaks HTTP/1.x`);
  }
  const headers = parseFields(b, lf + 1, end - 2, limits.maxHeaderCount, 400, "request");
  // RFC 9112 section 3.2: "A server MUST respond with a 400 (Bad Request) status code to any
  // request message that contains more than one Host header field line": two hosts means two
  // parsers may route one request to different places.
  if (headers.getAll("host").length > 1) throw bad("request has more than one Host header");
  return { method, target, version, headers };
}

/** Parses a complete response head occupying b[start, end); lines may end with a bare LF. */
export function parseResponseHead(
  b: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): ResponseHead {
  const lf = indexOfByte(b, LF, start, end);
  const lineEnd = lf > start && b[lf - 1] === CR ? lf - 1 : lf;
  const version = cachedString(b, start, Math.min(start + 8, lineEnd));
  if (!isHttpVersion(version) || version.charCodeAt(5) !== 0x31) {
    throw badResponse("status line does not start with HTTP/1.x");
  }
  const p = start + 8;
  if (
    lineEnd < p + 4 || b[p] !== SP || !isDigit(b[p + 1]) || !isDigit(b[p + 2]) ||
    !isDigit(b[p + 3]) || b[p + 1] === 0x30 || (lineEnd > p + 4 && b[p + 4] !== SP)
  ) {
    throw badResponse("status line has no valid three-digit status code");
  }
  const status = (b[p + 1] - 0x30) * 100 + (b[p + 2] - 0x30) * 10 + (b[p + 3] - 0x30);
  for (let i = p + 5; i < lineEnd; i++) {
    if (b[i] === 0 || b[i] === CR) throw badResponse("reason phrase contains NUL or CR");
  }
  const reason = lineEnd > p + 4 ? cachedString(b, p + 5, lineEnd) : "";
  const headers = parseFields(
    b,
    lf + 1,
    fieldsEnd(b, lf + 1, end),
    limits.maxHeaderCount,
    502,
    "response",
  );
  return { version, status, reason, headers };
}

/**
 * Where the empty line closing the section b[start, end) begins: `end` is just past its LF, and
 * it is CRLF or (in a response) a bare LF.
 */
export function fieldsEnd(b: Uint8Array, start: number, end: number): number {
  return end - start >= 2 && b[end - 2] === CR ? end - 2 : end - 1;
}

/**
 * Parses header field lines in b[pos, end), where `end` is the start of the empty line that
 * closes the section. Lines end with CRLF, or with a bare LF where HeadScanner allowed it.
 */
export function parseFields(
  b: Uint8Array,
  pos: number,
  end: number,
  maxCount: number,
  status: number,
  what: string,
): HeaderList {
  const raw: string[] = [];
  while (pos < end) {
    const lf = indexOfByte(b, LF, pos, end);
    const lineEnd = lf > pos && b[lf - 1] === CR ? lf - 1 : lf;
    const first = b[pos];
    if (first === SP || first === HTAB) {
      throw new HttpError(status, `${what} header uses obsolete line folding`);
    }
    let colon = pos;
    while (colon < lineEnd && TCHAR[b[colon]] === 1) colon++;
    if (colon === pos || colon === lineEnd || b[colon] !== 0x3a) {
      throw new HttpError(status, `${what} header ${fieldProblem(b, pos, colon, lineEnd)}`);
    }
    const nameLength = colon - pos;
    if ((nameLength === 17 || nameLength === 14) && indexOfByte(b, 0x5f, pos, colon) >= 0) {
      const name = latin1(b, pos, colon);
      if (FRAMING_LOOKALIKES.has(name.toLowerCase())) {
        throw new HttpError(
          status,
          `${what} header ${name} could be read as ${name.replace("_", "-")} by other servers`,
        );
      }
    }
    let vs = colon + 1;
    while (vs < lineEnd && (b[vs] === SP || b[vs] === HTAB)) vs++;
    let ve = lineEnd;
    while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HTAB)) ve--;
    for (let i = vs; i < ve; i++) {
      const c = b[i];
      if (c === 0 || c === CR) {
        throw new HttpError(status, `${what} header value contains ${c === 0 ? "NUL" : "CR"}`);
      }
    }
    if (raw.length >= maxCount * 2) {
      throw new HttpError(
        status === 400 ? 431 : status,
        `${what} has more than ${maxCount} header fields`,
      );
    }
    raw.push(cachedString(b, pos, colon), cachedString(b, vs, ve));
    pos = lf + 1;
  }
  return new HeaderList(raw);
}

/**
 * Strings decoded from short fields, by a hash of a few of their bytes. Messages on a connection
 * repeat the same names and many of the same values ("Content-Type", "keep-alive", "*\/*"); one
 * found here costs a byte comparison instead of a new string (and its garbage). Entries are
 * replaced on collision, and a hit is compared in full, so what comes back is always exact.
 */
const STRING_CACHE: (string | undefined)[] = new Array(1024);
const CACHED_MAX = 32;

function cachedString(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return "";
  if (n > CACHED_MAX) return latin1(b, start, end);
  const h = (n * 131 + b[start] * 31 + b[end - 1] * 7 + b[start + (n >> 1)]) & 1023;
  const hit = STRING_CACHE[h];
  if (hit !== undefined && hit.length === n) {
    let i = 0;
    while (i < n && hit.charCodeAt(i) === b[start + i]) i++;
    if (i === n) return hit;
  }
  const s = latin1(b, start, end);
  STRING_CACHE[h] = s;
  return s;
}

/**
 * Names some servers read as the framing fields: CGI-style gateways (and frameworks built on
 * them) turn "-" and "_" alike into "_", so "Transfer_Encoding: chunked" that this parser
 * ignores could frame the body for the origin. Refused, like other ambiguous framing.
 */
const FRAMING_LOOKALIKES = new Set(["transfer_encoding", "content_length"]);

function fieldProblem(b: Uint8Array, pos: number, stop: number, lineEnd: number): string {
  if (stop === lineEnd || indexOfByte(b, 0x3a, stop, lineEnd) < 0) return "line has no colon";
  const c = b[stop];
  if (c === SP || c === HTAB) return "has whitespace before the colon";
  if (stop === pos && c === 0x3a) return "has an empty name";
  return "name contains an invalid character";
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHttpVersion(v: string): boolean {
  return v.length === 8 && v.startsWith("HTTP/") && isDigit(v.charCodeAt(5)) &&
    v.charCodeAt(6) === 0x2e && isDigit(v.charCodeAt(7));
}

function bad(message: string): HttpError {
  return new HttpError(400, message);
}

function badResponse(message: string): HttpError {
  return new HttpError(502, message);
}

// ---- serializing ----

/**
 * Serializes a request head; throws if the start line, a name or a value could break the message
 * framing.
 */
export function serializeRequestHead(head: RequestHead): Uint8Array {
  return serializeHead(`${head.method} ${head.target} ${head.version}\r\n`, head.headers);
}

/**
 * Serializes a response head; throws if the start line, a name or a value could break the message
 * framing.
 */
export function serializeResponseHead(head: ResponseHead): Uint8Array {
  const line = head.reason === ""
    ? `${head.version} ${head.status} \r\n`
    : `${head.version} ${head.status} ${head.reason}\r\n`;
  return serializeHead(line, head.headers);
}

/** Serializes a trailer section, or the empty line that ends a chunked body without trailers. */
export function serializeFields(headers: HeaderList | null): Uint8Array {
  return serializeHead("", headers ?? EMPTY_HEADERS);
}

const EMPTY_HEADERS = new HeaderList();

function serializeHead(startLine: string, headers: HeaderList): Uint8Array {
  return serializeLatin1(startLine, headers) ?? serializeAny(startLine, headers);
}

/**
 * The usual head, every char of it at most U+00FF: sized by string lengths and written and
 * checked in one pass per string. Null when a char needs UTF-8 (only an addon can set one).
 */
function serializeLatin1(startLine: string, headers: HeaderList): Uint8Array | null {
  const raw = headers.raw;
  // The start line ends with its own CRLF ("" for a trailer section); then the empty line.
  let size = startLine.length + 2;
  for (let i = 0; i < raw.length; i++) size += raw[i].length + 2;
  const out = new Uint8Array(size);
  let o = 0;
  const lineEnd = startLine.length - 2;
  for (let j = 0; j < startLine.length; j++) {
    const c = startLine.charCodeAt(j);
    if (c > 0xff) return null;
    if (j < lineEnd && (c === CR || c === LF || c === 0)) {
      throw new HttpError(500, "start line contains CR, LF or NUL");
    }
    out[o++] = c;
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (!isToken(name)) throw new HttpError(500, `header name ${JSON.stringify(name)} is invalid`);
    for (let j = 0; j < name.length; j++) out[o++] = name.charCodeAt(j); // a token is ASCII
    out[o++] = 0x3a;
    out[o++] = SP;
    for (let j = 0; j < value.length; j++) {
      const c = value.charCodeAt(j);
      if (c > 0xff) return null;
      if (c === CR || c === LF || c === 0) {
        throw new HttpError(500, `header ${name} has a value containing CR, LF or NUL`);
      }
      out[o++] = c;
    }
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = CR;
  out[o++] = LF;
  return out;
}

/** Any head: chars above U+00FF are written as UTF-8. */
function serializeAny(startLine: string, headers: HeaderList): Uint8Array {
  const raw = headers.raw;
  let size = byteLength(startLine) + 2;
  for (let i = 0; i < raw.length; i += 2) {
    size += byteLength(raw[i]) + byteLength(raw[i + 1]) + 4;
  }
  const out = new Uint8Array(size);
  let o = writeString(startLine, out, 0);
  // The start line's own CRLF is its last two bytes; any other CR, LF or NUL would split it.
  for (let j = 0; j < o - 2; j++) {
    const c = out[j];
    if (c === CR || c === LF || c === 0) {
      throw new HttpError(500, "start line contains CR, LF or NUL");
    }
  }
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (!isToken(name)) throw new HttpError(500, `header name ${JSON.stringify(name)} is invalid`);
    const vs = o + name.length + 2;
    o = writeString(name, out, o);
    out[o++] = 0x3a;
    out[o++] = SP;
    o = writeString(value, out, o);
    for (let j = vs; j < o; j++) {
      const c = out[j];
      if (c === CR || c === LF || c === 0) {
        throw new HttpError(500, `header ${name} has a value containing CR, LF or NUL`);
      }
    }
    out[o++] = CR;
    out[o++] = LF;
  }
  out[o++] = CR;
  out[o++] = LF;
  return out;
}
