/**
 * The recording format: one flow as one JSON object (docs/flow-format.md describes every field).
 *
 * ```ts
 * const line = JSON.stringify(flowToJson(flow, { bodyLimit: 1 << 20 }));
 * const again = flowFromJson(JSON.parse(line));
 * ```
 *
 * Bodies are the raw bytes as on the wire (Content-Encoding included): `{ "text": ... }` when they
 * are valid UTF-8, else `{ "base64": ... }`. A body that was streamed through, or is larger than
 * `bodyLimit`, is `null`, and `streamed` / `truncated` say why. Readers ignore fields they do not
 * know; `v` goes up only on an incompatible change, and a newer `v` is refused.
 */
import { latin1 } from "../http1/bytes.ts";
import { HeaderList } from "../http/headers.ts";
import {
  type CertificateInfo,
  Flow,
  type FlowError,
  FlowRequest,
  FlowResponse,
  type Peer,
  type ServerPeer,
  type TlsInfo,
} from "./flow.ts";
import {
  WEBSOCKET_OPCODES,
  WebSocketData,
  WebSocketMessage,
  type WebSocketMessageType,
} from "./websocket.ts";

/** The format version written in `v`; bumped only on an incompatible change. */
export const FLOW_FORMAT_VERSION = 1;

/** A kept body: text when the raw bytes are valid UTF-8, else base64. */
export type BodyJson = { text: string } | { base64: string };

/** Header fields as [name, value] pairs, in order and with their original case. */
export type HeadersJson = [string, string][];

export interface TlsJson {
  sni: string | null;
  alpn: string | null;
  version: string | null;
  /** Origin side only; absent in older lines. */
  cipher?: string | null;
  /** The origin's chain, leaf first; absent in older lines. */
  certificates?: CertificateInfo[];
}

export interface PeerJson {
  address: string;
  port: number;
  tls: TlsJson | null;
}

export interface ServerJson extends PeerJson {
  timestampTcpStart: number | null;
  timestampTcpEnd: number | null;
  timestampTlsStart: number | null;
  timestampTlsEnd: number | null;
  /** The origin's name lookup: absent when there was none (an IP address) and in older lines. */
  timestampDnsStart?: number;
  timestampDnsEnd?: number;
  /** True when the connection had carried earlier requests (absent in older lines). */
  reused?: boolean;
}

interface MessageJson {
  httpVersion: string;
  headers: HeadersJson;
  /** Null when not kept: see `streamed` and `truncated`. */
  body: BodyJson | null;
  /** Body bytes that passed through, kept or not. */
  bodySize: number;
  /** The body streamed through and was not kept. */
  streamed: boolean;
  /** The body was kept by the proxy but is larger than the recorder's body limit. */
  truncated: boolean;
  trailers: HeadersJson | null;
  /** Milliseconds since the epoch. */
  timestampStart: number;
  timestampEnd: number | null;
}

export interface RequestJson extends MessageJson {
  method: string;
  scheme: "http" | "https";
  host: string;
  port: number;
  path: string;
  /** Derived from scheme, host, port and path; informative only (readers use those four). */
  url: string;
}

export interface ResponseJson extends MessageJson {
  status: number;
  reason: string;
}

export interface FlowJson {
  v: number;
  id: string;
  type: "http";
  client: PeerJson;
  server: ServerJson | null;
  request: RequestJson;
  response: ResponseJson | null;
  error: FlowError | null;
  marked: boolean;
  /** A person's note on the flow; present only when not empty. */
  comment?: string;
  isReplay: boolean;
  metadata: Record<string, JsonValue>;
  /** Present only for a WebSocket flow (the request/response are its Upgrade handshake). */
  websocket?: WebSocketJson;
}

export interface WebSocketMessageJson {
  fromClient: boolean;
  type: WebSocketMessageType;
  /** Decompressed message bytes; null when over the recorder's body limit (see `size`). */
  content: BodyJson | null;
  /** Length of the content in bytes. */
  size: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Present (true) only when set. */
  dropped?: true;
  injected?: true;
}

export interface WebSocketJson {
  messages: WebSocketMessageJson[];
  closedByClient: boolean | null;
  closeCode: number | null;
  closeReason: string | null;
  timestampEnd: number | null;
  protocol: string | null;
  extensions: string | null;
}

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

export interface SerializeOptions {
  /** Bodies larger than this many bytes are left out (`truncated`). Default: no limit. */
  bodyLimit?: number;
}

/** A record that is not a valid flow in this format. */
export class FlowFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FlowFormatError";
  }
}

/** A record written by a newer, incompatible version of the format. */
export class FlowVersionError extends FlowFormatError {
  readonly version: number;
  constructor(version: number) {
    super(
      `flow format version ${version} is newer than this reader supports ` +
        `(${FLOW_FORMAT_VERSION}); read it with a newer mitm.ts`,
    );
    this.name = "FlowVersionError";
    this.version = version;
  }
}

// ---------------------------------------------------------------------------------------------
// base64 (no dependencies; btoa/atob would need binary strings and chunking anyway)

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_CODES = new Uint8Array(64);
const B64_VALUES = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64_CODES[i] = B64.charCodeAt(i);
  B64_VALUES[B64.charCodeAt(i)] = i;
}
// URL-safe alphabet accepted on input.
B64_VALUES[0x2d] = 62; // "-"
B64_VALUES[0x5f] = 63; // "_"

/** Standard base64 with padding. */
export function base64Encode(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = B64_CODES[v >> 18];
    out[o++] = B64_CODES[(v >> 12) & 63];
    out[o++] = B64_CODES[(v >> 6) & 63];
    out[o++] = B64_CODES[v & 63];
  }
  if (i < n) {
    const two = i + 1 < n;
    const v = (bytes[i] << 16) | (two ? bytes[i + 1] << 8 : 0);
    out[o++] = B64_CODES[v >> 18];
    out[o++] = B64_CODES[(v >> 12) & 63];
    out[o++] = two ? B64_CODES[(v >> 6) & 63] : 0x3d;
    out[o++] = 0x3d;
  }
  return latin1(out);
}

/**
 * Decodes base64 (standard or URL-safe alphabet; padding optional; ASCII whitespace ignored).
 * Throws on any other character or a dangling single digit.
 */
export function base64Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let bits = 0;
  let padding = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c === 0x3d) {
      padding = true;
      continue;
    }
    const v = c < 256 ? B64_VALUES[c] : -1;
    if (v < 0 || padding) {
      throw new FlowFormatError(`invalid base64 at character ${i}`);
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits >= 6) throw new FlowFormatError("invalid base64: truncated final group");
  return out.slice(0, o);
}

// ---------------------------------------------------------------------------------------------
// bodies

// ignoreBOM: a leading U+FEFF must stay in the text, or the round trip would lose 3 bytes.
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** The bytes as `{ text }` when they are valid UTF-8, else `{ base64 }`. */
export function bodyToJson(bytes: Uint8Array): BodyJson {
  try {
    return { text: utf8Strict.decode(bytes) };
  } catch {
    return { base64: base64Encode(bytes) };
  }
}

/** The bytes of a `{ text }` or `{ base64 }` body. */
export function bodyFromJson(body: BodyJson): Uint8Array {
  if ("base64" in body && typeof body.base64 === "string") return base64Decode(body.base64);
  if ("text" in body && typeof body.text === "string") return utf8Encoder.encode(body.text);
  throw new FlowFormatError('a body must be { "text": string } or { "base64": string }');
}

// ---------------------------------------------------------------------------------------------
// JSON-safe copies of free-form values

/**
 * A copy of `value` that JSON can carry unchanged, or undefined when it has none: strings, finite
 * numbers, booleans, null, arrays and plain objects. In objects, other values (functions,
 * undefined, bigints, class instances, cycles, ...) are left out; in arrays they become null.
 */
export function jsonSafe(value: unknown, seen: Set<object> = new Set()): JsonValue | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : undefined;
    case "object": {
      if (value === null) return null;
      if (seen.has(value)) return undefined;
      if (Array.isArray(value)) {
        seen.add(value);
        const out = Array.from(value, (item) => jsonSafe(item, seen) ?? null);
        seen.delete(value);
        return out;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return undefined;
      seen.add(value);
      const out: { [key: string]: JsonValue } = {};
      for (const [k, v] of Object.entries(value)) {
        const safe = jsonSafe(v, seen);
        if (safe !== undefined) out[k] = safe;
      }
      seen.delete(value);
      return out;
    }
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Flow -> JSON

export function headersToJson(headers: HeaderList): HeadersJson {
  const out: HeadersJson = [];
  const raw = headers.raw;
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

function tlsToJson(tls: TlsInfo | null): TlsJson | null {
  if (tls === null || tls === undefined) return null;
  const json: TlsJson = {
    sni: tls.sni ?? null,
    alpn: tls.alpn ?? null,
    version: tls.version ?? null,
  };
  if (tls.cipher !== undefined) json.cipher = tls.cipher;
  if (tls.certificates !== undefined) json.certificates = tls.certificates;
  return json;
}

export function peerToJson(peer: Peer): PeerJson {
  return { address: peer.address, port: peer.port, tls: tlsToJson(peer.tls) };
}

export function serverToJson(server: ServerPeer): ServerJson {
  return {
    ...peerToJson(server),
    timestampTcpStart: server.timestampTcpStart ?? null,
    timestampTcpEnd: server.timestampTcpEnd ?? null,
    timestampTlsStart: server.timestampTlsStart ?? null,
    timestampTlsEnd: server.timestampTlsEnd ?? null,
    ...(server.timestampDnsStart === undefined || server.timestampDnsEnd === undefined ? {} : {
      timestampDnsStart: server.timestampDnsStart,
      timestampDnsEnd: server.timestampDnsEnd,
    }),
    ...(server.reused === undefined ? {} : { reused: server.reused }),
  };
}

function messageToJson(m: FlowRequest | FlowResponse, bodyLimit: number): MessageJson {
  let body: BodyJson | null = null;
  let truncated = false;
  if (m.body !== null && !m.streamed) {
    if (m.body.length <= bodyLimit) body = bodyToJson(m.body);
    else truncated = true;
  } else if (m.body === null && !m.streamed && m.bodySize > 0) {
    // Read back from a recording whose body was over its limit: still truncated.
    truncated = true;
  }
  return {
    httpVersion: m.httpVersion,
    headers: headersToJson(m.headers),
    body,
    bodySize: m.body !== null && !m.streamed ? m.body.length : m.bodySize,
    streamed: m.streamed,
    truncated,
    trailers: m.trailers === null ? null : headersToJson(m.trailers),
    timestampStart: m.timestampStart,
    timestampEnd: m.timestampEnd,
  };
}

/** The flow as a JSON-ready object in the recording format. */
export function flowToJson(flow: Flow, options: SerializeOptions = {}): FlowJson {
  const bodyLimit = options.bodyLimit ?? Infinity;
  if (!(bodyLimit >= 0)) throw new RangeError(`bodyLimit must be >= 0, not ${bodyLimit}`);
  const req = flow.request;
  const res = flow.response;
  const metadata = jsonSafe(flow.metadata);
  return {
    v: FLOW_FORMAT_VERSION,
    id: flow.id,
    type: "http",
    client: peerToJson(flow.client),
    server: flow.server === null ? null : serverToJson(flow.server),
    request: {
      method: req.method,
      scheme: req.scheme,
      host: req.host,
      port: req.port,
      path: req.path,
      url: req.url,
      ...messageToJson(req, bodyLimit),
    },
    response: res === null ? null : {
      status: res.status,
      reason: res.reason,
      ...messageToJson(res, bodyLimit),
    },
    error: flow.error === null
      ? null
      : { message: String(flow.error.message), timestamp: flow.error.timestamp },
    marked: flow.marked,
    ...(flow.comment === "" ? {} : { comment: flow.comment }),
    isReplay: flow.isReplay,
    metadata: metadata !== null && typeof metadata === "object" && !Array.isArray(metadata)
      ? metadata
      : {},
    ...(flow.websocket === null ? {} : { websocket: websocketToJson(flow.websocket, bodyLimit) }),
  };
}

/** The WebSocket part of a flow; message contents over `bodyLimit` bytes are left out. */
export function websocketToJson(ws: WebSocketData, bodyLimit = Infinity): WebSocketJson {
  return {
    messages: ws.messages.map((m) => ({
      fromClient: m.fromClient,
      type: m.type,
      content: m.content.length <= bodyLimit ? bodyToJson(m.content) : null,
      size: m.content.length,
      timestamp: m.timestamp,
      ...(m.dropped ? { dropped: true as const } : {}),
      ...(m.injected ? { injected: true as const } : {}),
    })),
    closedByClient: ws.closedByClient,
    closeCode: ws.closeCode,
    closeReason: ws.closeReason,
    timestampEnd: ws.timestampEnd,
    protocol: ws.protocol,
    extensions: ws.extensions,
  };
}

// ---------------------------------------------------------------------------------------------
// JSON -> Flow (checked: every error names the field)

type Obj = Record<string, unknown>;

function fail(path: string, what: string): never {
  throw new FlowFormatError(`${path}: ${what}`);
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, "expected an object");
  return v as Obj;
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string") fail(`${path}.${key}`, "expected a string");
  return v;
}

function num(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v)) fail(`${path}.${key}`, "expected a number");
  return v;
}

function numOrNull(o: Obj, key: string, path: string): number | null {
  return o[key] === null || o[key] === undefined ? null : num(o, key, path);
}

function strOrNull(o: Obj, key: string, path: string): string | null {
  return o[key] === null || o[key] === undefined ? null : str(o, key, path);
}

function bool(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== "boolean") fail(`${path}.${key}`, "expected true or false");
  return v;
}

export function headersFromJson(v: unknown, path: string): HeaderList {
  if (!Array.isArray(v)) fail(path, "expected an array of [name, value] pairs");
  const raw: string[] = [];
  v.forEach((pair, i) => {
    if (
      !Array.isArray(pair) || pair.length < 2 || typeof pair[0] !== "string" ||
      typeof pair[1] !== "string"
    ) fail(`${path}[${i}]`, "expected [name, value] strings");
    raw.push(pair[0], pair[1]);
  });
  return new HeaderList(raw);
}

function tlsFromJson(v: unknown, path: string): TlsInfo | null {
  if (v === null || v === undefined) return null;
  const o = obj(v, path);
  const tls: TlsInfo = {
    sni: strOrNull(o, "sni", path),
    alpn: strOrNull(o, "alpn", path),
    version: strOrNull(o, "version", path),
  };
  if (o.cipher !== undefined) tls.cipher = strOrNull(o, "cipher", path);
  if (o.certificates !== undefined && o.certificates !== null) {
    const list = o.certificates;
    if (!Array.isArray(list)) fail(`${path}.certificates`, "expected an array");
    tls.certificates = list.map((c, i) => certificateFromJson(c, `${path}.certificates[${i}]`));
  }
  return tls;
}

function certificateFromJson(v: unknown, path: string): CertificateInfo {
  const o = obj(v, path);
  const names = o.altNames ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
    fail(`${path}.altNames`, "expected an array of strings");
  }
  return {
    subject: str(o, "subject", path),
    issuer: str(o, "issuer", path),
    notBefore: strOrNull(o, "notBefore", path),
    notAfter: strOrNull(o, "notAfter", path),
    sha256: str(o, "sha256", path),
    altNames: [...names] as string[],
  };
}

export function peerFromJson(v: unknown, path: string): Peer {
  const o = obj(v, path);
  return {
    address: str(o, "address", path),
    port: num(o, "port", path),
    tls: tlsFromJson(o.tls, `${path}.tls`),
  };
}

export function serverFromJson(v: unknown, path: string): ServerPeer {
  const o = obj(v, path);
  const server: ServerPeer = peerFromJson(o, path);
  for (
    const key of [
      "timestampTcpStart",
      "timestampTcpEnd",
      "timestampTlsStart",
      "timestampTlsEnd",
      "timestampDnsStart",
      "timestampDnsEnd",
    ] as const
  ) {
    const t = numOrNull(o, key, path);
    if (t !== null) server[key] = t;
  }
  if (typeof o.reused === "boolean") server.reused = o.reused;
  return server;
}

/** Fills the body fields of a message from its JSON. */
function messageFromJson(m: FlowRequest | FlowResponse, o: Obj, path: string): void {
  if (o.body === null || o.body === undefined) m.body = null;
  else {
    try {
      m.body = bodyFromJson(obj(o.body, `${path}.body`) as BodyJson);
    } catch (e) {
      fail(`${path}.body`, (e as Error).message);
    }
  }
  m.bodySize = o.bodySize === undefined ? m.body?.length ?? 0 : num(o, "bodySize", path);
  m.streamed = bool(o, "streamed", path);
  m.trailers = o.trailers === null || o.trailers === undefined
    ? null
    : headersFromJson(o.trailers, `${path}.trailers`);
  m.timestampEnd = numOrNull(o, "timestampEnd", path);
}

/** Rejects a record of another type or a newer format version; returns it as an object. */
export function checkFlowVersion(json: unknown): Record<string, unknown> {
  const o = obj(json, "flow");
  const v = o.v;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    fail("flow.v", "missing or not a format version (a positive integer)");
  }
  if (v > FLOW_FORMAT_VERSION) throw new FlowVersionError(v);
  return o;
}

/** A Flow from its recorded JSON. Unknown fields are ignored; a newer `v` throws FlowVersionError. */
export function flowFromJson(json: unknown): Flow {
  const o = checkFlowVersion(json);
  const type = o.type ?? "http";
  if (type !== "http") fail("flow.type", `unsupported flow type ${JSON.stringify(type)}`);
  const id = str(o, "id", "flow");

  const rq = obj(o.request, "request");
  const scheme = str(rq, "scheme", "request");
  if (scheme !== "http" && scheme !== "https") fail("request.scheme", 'expected "http" or "https"');
  const request = new FlowRequest({
    method: str(rq, "method", "request"),
    scheme,
    host: str(rq, "host", "request"),
    port: num(rq, "port", "request"),
    path: str(rq, "path", "request"),
    httpVersion: str(rq, "httpVersion", "request"),
    headers: headersFromJson(rq.headers, "request.headers"),
    timestampStart: num(rq, "timestampStart", "request"),
  });
  messageFromJson(request, rq, "request");

  const flow = new Flow(peerFromJson(o.client, "client"), request, id);
  if (o.server !== null && o.server !== undefined) flow.server = serverFromJson(o.server, "server");

  if (o.response !== null && o.response !== undefined) {
    const rs = obj(o.response, "response");
    const response = new FlowResponse({
      status: num(rs, "status", "response"),
      reason: typeof rs.reason === "string" ? rs.reason : "",
      httpVersion: str(rs, "httpVersion", "response"),
      headers: headersFromJson(rs.headers, "response.headers"),
      timestampStart: num(rs, "timestampStart", "response"),
    });
    messageFromJson(response, rs, "response");
    flow.response = response;
  }

  if (o.error !== null && o.error !== undefined) {
    const e = obj(o.error, "error");
    flow.error = { message: str(e, "message", "error"), timestamp: num(e, "timestamp", "error") };
  }
  flow.marked = bool(o, "marked", "flow");
  flow.comment = strOrNull(o, "comment", "flow") ?? "";
  flow.isReplay = bool(o, "isReplay", "flow");
  if (o.metadata !== undefined && o.metadata !== null) {
    flow.metadata = { ...obj(o.metadata, "metadata") };
  }
  if (o.websocket !== null && o.websocket !== undefined) {
    flow.websocket = websocketFromJson(o.websocket, "websocket");
  }
  return flow;
}

/** The WebSocket part of a flow from its JSON; a message left out for size reads as empty. */
export function websocketFromJson(v: unknown, path: string): WebSocketData {
  const o = obj(v, path);
  const ws = new WebSocketData();
  if (!Array.isArray(o.messages)) fail(`${path}.messages`, "expected an array");
  ws.messages = o.messages.map((item, i) => {
    const p = `${path}.messages[${i}]`;
    const m = obj(item, p);
    const type = str(m, "type", p);
    if (!(type in WEBSOCKET_OPCODES)) {
      fail(`${p}.type`, `unknown message type ${JSON.stringify(type)}`);
    }
    let content: Uint8Array = new Uint8Array(0);
    if (m.content !== null && m.content !== undefined) {
      try {
        content = bodyFromJson(obj(m.content, `${p}.content`) as BodyJson);
      } catch (e) {
        fail(`${p}.content`, (e as Error).message);
      }
    }
    return new WebSocketMessage({
      fromClient: bool(m, "fromClient", p),
      type: type as WebSocketMessageType,
      content,
      timestamp: num(m, "timestamp", p),
      dropped: bool(m, "dropped", p),
      injected: bool(m, "injected", p),
    });
  });
  ws.closedByClient = typeof o.closedByClient === "boolean" ? o.closedByClient : null;
  ws.closeCode = numOrNull(o, "closeCode", path);
  ws.closeReason = strOrNull(o, "closeReason", path);
  ws.timestampEnd = numOrNull(o, "timestampEnd", path);
  ws.protocol = strOrNull(o, "protocol", path);
  ws.extensions = strOrNull(o, "extensions", path);
  return ws;
}
