/**
 * The stored document of a flow: the recording format (serialize.ts) without what is stored
 * elsewhere or derived. Bodies and WebSocket message contents are rows of their own, header fields
 * are the header blocks filters search ("\nName: value\n..."), and `id`, `url`, `truncated` and
 * null fields (the peers' too) are left out. About half the size of the full JSON and cheaper to write, which
 * matters at a million flows. `toFlowJson` puts it back together for flowFromJson.
 */
import type { Flow, FlowRequest, FlowResponse, Peer, ServerPeer } from "../flow/flow.ts";
import {
  FLOW_FORMAT_VERSION,
  type HeadersJson,
  headersToJson,
  jsonSafe,
  peerToJson,
} from "../flow/serialize.ts";
import type { HeaderList } from "../http/headers.ts";

type Message = FlowRequest | FlowResponse;
type Obj = Record<string, unknown>;

/**
 * The header block of a message: "\nName: value\n" per field ("" for none), or null when a field
 * would not read back from it (a name with ":" or a line break in a name or value).
 */
export function headerBlock(headers: HeaderList | null): string | null {
  if (headers === null) return "";
  const raw = headers.raw;
  if (raw.length === 0) return "";
  let out = "\n";
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.indexOf(":") >= 0) return null;
    out += name + ": " + raw[i + 1] + "\n";
  }
  // One look at the block for line breaks rather than two regexes a field (this runs for every
  // flow on the proxy's thread): a break inside a name or value makes more lines than fields.
  if (out.indexOf("\r") >= 0) return null;
  let lines = -1;
  for (let at = out.indexOf("\n"); at >= 0; at = out.indexOf("\n", at + 1)) lines++;
  return lines === raw.length >> 1 ? out : null;
}

export function headersFromBlock(block: string): HeadersJson {
  const out: HeadersJson = [];
  if (block === "") return out;
  for (const line of block.slice(1, -1).split("\n")) {
    const at = line.indexOf(": ");
    out.push([line.slice(0, at), line.slice(at + 2)]);
  }
  return out;
}

/**
 * A peer without its null fields (tls, unknown timestamps): they are most of a plain HTTP flow's
 * peers, and flowFromJson reads a missing field as null. Built field by field: this runs for every
 * flow on the proxy's thread.
 */
function peerDoc(peer: Peer): Obj {
  const o: Obj = {};
  if (peer.address != null) o.address = peer.address;
  if (peer.port != null) o.port = peer.port;
  if (peer.tls != null) o.tls = peerToJson(peer).tls;
  return o;
}

function serverDoc(server: ServerPeer): Obj {
  const o = peerDoc(server);
  if (server.timestampDnsStart != null) o.timestampDnsStart = server.timestampDnsStart;
  if (server.timestampDnsEnd != null) o.timestampDnsEnd = server.timestampDnsEnd;
  if (server.timestampTcpStart != null) o.timestampTcpStart = server.timestampTcpStart;
  if (server.timestampTcpEnd != null) o.timestampTcpEnd = server.timestampTcpEnd;
  if (server.timestampTlsStart != null) o.timestampTlsStart = server.timestampTlsStart;
  if (server.timestampTlsEnd != null) o.timestampTlsEnd = server.timestampTlsEnd;
  if (server.reused != null) o.reused = server.reused;
  return o;
}

/** Adds a message's fields to `o` (its request or response object). */
function messageDoc(o: Obj, m: Message, block: string | null): Obj {
  const kept = m.body !== null && !m.streamed;
  o.httpVersion = m.httpVersion;
  o.bodySize = kept ? m.body!.length : m.bodySize;
  o.timestampStart = m.timestampStart;
  if (block === null) o.headers = headersToJson(m.headers); // does not fit a block
  if (m.streamed) o.streamed = true;
  if (m.trailers !== null) o.trailers = headersToJson(m.trailers);
  if (m.timestampEnd !== null) o.timestampEnd = m.timestampEnd;
  return o;
}

/** The document (JSON text) of a flow whose header blocks are `reqBlock` and `resBlock`. */
export function flowDoc(flow: Flow, reqBlock: string | null, resBlock: string | null): string {
  const req = flow.request;
  const res = flow.response;
  const o: Obj = {
    client: peerDoc(flow.client),
    request: messageDoc(
      { method: req.method, scheme: req.scheme, host: req.host, port: req.port, path: req.path },
      req,
      reqBlock,
    ),
  };
  if (flow.server !== null) o.server = serverDoc(flow.server);
  if (res !== null) {
    o.response = messageDoc({ status: res.status, reason: res.reason }, res, resBlock);
  }
  if (flow.error !== null) {
    o.error = { message: String(flow.error.message), timestamp: flow.error.timestamp };
  }
  if (flow.marked) o.marked = true;
  if (flow.comment !== "") o.comment = flow.comment;
  if (flow.isReplay) o.isReplay = true;
  for (const _ in flow.metadata) {
    o.metadata = jsonSafe(flow.metadata);
    break;
  }
  const ws = flow.websocket;
  if (ws !== null) {
    o.websocket = {
      closedByClient: ws.closedByClient,
      closeCode: ws.closeCode,
      closeReason: ws.closeReason,
      timestampEnd: ws.timestampEnd,
      protocol: ws.protocol,
      extensions: ws.extensions,
    };
  }
  return JSON.stringify(o);
}

function messageJson(o: Obj, block: string): Obj {
  return {
    ...o,
    headers: o.headers ?? headersFromBlock(block),
    body: null, // filled in from the bodies table
  };
}

/** The recording-format JSON of a stored flow, without bodies (flowFromJson reads it). */
export function toFlowJson(id: string, doc: string, reqBlock: string, resBlock: string): Obj {
  const o = JSON.parse(doc) as Obj;
  return {
    ...o,
    v: FLOW_FORMAT_VERSION,
    id,
    request: messageJson(o.request as Obj, reqBlock),
    response: o.response ? messageJson(o.response as Obj, resBlock) : null,
    websocket: o.websocket ? { ...(o.websocket as Obj), messages: [] } : null,
  };
}
