/**
 * The flow model: one request/response exchange, as addons, filters, the recorder and the API
 * see it. Bodies are raw bytes (as on the wire, content-encoding included); `text()`/`json()`
 * decode them. A body larger than `stream_large_bodies` is streamed through and not kept: `body`
 * is null, `streamed` is true and `bodySize` says how big it was.
 */
import { latin1 } from "../http1/bytes.ts";
import { HeaderList } from "../http/headers.ts";
import { formatAuthority, parseAuthority } from "../http1/target.ts";
import { decodeContent, encodeContent, utf8OrNull } from "./encoding.ts";
import { newFlowId } from "./id.ts";
import type { WebSocketData } from "./websocket.ts";

export interface TlsInfo {
  /** Server name the client asked for (SNI), or null. */
  sni: string | null;
  /** Negotiated ALPN protocol, or null. */
  alpn: string | null;
  /** "TLSv1.3" and the like, or null. */
  version: string | null;
  /** Negotiated cipher suite ("TLS_AES_128_GCM_SHA256"); set on the origin side. */
  cipher?: string | null;
  /**
   * The origin's certificate chain, leaf first; set on the origin side. One array per origin
   * connection, shared by the flows on it: treat it as read-only.
   */
  certificates?: CertificateInfo[];
}

/** One certificate of an origin's chain, as the proxy saw it in the handshake. */
export interface CertificateInfo {
  /** Distinguished name, "CN=example.com, O=Example". */
  subject: string;
  issuer: string;
  /** Validity, ISO 8601 UTC, or null when unknown. */
  notBefore: string | null;
  notAfter: string | null;
  /** SHA-256 of the DER encoding, lowercase hex. */
  sha256: string;
  /** DNS names and IP addresses from subjectAltName. */
  altNames: string[];
}

export interface Peer {
  address: string;
  port: number;
  /** Set when this side spoke TLS with the proxy. */
  tls: TlsInfo | null;
}

export interface ServerPeer extends Peer {
  /** When the origin's name was looked up (absent for an IP address: no lookup). */
  timestampDnsStart?: number;
  timestampDnsEnd?: number;
  /** When the TCP connection to the origin was opened and ready (ms since the epoch). */
  timestampTcpStart?: number;
  timestampTcpEnd?: number;
  /** When the TLS handshake with the origin started and finished. */
  timestampTlsStart?: number;
  timestampTlsEnd?: number;
  /** True when the connection had carried earlier requests (its timestamps are from then). */
  reused?: boolean;
}

export interface FlowError {
  message: string;
  timestamp: number;
}

const utf8 = new TextEncoder();

/** Body helpers shared by requests and responses. */
abstract class Message {
  httpVersion: string;
  headers: HeaderList;
  /** Raw body bytes; null when not kept (streamed) or not read yet. */
  body: Uint8Array | null = null;
  /** Trailer fields of a chunked body, or null. */
  trailers: HeaderList | null = null;
  /** Body bytes that passed through, kept or not. */
  bodySize = 0;
  /** True when the body streamed straight through and was not kept. */
  streamed = false;
  /** Set by an addon in a *headers hook to stream this body without buffering it. */
  stream = false;
  /**
   * While the body is still arriving: the bytes kept so far (null once past stream_large_bodies),
   * for observers such as the web UI's live view of an event stream. Null when the proxy core does
   * not offer it, and once the message is complete (then `body` has it all).
   */
  bodySoFar: (() => Uint8Array | null) | null = null;
  timestampStart: number;
  timestampEnd: number | null = null;

  constructor(httpVersion: string, headers: HeaderList, timestampStart: number) {
    this.httpVersion = httpVersion;
    this.headers = headers;
    this.timestampStart = timestampStart;
  }

  /** The body with Content-Encoding undone; null if not kept. Throws if it cannot be decoded. */
  decodedBody(): Uint8Array | null {
    return this.body === null
      ? null
      : decodeContent(this.body, this.headers.get("content-encoding"));
  }

  /** The decoded body as text (UTF-8, falling back to Latin-1), or null if not kept. */
  text(): string | null {
    const bytes = this.decodedBody();
    if (bytes === null) return null;
    return utf8OrNull(bytes) ?? latin1(bytes);
  }

  /** The decoded body parsed as JSON; throws when it is not JSON. */
  json(): unknown {
    const text = this.text();
    if (text === null) throw new Error("the body was not kept (streamed)");
    return JSON.parse(text);
  }

  /**
   * Replaces the body. Text is encoded as UTF-8; the current Content-Encoding is applied again, and
   * Content-Length follows (set by the proxy when it sends the message).
   */
  setBody(body: Uint8Array | string): void {
    const bytes = typeof body === "string" ? utf8.encode(body) : body;
    this.body = encodeContent(bytes, this.headers.get("content-encoding"));
    this.bodySize = this.body.length;
    this.streamed = false;
    this.bodyChanged = true;
  }

  /** Same as setBody for text. */
  setText(text: string): void {
    this.setBody(text);
  }

  /** Same as setBody with JSON.stringify(value). */
  setJson(value: unknown): void {
    if (!this.headers.has("content-type")) this.headers.set("Content-Type", "application/json");
    this.setBody(JSON.stringify(value));
  }

  /** True once an addon replaced the body (the proxy then sends it with a new Content-Length). */
  bodyChanged = false;
}

export class FlowRequest extends Message {
  method: string;
  scheme: "http" | "https";
  host: string;
  port: number;
  /** Path and query, as sent in origin-form ("/a?b=1"), or "*". */
  path: string;

  constructor(init: {
    method: string;
    scheme: "http" | "https";
    host: string;
    port: number;
    path: string;
    httpVersion: string;
    headers: HeaderList;
    timestampStart: number;
  }) {
    super(init.httpVersion, init.headers, init.timestampStart);
    this.method = init.method;
    this.scheme = init.scheme;
    this.host = init.host;
    this.port = init.port;
    this.path = init.path;
  }

  /** host[:port], the port left out when it is the scheme's default. */
  get authority(): string {
    return formatAuthority(this.host, this.port, this.scheme === "https" ? 443 : 80);
  }

  get url(): string {
    return `${this.scheme}://${this.authority}${this.path === "*" ? "" : this.path}`;
  }

  /** Setting the URL changes scheme, host, port and path (the Host header is left alone). */
  set url(value: string) {
    const m = /^(https?):\/\/([^/?#]+)([^#]*)/i.exec(value);
    if (!m) throw new Error(`not an http(s) URL: ${value}`);
    const scheme = m[1].toLowerCase() as "http" | "https";
    const { host, port } = parseAuthority(m[2], scheme === "https" ? 443 : 80);
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    this.path = m[3] === "" ? "/" : m[3].startsWith("?") ? "/" + m[3] : m[3];
  }

  /**
   * The target as the request line names it, for people: host:port for CONNECT (the authority
   * form, RFC 9110 section 9.3.6, as mitmproxy shows it), the URL otherwise.
   */
  get target(): string {
    return this.method === "CONNECT" ? formatAuthority(this.host, this.port) : this.url;
  }

  /** Query parameters, decoded. */
  get query(): URLSearchParams {
    const i = this.path.indexOf("?");
    return new URLSearchParams(i < 0 ? "" : this.path.slice(i + 1));
  }
}

export class FlowResponse extends Message {
  status: number;
  reason: string;

  constructor(init: {
    status: number;
    reason: string;
    httpVersion: string;
    headers: HeaderList;
    timestampStart: number;
  }) {
    super(init.httpVersion, init.headers, init.timestampStart);
    this.status = init.status;
    this.reason = init.reason;
  }
}

export class Flow {
  readonly id: string;
  readonly type = "http";
  client: Peer;
  server: ServerPeer | null = null;
  request: FlowRequest;
  response: FlowResponse | null = null;
  error: FlowError | null = null;
  /** Set once a WebSocket handshake succeeded (request/response are the Upgrade and its 101). */
  websocket: WebSocketData | null = null;
  /** Marked in a UI or by an addon (~marked matches it). */
  marked = false;
  /** A note a person wrote on the flow in a UI ("" when none; ~comment matches it). */
  comment = "";
  /** True for a flow made by replaying another. */
  isReplay = false;
  /** Free-form data for addons. */
  metadata: Record<string, unknown> = {};
  /** Set by kill(): the proxy drops the client connection. */
  killed = false;
  /** Set by respond(): the proxy answers with `response` instead of asking the origin. */
  responded = false;

  constructor(client: Peer, request: FlowRequest, id = newFlowId()) {
    this.id = id;
    this.client = client;
    this.request = request;
  }

  /** When the flow began (its request started). */
  get timestampCreated(): number {
    return this.request.timestampStart;
  }

  /**
   * Answers the request without contacting the origin (from a request or requestheaders hook).
   * Content-Length is set from the body.
   */
  respond(
    status: number,
    body: Uint8Array | string = "",
    headers: Record<string, string> | Iterable<readonly [string, string]> = {},
  ): void {
    const response = new FlowResponse({
      status,
      reason: "",
      httpVersion: "HTTP/1.1",
      headers: HeaderList.from(headers),
      timestampStart: Date.now(),
    });
    response.setBody(body);
    response.timestampEnd = response.timestampStart;
    this.response = response;
    this.responded = true;
  }

  /** Drops the client connection; nothing more is sent or received for this flow. */
  kill(): void {
    this.killed = true;
  }

  /**
   * Records what addons may change, and returns a function that puts it back: an addon that
   * throws leaves the flow as it found it.
   */
  snapshot(): () => void {
    const { request, response, killed, responded, marked, comment, error } = this;
    const saved = {
      request: saveMessage(request),
      method: request.method,
      scheme: request.scheme,
      host: request.host,
      port: request.port,
      path: request.path,
      response: response && saveMessage(response),
      status: response?.status,
      reason: response?.reason,
    };
    // In websocket_message, what an addon may change is the newest message.
    const message = this.websocket?.messages.at(-1);
    const savedMessage = message &&
      { content: message.content, type: message.type, dropped: message.dropped };
    return () => {
      if (message && savedMessage) Object.assign(message, savedMessage);
      restoreMessage(request, saved.request);
      request.method = saved.method;
      request.scheme = saved.scheme;
      request.host = saved.host;
      request.port = saved.port;
      request.path = saved.path;
      this.response = response;
      if (response && saved.response) {
        restoreMessage(response, saved.response);
        response.status = saved.status!;
        response.reason = saved.reason!;
      }
      this.killed = killed;
      this.responded = responded;
      this.marked = marked;
      this.comment = comment;
      this.error = error;
    };
  }
}

function saveMessage(m: Message) {
  return {
    headers: m.headers.raw.slice(),
    body: m.body,
    bodySize: m.bodySize,
    bodyChanged: m.bodyChanged,
    stream: m.stream,
    trailers: m.trailers?.raw.slice() ?? null,
  };
}

function restoreMessage(m: Message, saved: ReturnType<typeof saveMessage>): void {
  m.headers.raw.splice(0, m.headers.raw.length, ...saved.headers);
  m.body = saved.body;
  m.bodySize = saved.bodySize;
  m.bodyChanged = saved.bodyChanged;
  m.stream = saved.stream;
  m.trailers = saved.trailers === null ? null : new HeaderList(saved.trailers);
}
