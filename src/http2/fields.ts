/**
 * Checks of received header lists (RFC 9113 8.2 and 8.3, RFC 8441 4): lowercase names, no
 * connection-specific fields, pseudo-header fields first, only the defined ones, once each and
 * the right ones for requests, responses and trailers. A failure is a malformed message: a stream
 * error of type PROTOCOL_ERROR (8.1.1).
 */
import { ErrorCode, Http2StreamError } from "./errors.ts";
import type { DecodedField } from "./hpack/decoder.ts";

/** A regular header field: lowercase name and value, in the order received. */
export type HeaderField = [name: string, value: string];

export interface RequestPseudo {
  method: string;
  /** Absent only for CONNECT (8.5). */
  scheme?: string;
  authority?: string;
  /** Absent only for CONNECT (8.5). */
  path?: string;
  /** The :protocol of an extended CONNECT (RFC 8441), e.g. "websocket". */
  protocol?: string;
}

export interface ParsedHeaders<P> {
  pseudo: P;
  headers: HeaderField[];
  /** The value of content-length, or null when absent. */
  contentLength: number | null;
}

const CONNECTION_SPECIFIC = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
]);

const REQUEST_PSEUDO = new Set([":method", ":scheme", ":authority", ":path", ":protocol"]);

/** Whether a name is a valid field name for HTTP/2: token chars, no uppercase (8.2.1). */
function validName(name: string, from: number): boolean {
  if (name.length <= from) return false;
  for (let i = from; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || (c >= 0x41 && c <= 0x5a) || c >= 0x7f || c === 0x3a) return false;
  }
  return true;
}

/** Values: no NUL, CR or LF, and no leading or trailing whitespace (8.2.1). */
function validValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  if (value.length === 0) return true;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  return first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09;
}

function malformed(streamId: number, message: string): Http2StreamError {
  return new Http2StreamError(streamId, ErrorCode.PROTOCOL_ERROR, message);
}

/** Splits pseudo-header fields from regular ones, checking the rules common to every list. */
function split(
  streamId: number,
  fields: readonly DecodedField[],
  allowed: ReadonlySet<string>,
): { pseudo: Map<string, string>; headers: HeaderField[]; contentLength: number | null } {
  const pseudo = new Map<string, string>();
  const headers: HeaderField[] = [];
  let contentLength: number | null = null;
  for (const [name, value] of fields) {
    if (name.charCodeAt(0) === 0x3a) {
      if (headers.length > 0) {
        throw malformed(streamId, `pseudo-header ${name} after a regular field`);
      }
      if (!allowed.has(name)) {
        throw malformed(streamId, `pseudo-header ${name} is not allowed here`);
      }
      if (pseudo.has(name)) throw malformed(streamId, `pseudo-header ${name} appears twice`);
      if (!validValue(value)) throw malformed(streamId, `invalid value in ${name}`);
      pseudo.set(name, value);
      continue;
    }
    if (!validName(name, 0)) {
      throw malformed(streamId, `invalid header name ${JSON.stringify(name.slice(0, 40))}`);
    }
    if (!validValue(value)) throw malformed(streamId, `invalid value in header ${name}`);
    if (CONNECTION_SPECIFIC.has(name)) {
      throw malformed(streamId, `connection-specific header ${name} is not allowed in HTTP/2`);
    }
    if (name === "te" && value !== "trailers") {
      throw malformed(streamId, `te header with a value other than "trailers"`);
    }
    if (name === "content-length") {
      if (!/^[0-9]{1,15}$/.test(value)) throw malformed(streamId, "content-length is not a number");
      const n = Number(value);
      if (contentLength !== null && contentLength !== n) {
        throw malformed(streamId, "conflicting content-length values");
      }
      contentLength = n;
    }
    headers.push([name, value]);
  }
  return { pseudo, headers, contentLength };
}

/** Checks a request's header list (8.3.1, 8.5 CONNECT, RFC 8441 4 extended CONNECT). */
export function parseRequestFields(
  streamId: number,
  fields: readonly DecodedField[],
  connectProtocolEnabled: boolean,
): ParsedHeaders<RequestPseudo> {
  const { pseudo, headers, contentLength } = split(streamId, fields, REQUEST_PSEUDO);
  const method = pseudo.get(":method");
  if (method === undefined || method === "") throw malformed(streamId, "request without :method");
  const out: RequestPseudo = { method };
  const scheme = pseudo.get(":scheme");
  const path = pseudo.get(":path");
  const authority = pseudo.get(":authority");
  const protocol = pseudo.get(":protocol");
  if (authority !== undefined) out.authority = authority;
  if (protocol !== undefined) {
    if (!connectProtocolEnabled) {
      throw malformed(streamId, ":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL");
    }
    if (method !== "CONNECT") {
      throw malformed(streamId, ":protocol in a request other than CONNECT");
    }
    out.protocol = protocol;
  }
  if (method === "CONNECT" && protocol === undefined) {
    // Plain CONNECT: only :method and :authority (8.5).
    if (scheme !== undefined || path !== undefined) {
      throw malformed(streamId, "CONNECT request with :scheme or :path");
    }
    if (authority === undefined || authority === "") {
      throw malformed(streamId, "CONNECT request without :authority");
    }
    return { pseudo: out, headers, contentLength };
  }
  if (scheme === undefined || scheme === "") throw malformed(streamId, "request without :scheme");
  if (path === undefined || path === "") throw malformed(streamId, "request without :path");
  const httpScheme = scheme === "http" || scheme === "https";
  if (httpScheme && path[0] !== "/" && !(method === "OPTIONS" && path === "*")) {
    throw malformed(streamId, `request :path ${JSON.stringify(path.slice(0, 40))} is not a path`);
  }
  if (protocol !== undefined && authority === undefined) {
    throw malformed(streamId, "extended CONNECT without :authority");
  }
  out.scheme = scheme;
  out.path = path;
  return { pseudo: out, headers, contentLength };
}

const RESPONSE_PSEUDO = new Set([":status"]);

/** Checks a response's header list (8.3.2): one :status of three digits. */
export function parseResponseFields(
  streamId: number,
  fields: readonly DecodedField[],
): ParsedHeaders<{ status: number }> {
  const { pseudo, headers, contentLength } = split(streamId, fields, RESPONSE_PSEUDO);
  const status = pseudo.get(":status");
  if (status === undefined || !/^[1-9][0-9][0-9]$/.test(status)) {
    throw malformed(streamId, "response without a valid :status");
  }
  return { pseudo: { status: Number(status) }, headers, contentLength };
}

const NO_PSEUDO = new Set<string>();

/** Checks trailers (8.1): no pseudo-header fields. */
export function parseTrailerFields(
  streamId: number,
  fields: readonly DecodedField[],
): HeaderField[] {
  return split(streamId, fields, NO_PSEUDO).headers;
}
