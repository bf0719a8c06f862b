/**
 * A flow as plain data, to hand to the writer thread (structured clone copies it at postMessage),
 * and the flow back from it there. Taking one costs a few object literals: no JSON, no encoding.
 */
import { Flow, FlowRequest, FlowResponse, type Peer, type ServerPeer } from "../flow/flow.ts";
import { jsonSafe } from "../flow/serialize.ts";
import { WebSocketData, WebSocketMessage, type WebSocketMessageType } from "../flow/websocket.ts";
import { HeaderList } from "../http/headers.ts";

interface MessageSnapshot {
  httpVersion: string;
  headers: string[];
  body: Uint8Array | null;
  trailers: string[] | null;
  bodySize: number;
  streamed: boolean;
  timestampStart: number;
  timestampEnd: number | null;
}

export interface FlowSnapshot {
  id: string;
  client: Peer;
  server: ServerPeer | null;
  request: MessageSnapshot & {
    method: string;
    scheme: "http" | "https";
    host: string;
    port: number;
    path: string;
  };
  response: (MessageSnapshot & { status: number; reason: string }) | null;
  error: { message: string; timestamp: number } | null;
  marked: boolean;
  comment: string;
  isReplay: boolean;
  metadata: unknown;
  websocket: {
    messages: {
      fromClient: boolean;
      type: string;
      content: Uint8Array;
      timestamp: number;
      dropped: boolean;
      injected: boolean;
    }[];
    closedByClient: boolean | null;
    closeCode: number | null;
    closeReason: string | null;
    timestampEnd: number | null;
    protocol: string | null;
    extensions: string | null;
  } | null;
}

/**
 * The bytes on their own: postMessage copies a typed array's whole buffer, and a body is often a
 * view into a larger read buffer.
 */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
}

function message(m: FlowRequest | FlowResponse): MessageSnapshot {
  return {
    httpVersion: m.httpVersion,
    headers: m.headers.raw,
    body: m.body && own(m.body),
    trailers: m.trailers?.raw ?? null,
    bodySize: m.bodySize,
    streamed: m.streamed,
    timestampStart: m.timestampStart,
    timestampEnd: m.timestampEnd,
  };
}

function peer<T extends Peer>(p: T): T {
  // Only plain fields: anything an addon hung on it might not be cloneable.
  return { ...p, tls: p.tls && { sni: p.tls.sni, alpn: p.tls.alpn, version: p.tls.version } };
}

export function snapshotFlow(flow: Flow): FlowSnapshot {
  const req = flow.request;
  const res = flow.response;
  const ws = flow.websocket;
  let metadata: unknown = undefined;
  for (const _ in flow.metadata) {
    metadata = jsonSafe(flow.metadata);
    break;
  }
  return {
    id: flow.id,
    client: peer(flow.client),
    server: flow.server && peer(flow.server),
    request: {
      ...message(req),
      method: req.method,
      scheme: req.scheme,
      host: req.host,
      port: req.port,
      path: req.path,
    },
    response: res && { ...message(res), status: res.status, reason: res.reason },
    error: flow.error && { message: String(flow.error.message), timestamp: flow.error.timestamp },
    marked: flow.marked,
    comment: flow.comment,
    isReplay: flow.isReplay,
    metadata,
    websocket: ws && {
      messages: ws.messages.map((m) => ({
        fromClient: m.fromClient,
        type: m.type,
        content: own(m.content),
        timestamp: m.timestamp,
        dropped: m.dropped,
        injected: m.injected,
      })),
      closedByClient: ws.closedByClient,
      closeCode: ws.closeCode,
      closeReason: ws.closeReason,
      timestampEnd: ws.timestampEnd,
      protocol: ws.protocol,
      extensions: ws.extensions,
    },
  };
}

function fill(m: FlowRequest | FlowResponse, s: MessageSnapshot): void {
  m.body = s.body;
  m.trailers = s.trailers === null ? null : new HeaderList(s.trailers);
  m.bodySize = s.bodySize;
  m.streamed = s.streamed;
  m.timestampEnd = s.timestampEnd;
}

export function flowFromSnapshot(s: FlowSnapshot): Flow {
  const r = s.request;
  const request = new FlowRequest({
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    port: r.port,
    path: r.path,
    httpVersion: r.httpVersion,
    headers: new HeaderList(r.headers),
    timestampStart: r.timestampStart,
  });
  fill(request, r);
  const flow = new Flow(s.client, request, s.id);
  flow.server = s.server;
  if (s.response) {
    const response = new FlowResponse({
      status: s.response.status,
      reason: s.response.reason,
      httpVersion: s.response.httpVersion,
      headers: new HeaderList(s.response.headers),
      timestampStart: s.response.timestampStart,
    });
    fill(response, s.response);
    flow.response = response;
  }
  flow.error = s.error;
  flow.marked = s.marked;
  flow.comment = s.comment;
  flow.isReplay = s.isReplay;
  if (s.metadata !== undefined) flow.metadata = s.metadata as Record<string, unknown>;
  if (s.websocket) {
    const ws = new WebSocketData();
    ws.messages = s.websocket.messages.map((m) =>
      new WebSocketMessage({ ...m, type: m.type as WebSocketMessageType })
    );
    ws.closedByClient = s.websocket.closedByClient;
    ws.closeCode = s.websocket.closeCode;
    ws.closeReason = s.websocket.closeReason;
    ws.timestampEnd = s.websocket.timestampEnd;
    ws.protocol = s.websocket.protocol;
    ws.extensions = s.websocket.extensions;
    flow.websocket = ws;
  }
  return flow;
}
