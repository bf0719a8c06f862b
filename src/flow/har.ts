/**
 * HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): export flows for browsers' dev tools
 * and HAR viewers, and import HAR files (ours or a browser's) as flows.
 *
 * What HAR cannot say is kept in custom fields (HAR allows fields that start with "_"):
 * - `entry._mitm`: the flow's id, client and server peers (TLS, connection timestamps), exact
 *   timestamps, request target, trailers, streamed/truncated flags, error, marked, isReplay and
 *   metadata, so that our own HAR files read back as the same flows;
 * - `response._error`: the error message when the flow failed (as Chrome writes it); a flow that
 *   failed before any response has a response with status 0;
 * - `request.postData._encoding: "base64"`: a request body that is not UTF-8 (HAR has `encoding`
 *   only on response content);
 * - `response.content._decodeError`: the Content-Encoding could not be undone, so `text` holds the
 *   raw bytes.
 * - `entry._webSocketMessages` (Chrome's field, with `_resourceType: "websocket"`): the messages of
 *   a WebSocket flow, `{ type: "send" | "receive", time (seconds since the epoch), opcode, data }`;
 *   `data` is the text of a text message (opcode 1) and base64 for every other opcode, as Chrome
 *   does for binary ones. `_dropped` / `_injected` mark what an addon did; how it closed is in
 *   `_mitm.websocket`.
 *
 * See docs/flow-format.md for the mapping field by field.
 */
import { isIP } from "node:net";
import { HeaderList } from "../http/headers.ts";
import { VERSION } from "../version.ts";
import { decodeContent, encodeContent } from "./encoding.ts";
import { Flow, type FlowError, FlowRequest, FlowResponse, type Peer } from "./flow.ts";
import { newFlowId } from "./id.ts";
import {
  messageTypeOfOpcode,
  WEBSOCKET_OPCODES,
  WebSocketData,
  WebSocketMessage,
} from "./websocket.ts";
import {
  base64Decode,
  base64Encode,
  checkFlowVersion,
  FLOW_FORMAT_VERSION,
  flowToJson,
  headersFromJson,
  type HeadersJson,
  type JsonValue,
  peerFromJson,
  type PeerJson,
  serverFromJson,
  type ServerJson,
  type WebSocketJson,
} from "./serialize.ts";

// ---------------------------------------------------------------------------------------------
// types

export interface HarNameValue {
  name: string;
  value: string;
  comment?: string;
}

export interface HarCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  /** ISO 8601. */
  expires?: string | null;
  httpOnly?: boolean;
  secure?: boolean;
  comment?: string;
}

export interface HarParam {
  name: string;
  value?: string;
  fileName?: string;
  contentType?: string;
  comment?: string;
}

export interface HarPostData {
  mimeType: string;
  text?: string;
  params?: HarParam[];
  comment?: string;
  /** "base64" when `text` holds base64 of a body that is not UTF-8 (custom field). */
  _encoding?: string;
}

export interface HarRequest {
  method: string;
  url: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  queryString: HarNameValue[];
  postData?: HarPostData;
  headersSize: number;
  bodySize: number;
  comment?: string;
}

export interface HarContent {
  /** Bytes of the content after Content-Encoding was undone. */
  size: number;
  /** Bytes saved by the Content-Encoding (wire size = size - compression). */
  compression?: number;
  mimeType: string;
  text?: string;
  encoding?: string;
  comment?: string;
  /** Set when the Content-Encoding could not be undone: `text` holds the raw bytes. */
  _decodeError?: string;
}

export interface HarResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  cookies: HarCookie[];
  headers: HarNameValue[];
  content: HarContent;
  redirectURL: string;
  headersSize: number;
  bodySize: number;
  comment?: string;
  /** The flow's error message (as Chrome writes it). */
  _error?: string;
}

export interface HarTimings {
  blocked?: number;
  dns?: number;
  connect?: number;
  send: number;
  wait: number;
  receive: number;
  ssl?: number;
  comment?: string;
}

interface MessageExt {
  timestampStart: number;
  timestampEnd: number | null;
  bodySize: number;
  streamed: boolean;
  truncated: boolean;
  trailers: HeadersJson | null;
}

/** Custom entry field `_mitm`: what a flow has and HAR has no place for. */
export interface HarMitmExtension {
  v: number;
  id: string;
  client: PeerJson;
  server: ServerJson | null;
  error: FlowError | null;
  marked: boolean;
  isReplay: boolean;
  metadata: Record<string, JsonValue>;
  request: MessageExt & {
    scheme: "http" | "https";
    host: string;
    port: number;
    path: string;
    httpVersion: string;
  };
  response: (MessageExt & { httpVersion: string; reason: string }) | null;
  /** How a WebSocket flow closed (its messages are in `entry._webSocketMessages`). */
  websocket?: Omit<WebSocketJson, "messages">;
}

/** One message in Chrome's `_webSocketMessages`. */
export interface HarWebSocketMessage {
  type: "send" | "receive";
  /** Seconds since the epoch (fractional). */
  time: number;
  opcode: number;
  /** The text for opcode 1, base64 for the others. */
  data: string;
  _dropped?: true;
  _injected?: true;
}

export interface HarEntry {
  pageref?: string;
  startedDateTime: string;
  time: number;
  request: HarRequest;
  response: HarResponse;
  cache: Record<string, unknown>;
  timings: HarTimings;
  serverIPAddress?: string;
  connection?: string;
  comment?: string;
  _mitm?: HarMitmExtension;
  _resourceType?: string;
  _webSocketMessages?: HarWebSocketMessage[];
}

export interface HarCreator {
  name: string;
  version: string;
  comment?: string;
}

/** The `log` object of a HAR file. */
export interface HarLog {
  version: string;
  creator: HarCreator;
  browser?: HarCreator;
  pages?: unknown[];
  entries: HarEntry[];
  comment?: string;
}

/** A whole HAR document: `{ "log": { ... } }`. */
export interface Har {
  log: HarLog;
}

export interface HarExportOptions {
  /** Defaults to { name: "mitm.ts", version: VERSION }. */
  creator?: HarCreator;
  /** Bodies (raw, as on the wire) larger than this are left out. Default: no limit. */
  bodyLimit?: number;
}

// ---------------------------------------------------------------------------------------------
// helpers

const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return null;
  }
}

function nameValues(headers: HeaderList): HarNameValue[] {
  return [...headers].map(([name, value]) => ({ name, value }));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Parses an ISO 8601 date-time; more than 3 fractional digits are cut (JavaScriptCore's parser refuses them). */
function parseIso(text: string): number {
  const t = Date.parse(text.replace(/(\.\d{3})\d+/, "$1"));
  if (Number.isNaN(t)) throw new Error(`not a date-time: ${JSON.stringify(text)}`);
  return t;
}

const URI_OK = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]/;

/** The URL with every character RFC 3986 does not allow percent-encoded (HAR wants a URI). */
function uriSafe(url: string): string {
  let out = "";
  for (let i = 0; i < url.length; i++) {
    const c = url[i];
    if (c === "%" && /^[0-9A-Fa-f]{2}$/.test(url.slice(i + 1, i + 3))) out += c;
    else if (URI_OK.test(c)) out += c;
    else if (c.charCodeAt(0) < 256) {
      // The target came off the wire as bytes (one char per byte).
      out += "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0");
    } else out += encodeURIComponent(c);
  }
  return out;
}

/** Request cookies from Cookie header fields: "a=1; b=2". */
export function parseCookieHeader(headers: HeaderList): HarCookie[] {
  const out: HarCookie[] = [];
  for (const value of headers.getAll("cookie")) {
    for (const part of value.split(";")) {
      const p = part.trim();
      if (!p) continue;
      const eq = p.indexOf("=");
      out.push(
        eq < 0
          ? { name: "", value: p }
          : { name: p.slice(0, eq).trim(), value: p.slice(eq + 1).trim() },
      );
    }
  }
  return out;
}

/**
 * One Set-Cookie field as a HAR cookie. Max-Age wins over Expires (RFC 6265) and is turned into
 * an absolute time from `now`; an unparsable date is left out.
 */
export function parseSetCookie(header: string, now: number): HarCookie {
  const parts = header.split(";");
  const first = parts[0];
  const eq = first.indexOf("=");
  const cookie: HarCookie = eq < 0
    ? { name: "", value: first.trim() }
    : { name: first.slice(0, eq).trim(), value: first.slice(eq + 1).trim() };
  let maxAge: number | undefined;
  for (const attr of parts.slice(1)) {
    const i = attr.indexOf("=");
    const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
    const value = i < 0 ? "" : attr.slice(i + 1).trim();
    switch (key) {
      case "path":
        cookie.path = value;
        break;
      case "domain":
        cookie.domain = value;
        break;
      case "expires": {
        const t = Date.parse(value);
        if (!Number.isNaN(t) && cookie.expires === undefined) cookie.expires = iso(t);
        break;
      }
      case "max-age":
        if (/^-?\d+$/.test(value)) maxAge = Number(value);
        break;
      case "httponly":
        cookie.httpOnly = true;
        break;
      case "secure":
        cookie.secure = true;
        break;
    }
  }
  if (maxAge !== undefined) cookie.expires = iso(maxAge <= 0 ? 0 : now + maxAge * 1000);
  cookie.httpOnly ??= false;
  cookie.secure ??= false;
  return cookie;
}

function queryString(path: string): HarNameValue[] {
  const i = path.indexOf("?");
  if (i < 0) return [];
  return [...new URLSearchParams(path.slice(i + 1))].map(([name, value]) => ({ name, value }));
}

function requestHeadersSize(r: FlowRequest): number {
  let n = `${r.method} ${r.path} ${r.httpVersion}\r\n`.length + 2;
  for (const [name, value] of r.headers) n += name.length + value.length + 4;
  return n;
}

function responseHeadersSize(r: FlowResponse): number {
  let n = `${r.httpVersion} ${r.status} ${r.reason}\r\n`.length + 2;
  for (const [name, value] of r.headers) n += name.length + value.length + 4;
  return n;
}

function notKeptComment(m: FlowRequest | FlowResponse): string {
  return m.streamed
    ? "body not recorded: it streamed through"
    : "body not recorded: larger than the body limit";
}

/** Whether the body is present and within the limit. */
function kept(m: FlowRequest | FlowResponse, limit: number): m is typeof m & { body: Uint8Array } {
  return m.body !== null && !m.streamed && m.body.length <= limit;
}

function postData(r: FlowRequest, limit: number): HarPostData | undefined {
  const mimeType = r.headers.get("content-type") ?? "";
  if (!kept(r, limit)) {
    return r.bodySize > 0 ? { mimeType, comment: notKeptComment(r) } : undefined;
  }
  if (r.body.length === 0) return undefined;
  const text = utf8OrNull(r.body);
  if (text === null) return { mimeType, text: base64Encode(r.body), _encoding: "base64" };
  const out: HarPostData = { mimeType, text };
  // Browsers give both text and params for a form; text keeps the exact bytes.
  if (/^application\/x-www-form-urlencoded/i.test(mimeType)) {
    out.params = [...new URLSearchParams(text)].map(([name, value]) => ({ name, value }));
  }
  return out;
}

function content(r: FlowResponse, limit: number): HarContent {
  const mimeType = r.headers.get("content-type") ?? "x-unknown";
  if (!kept(r, limit)) return { size: r.bodySize, mimeType, comment: notKeptComment(r) };
  const coding = r.body.length === 0 ? undefined : r.headers.get("content-encoding");
  let bytes: Uint8Array = r.body;
  let decodeError: string | undefined;
  try {
    bytes = decodeContent(r.body, coding);
  } catch (e) {
    decodeError = (e as Error).message;
  }
  const out: HarContent = { size: bytes.length, mimeType };
  if (coding !== undefined && decodeError === undefined) {
    out.compression = bytes.length - r.body.length;
  }
  const text = utf8OrNull(bytes);
  if (text === null) {
    out.text = base64Encode(bytes);
    out.encoding = "base64";
  } else out.text = text;
  if (decodeError !== undefined) out._decodeError = decodeError;
  return out;
}

/**
 * HAR timings from the flow's timestamps (ms). connect (and ssl, which HAR counts inside connect)
 * belong to the first flow on the origin connection (`reused: false`), also when the connection
 * was opened before its request (an HTTPS tunnel dials the origin for its certificate); a reused
 * one has -1. Without `reused` (older recordings) only a connection opened during the flow counts.
 * dns is the lookup of the origin's name before that connect, with the same rule; -1 when there
 * was none (an IP address, a reused connection) or it was not recorded. Where a lookup or connect
 * overlapped sending or waiting, that time is taken out of them, so `time` (the sum) stays the
 * wall-clock span of the flow plus any lookup and connect before it. blocked is not measured: -1.
 */
export function harTimings(flow: Flow): HarTimings {
  const rq = flow.request;
  const rs = flow.response;
  const start = rq.timestampStart;
  const reqEnd = rq.timestampEnd ?? start;
  const respStart = rs !== null ? rs.timestampStart : flow.error?.timestamp ?? reqEnd;
  const end = rs !== null ? rs.timestampEnd ?? rs.timestampStart : respStart;
  let dns = -1;
  let connect = -1;
  let ssl = -1;
  let cs = 0;
  let ce = 0;
  const s = flow.server;
  if (
    s !== null && s.reused !== true && s.timestampTcpStart !== undefined &&
    s.timestampTcpEnd !== undefined && (s.reused === false || s.timestampTcpStart >= start)
  ) {
    cs = s.timestampTcpStart;
    ce = Math.max(s.timestampTcpEnd, s.timestampTlsEnd ?? s.timestampTcpEnd);
    connect = Math.max(0, ce - cs);
    if (s.timestampTlsStart !== undefined && s.timestampTlsEnd !== undefined) {
      ssl = Math.max(0, s.timestampTlsEnd - s.timestampTlsStart);
    }
    if (s.timestampDnsStart !== undefined && s.timestampDnsEnd !== undefined) {
      dns = Math.max(0, s.timestampDnsEnd - s.timestampDnsStart);
      cs = Math.min(cs, s.timestampDnsStart);
    }
  }
  const overlap = (a: number, b: number) =>
    connect < 0 ? 0 : Math.max(0, Math.min(b, ce) - Math.max(a, cs));
  return {
    blocked: -1,
    dns,
    connect,
    send: Math.max(0, reqEnd - start - overlap(start, reqEnd)),
    wait: Math.max(0, respStart - reqEnd - overlap(reqEnd, respStart)),
    receive: Math.max(0, end - respStart),
    ssl,
  };
}

/** HAR `time`: the sum of the non-negative timings, ssl excluded (it is part of connect). */
function totalTime(t: HarTimings): number {
  let sum = 0;
  for (const v of [t.blocked, t.dns, t.connect, t.send, t.wait, t.receive]) {
    if (v !== undefined && v > 0) sum += v;
  }
  return sum;
}

function mitmExtension(flow: Flow, limit: number): HarMitmExtension {
  // bodyLimit 0: the bodies themselves are in the HAR's postData and content.
  const j = flowToJson(flow, { bodyLimit: 0 });
  const ext = (
    m: typeof j.request | NonNullable<typeof j.response>,
    source: FlowRequest | FlowResponse,
  ): MessageExt => ({
    timestampStart: m.timestampStart,
    timestampEnd: m.timestampEnd,
    bodySize: m.bodySize,
    streamed: m.streamed,
    truncated: !source.streamed && !kept(source, limit) && source.bodySize > 0,
    trailers: m.trailers,
  });
  return {
    v: FLOW_FORMAT_VERSION,
    id: j.id,
    client: j.client,
    server: j.server,
    error: j.error,
    marked: j.marked,
    isReplay: j.isReplay,
    metadata: j.metadata,
    request: {
      scheme: j.request.scheme,
      host: j.request.host,
      port: j.request.port,
      path: j.request.path,
      httpVersion: j.request.httpVersion,
      ...ext(j.request, flow.request),
    },
    response: j.response === null ? null : {
      httpVersion: j.response.httpVersion,
      reason: j.response.reason,
      ...ext(j.response, flow.response!),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// flows -> HAR

/** One flow as a HAR entry. */
export function flowToHarEntry(flow: Flow, options: { bodyLimit?: number } = {}): HarEntry {
  const limit = options.bodyLimit ?? Infinity;
  const rq = flow.request;
  const rs = flow.response;
  const request: HarRequest = {
    method: rq.method,
    url: uriSafe(rq.url),
    httpVersion: rq.httpVersion,
    cookies: parseCookieHeader(rq.headers),
    headers: nameValues(rq.headers),
    queryString: queryString(rq.path),
    headersSize: requestHeadersSize(rq),
    bodySize: rq.bodySize,
  };
  const pd = postData(rq, limit);
  if (pd !== undefined) request.postData = pd;

  let response: HarResponse;
  if (rs !== null) {
    response = {
      status: rs.status,
      statusText: rs.reason,
      httpVersion: rs.httpVersion,
      cookies: rs.headers.getAll("set-cookie").map((h) => parseSetCookie(h, rs.timestampStart)),
      headers: nameValues(rs.headers),
      content: content(rs, limit),
      redirectURL: rs.headers.get("location") ?? "",
      headersSize: responseHeadersSize(rs),
      bodySize: rs.bodySize,
    };
  } else {
    response = {
      status: 0,
      statusText: "",
      httpVersion: "",
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: "x-unknown" },
      redirectURL: "",
      headersSize: -1,
      bodySize: -1,
    };
  }
  if (flow.error !== null) response._error = flow.error.message;

  const timings = harTimings(flow);
  const entry: HarEntry = {
    startedDateTime: iso(rq.timestampStart),
    time: totalTime(timings),
    request,
    response,
    cache: {},
    timings,
  };
  if (flow.server !== null) {
    const address = flow.server.address.replace(/^\[(.*)\]$/, "$1");
    if (isIP(address) !== 0) entry.serverIPAddress = address;
  }
  entry.connection = String(flow.client.port);
  if (flow.comment !== "") entry.comment = flow.comment;
  entry._mitm = mitmExtension(flow, limit);
  if (flow.websocket !== null) {
    const ws = flow.websocket;
    entry._resourceType = "websocket";
    entry._webSocketMessages = ws.messages.map(harWebSocketMessage);
    entry._mitm.websocket = {
      closedByClient: ws.closedByClient,
      closeCode: ws.closeCode,
      closeReason: ws.closeReason,
      timestampEnd: ws.timestampEnd,
      protocol: ws.protocol,
      extensions: ws.extensions,
    };
  }
  return entry;
}

function harWebSocketMessage(m: WebSocketMessage): HarWebSocketMessage {
  const opcode = WEBSOCKET_OPCODES[m.type];
  return {
    type: m.fromClient ? "send" : "receive",
    time: m.timestamp / 1000,
    opcode,
    data: opcode === 1 ? utf8Decoder.decode(m.content) : base64Encode(m.content),
    ...(m.dropped ? { _dropped: true as const } : {}),
    ...(m.injected ? { _injected: true as const } : {}),
  };
}

/** `_webSocketMessages` (Chrome's or ours) as the flow's WebSocket part; null when absent. */
function websocketFromHar(entry: Obj, ext: HarMitmExtension | null): WebSocketData | null {
  const list = entry._webSocketMessages;
  if (!Array.isArray(list)) return null;
  const ws = new WebSocketData();
  for (const item of list) {
    if (!isObj(item) || typeof item.data !== "string") continue;
    const type = messageTypeOfOpcode(num(item.opcode, 1));
    if (type === null) continue;
    ws.messages.push(
      new WebSocketMessage({
        fromClient: item.type === "send",
        type,
        content: type === "text" ? utf8Encoder.encode(item.data) : base64Decode(item.data),
        timestamp: num(item.time, 0) * 1000,
        dropped: item._dropped === true,
        injected: item._injected === true,
      }),
    );
  }
  const info = ext?.websocket;
  if (info !== undefined) {
    ws.closedByClient = info.closedByClient;
    ws.closeCode = info.closeCode;
    ws.closeReason = info.closeReason;
    ws.timestampEnd = info.timestampEnd;
    ws.protocol = info.protocol;
    ws.extensions = info.extensions;
  }
  return ws;
}

/** The flows as a HAR 1.2 document, entries in the order given. */
export function flowsToHar(flows: Iterable<Flow>, options: HarExportOptions = {}): Har {
  const creator = options.creator ?? { name: "mitm.ts", version: VERSION };
  const entries: HarEntry[] = [];
  for (const flow of flows) entries.push(flowToHarEntry(flow, options));
  return { log: { version: "1.2", creator, entries } };
}

// ---------------------------------------------------------------------------------------------
// HAR -> flows

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True for a parsed JSON value that looks like a HAR document (an object with log.entries). */
export function isHar(value: unknown): value is Har {
  return isObj(value) && isObj(value.log) && Array.isArray(value.log.entries);
}

function harHeaders(v: unknown): HeaderList {
  const raw: string[] = [];
  if (Array.isArray(v)) {
    for (const h of v) {
      if (isObj(h) && typeof h.name === "string") raw.push(h.name, String(h.value ?? ""));
    }
  }
  return new HeaderList(raw);
}

/** Drops HTTP/2 pseudo-header fields (":authority", ...); adds Host when there was none. */
function http1Headers(headers: HeaderList, authority: string | null): HeaderList {
  const raw: string[] = [];
  let pseudo = false;
  for (const [name, value] of headers) {
    if (name.startsWith(":")) pseudo = true;
    else raw.push(name, value);
  }
  if (!pseudo) return headers;
  const out = new HeaderList(raw);
  if (authority !== null && !out.has("host")) out.raw.unshift("Host", authority);
  return out;
}

function httpVersion(v: unknown): string {
  if (typeof v !== "string" || v === "") return "HTTP/1.1";
  const m = /^http\/(\d(?:\.\d)?)$/i.exec(v);
  return m ? `HTTP/${m[1]}` : v;
}

function num(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function nonNeg(v: unknown): number {
  return typeof v === "number" && v > 0 ? v : 0;
}

function textBytes(text: string, encoding: unknown): Uint8Array {
  return encoding === "base64" ? base64Decode(text) : utf8Encoder.encode(text);
}

function requestBody(rq: Obj, ext: MessageExt | null): { body: Uint8Array | null; size: number } {
  const pd = isObj(rq.postData) ? rq.postData : null;
  if (pd !== null && typeof pd.text === "string") {
    const body = textBytes(pd.text, pd._encoding ?? pd.encoding);
    return { body, size: body.length };
  }
  if (pd !== null && Array.isArray(pd.params) && pd.params.length > 0) {
    const form = new URLSearchParams();
    for (const p of pd.params) {
      if (isObj(p) && typeof p.name === "string") form.append(p.name, String(p.value ?? ""));
    }
    const body = utf8Encoder.encode(form.toString());
    return { body, size: body.length };
  }
  const size = ext?.bodySize ?? Math.max(0, num(rq.bodySize, 0));
  return { body: size > 0 ? null : new Uint8Array(0), size };
}

function responseBody(
  rs: Obj,
  headers: HeaderList,
  ext: MessageExt | null,
): { body: Uint8Array | null; size: number } {
  const c = isObj(rs.content) ? rs.content : {};
  if (typeof c.text !== "string") {
    const wire = num(rs.bodySize, -1);
    const size = ext?.bodySize ?? (wire >= 0 ? wire : Math.max(0, num(c.size, 0)));
    return { body: size > 0 ? null : new Uint8Array(0), size };
  }
  const bytes = textBytes(c.text, c.encoding);
  if (c._decodeError !== undefined || bytes.length === 0) {
    return { body: bytes, size: bytes.length };
  }
  // HAR content is decoded; put the Content-Encoding back so the flow is as on the wire.
  const coding = headers.get("content-encoding");
  if (coding === undefined) return { body: bytes, size: bytes.length };
  let body = bytes;
  try {
    body = encodeContent(bytes, coding);
  } catch {
    // A coding we cannot apply: keep the decoded bytes and say so.
    headers.delete("content-encoding");
  }
  const length = headers.get("content-length");
  if (length !== undefined && length !== String(body.length)) {
    headers.set("Content-Length", String(body.length));
  }
  return { body, size: body.length };
}

function extension(entry: Obj): HarMitmExtension | null {
  const ext = entry._mitm;
  if (!isObj(ext) || !isObj(ext.request) || typeof ext.id !== "string") return null;
  checkFlowVersion(ext);
  return ext as unknown as HarMitmExtension;
}

/** One HAR entry as a flow; throws when it cannot be one (no http(s) URL, bad fields). */
export function harEntryToFlow(entry: unknown): Flow {
  if (!isObj(entry)) throw new Error("not an object");
  const rq = entry.request;
  const rs = entry.response;
  if (!isObj(rq) || !isObj(rs)) throw new Error("request or response missing");
  if (typeof rq.method !== "string" || typeof rq.url !== "string") {
    throw new Error("request.method or request.url missing");
  }
  const ext = extension(entry);
  const started = typeof entry.startedDateTime === "string"
    ? parseIso(entry.startedDateTime)
    : ext?.request.timestampStart;
  if (started === undefined) throw new Error("startedDateTime missing");
  const t = isObj(entry.timings) ? entry.timings : {};

  // Timestamps: exact from _mitm, else from startedDateTime and the timings.
  const reqStart = ext?.request.timestampStart ?? started;
  const reqEnd = ext !== null
    ? ext.request.timestampEnd
    : started + nonNeg(t.blocked) + nonNeg(t.dns) + nonNeg(t.connect) + nonNeg(t.send);
  const respStart = ext?.response?.timestampStart ?? (reqEnd ?? reqStart) + nonNeg(t.wait);
  const respEnd = ext?.response !== undefined && ext?.response !== null
    ? ext.response.timestampEnd
    : respStart + nonNeg(t.receive);

  // The target: _mitm's exact one unless the URL was edited since.
  const e = ext?.request;
  const request = new FlowRequest({
    method: rq.method,
    scheme: e?.scheme ?? "http",
    host: e?.host ?? "",
    port: e?.port ?? 80,
    path: e?.path ?? "/",
    httpVersion: e?.httpVersion ?? httpVersion(rq.httpVersion),
    headers: new HeaderList(),
    timestampStart: reqStart,
  });
  if (e === undefined || uriSafe(request.url) !== rq.url) {
    request.url = rq.url.replace(/^ws(s?):/i, "http$1:").replace(/#.*$/, "");
  }
  request.headers = http1Headers(harHeaders(rq.headers), request.authority);
  const rb = requestBody(rq, e ?? null);
  request.body = e?.streamed ? null : rb.body;
  request.bodySize = rb.body === null || e?.streamed ? e?.bodySize ?? rb.size : rb.size;
  request.streamed = e?.streamed ?? false;
  request.trailers = e?.trailers ? headersFromJson(e.trailers, "_mitm.request.trailers") : null;
  request.timestampEnd = reqEnd;

  const client: Peer = ext !== null
    ? peerFromJson(ext.client, "_mitm.client")
    : { address: "", port: 0, tls: null };
  const flow = new Flow(client, request, ext?.id ?? newFlowId(reqStart));

  if (ext !== null) {
    if (ext.server !== null) flow.server = serverFromJson(ext.server, "_mitm.server");
  } else if (typeof entry.serverIPAddress === "string" && entry.serverIPAddress !== "") {
    flow.server = {
      address: entry.serverIPAddress.replace(/^\[(.*)\]$/, "$1"),
      port: request.port,
      tls: request.scheme === "https" ? { sni: request.host, alpn: null, version: null } : null,
    };
  }

  const status = num(rs.status, 0);
  if (status > 0) {
    const headers = http1Headers(harHeaders(rs.headers), null);
    const response = new FlowResponse({
      status,
      reason: ext?.response?.reason ??
        (typeof rs.statusText === "string" ? rs.statusText : ""),
      httpVersion: ext?.response?.httpVersion ?? httpVersion(rs.httpVersion),
      headers,
      timestampStart: respStart,
    });
    const r = ext?.response ?? null;
    const b = responseBody(rs, headers, r);
    response.body = r?.streamed ? null : b.body;
    response.bodySize = b.body === null || r?.streamed ? r?.bodySize ?? b.size : b.size;
    response.streamed = r?.streamed ?? false;
    response.trailers = r?.trailers ? headersFromJson(r.trailers, "_mitm.response.trailers") : null;
    response.timestampEnd = respEnd;
    flow.response = response;
  }

  if (ext !== null) {
    flow.error = ext.error === null ? null : { ...ext.error };
    flow.marked = ext.marked === true;
    flow.isReplay = ext.isReplay === true;
    if (isObj(ext.metadata)) flow.metadata = { ...ext.metadata };
  } else if (typeof rs._error === "string" || status === 0) {
    flow.error = {
      message: typeof rs._error === "string" && rs._error !== "" ? rs._error : "no response",
      timestamp: respEnd ?? respStart,
    };
  }
  if (typeof entry.comment === "string") flow.comment = entry.comment;
  flow.websocket = websocketFromHar(entry, ext);
  return flow;
}

/** The HAR's entries as flows, with the entries that could not be converted and why. */
export function harEntriesToFlows(
  har: unknown,
): { flows: Flow[]; skipped: { entry: number; reason: string }[] } {
  if (!isHar(har)) throw new Error("not a HAR document (no log.entries array)");
  const flows: Flow[] = [];
  const skipped: { entry: number; reason: string }[] = [];
  har.log.entries.forEach((entry, i) => {
    try {
      flows.push(harEntryToFlow(entry));
    } catch (e) {
      skipped.push({ entry: i + 1, reason: (e as Error).message });
    }
  });
  return { flows, skipped };
}

/**
 * Flows from a HAR document. Entries that cannot be flows (data: URLs and the like) are left out;
 * use harEntriesToFlows to learn which. Response content is decoded in HAR: its Content-Encoding
 * is applied again, so the bodies are equivalent (same decoded bytes), not always byte-identical.
 */
export function harToFlows(har: unknown): Flow[] {
  return harEntriesToFlows(har).flows;
}
