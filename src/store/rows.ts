/**
 * A flow as the store's rows, and back. The flow's JSON (the recording format, bodies left out) is
 * the document; bodies are blobs in chunks, WebSocket messages one row each. Columns that filters
 * read are derived here, once, when the flow is written.
 */
import { ASSET_TYPES, compileMatcher } from "../filter/matcher.ts";
import type { Flow, FlowRequest, FlowResponse } from "../flow/flow.ts";
import { flowFromJson } from "../flow/serialize.ts";
import { WebSocketMessage, type WebSocketMessageType } from "../flow/websocket.ts";
import { sameName } from "../http/headers.ts";
import type { SqlValue } from "../runtime/mod.ts";
import { flowDoc, headerBlock, toFlowJson } from "./doc.ts";
import { BODY_NONE, BODY_OTHER, BODY_PLAIN } from "./schema.ts";

type Message = FlowRequest | FlowResponse;

const isWebSocket = compileMatcher({ type: "flag", name: "websocket" });
/** ~a in one regex over the response's Content-Type values (the matcher's list, joined). */
const ASSET = new RegExp(ASSET_TYPES.map((re) => re.source).join("|"), "i");

export interface FlowRows {
  /** Values for the `flows` columns after seq, in schema order. */
  flow: SqlValue[];
  /** doc, req_heads, res_heads, req_data, res_data (a body's first chunk; null when not kept) */
  doc: [string, string, string, Uint8Array | null, Uint8Array | null];
  /** Chunks after the first: [part, idx, data]; part 0 is the request body, 1 the response's. */
  chunks: [number, number, Uint8Array][];
  /** WebSocket messages: from_client, type, ts, dropped, injected, content. */
  ws: [number, string, number, number, number, Uint8Array][];
  /** What the flow takes in the store, roughly: the budget counts this. */
  bytes: number;
}

/**
 * Lines as "\nA\nB\n" (empty for none), so that a LIKE pattern can anchor a literal to the start
 * and end of one line with the newlines around it.
 */
export function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? "" : `\n${lines.join("\n")}\n`;
}

/** The header lines filters search; joinLines even when the block could not be read back. */
function searchBlock(message: Message | null, block: string | null): string {
  if (block !== null) return block;
  const raw = message!.headers.raw;
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return joinLines(lines);
}

/** What a row needs from a message's header fields, read in one pass over them. */
interface FieldFacts {
  /** The Content-Type values as joinLines makes them. */
  types: string;
  /** A Content-Encoding with a coding in it. */
  encoded: boolean;
}

const NO_FIELDS: FieldFacts = { types: "", encoded: false };

function fieldFacts(message: Message | null): FieldFacts {
  if (message === null) return NO_FIELDS;
  const raw = message.headers.raw;
  let types = "";
  let encoded = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 12 && sameName(name, "content-type")) {
      types += (types === "" ? "\n" : "") + raw[i + 1] + "\n";
    } else if (!encoded && name.length === 16 && sameName(name, "content-encoding")) {
      encoded = hasToken(raw[i + 1]);
    }
  }
  return { types, encoded };
}

/** True when a list value ("gzip, br") names something: more than commas and spaces. */
function hasToken(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 0x2c && c !== 0x20 && c !== 0x09) return true;
  }
  return false;
}

function keptBody(message: Message | null): Uint8Array | null {
  return message === null || message.streamed ? null : message.body;
}

function bodyState(message: Message | null, facts: FieldFacts, chunkSize: number): number {
  const body = keptBody(message);
  if (body === null) return BODY_NONE;
  return facts.encoded || body.length > chunkSize ? BODY_OTHER : BODY_PLAIN;
}

/** The first chunk (null for a body not kept); the others go to `out`. */
function chunksOf(
  body: Uint8Array | null,
  part: number,
  size: number,
  out: FlowRows["chunks"],
): Uint8Array | null {
  if (body === null) return null;
  for (let i = size, idx = 1; i < body.length; i += size, idx++) {
    out.push([part, idx, body.subarray(i, Math.min(body.length, i + size))]);
  }
  return body.length > size ? body.subarray(0, size) : body;
}

export function flowToRows(flow: Flow, chunkSize: number): FlowRows {
  const req = flow.request;
  const res = flow.response;
  const reqFacts = fieldFacts(req);
  const resFacts = fieldFacts(res);
  const reqBlock = headerBlock(req.headers);
  const resBlock = headerBlock(res?.headers ?? null);
  const chunks: FlowRows["chunks"] = [];
  const doc: FlowRows["doc"] = [
    flowDoc(flow, reqBlock, resBlock),
    searchBlock(req, reqBlock),
    searchBlock(res, resBlock),
    chunksOf(keptBody(req), 0, chunkSize, chunks),
    chunksOf(keptBody(res), 1, chunkSize, chunks),
  ];
  const ws: FlowRows["ws"] = [];
  // Row headers, index entries and page slack (docs/BENCHMARKS.md has the measurement).
  let bytes = FLOW_OVERHEAD;
  for (const part of doc) bytes += part?.length ?? 0;
  for (const [, , data] of chunks) bytes += data.length + 20;
  for (const m of flow.websocket?.messages ?? []) {
    ws.push([
      m.fromClient ? 1 : 0,
      m.type,
      m.timestamp,
      m.dropped ? 1 : 0,
      m.injected ? 1 : 0,
      m.content,
    ]);
    bytes += m.content.length + 40;
  }
  return {
    flow: [
      flow.id,
      req.timestampStart,
      req.method,
      req.host,
      req.url,
      res === null ? null : res.status,
      reqFacts.types,
      resFacts.types,
      flow.error ? 1 : 0,
      flow.marked ? 1 : 0,
      isWebSocket(flow) ? 1 : 0,
      // One test of the joined values: the patterns are unanchored and none spans a line break.
      ASSET.test(resFacts.types) ? 1 : 0,
      bodyState(req, reqFacts, chunkSize),
      bodyState(res, resFacts, chunkSize),
      bytes,
    ],
    doc,
    chunks,
    ws,
    bytes,
  };
}

export const FLOW_COLUMNS = "id, started, method, host, url, status, req_type, res_type, error, " +
  "marked, websocket, asset, req_body, res_body, bytes";

function joinChunks(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return new Uint8Array(parts[0]);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * What a flow takes beyond its documents and bodies (row headers, index entries, page slack),
 * measured with 16 KiB pages on flows with 1 KiB bodies so that the count matches the file
 * (docs/BENCHMARKS.md; it was 510 with 4 KiB pages, where two such rows filled a page).
 */
const FLOW_OVERHEAD = 370;

export interface StoredParts {
  id: string;
  doc: string;
  reqHeads: string;
  resHeads: string;
  reqBody: number;
  resBody: number;
  /** First chunks (null: not kept). */
  reqData: Uint8Array | null;
  resData: Uint8Array | null;
  /** The other chunks: [part, data] in idx order. */
  chunks: [number, Uint8Array][];
  ws: {
    from_client: number;
    type: string;
    ts: number;
    dropped: number;
    injected: number;
    content: Uint8Array;
  }[];
}

/** The flow back from its rows. */
export function flowFromRows(parts: StoredParts): Flow {
  const flow = flowFromJson(toFlowJson(parts.id, parts.doc, parts.reqHeads, parts.resHeads));
  const bodies: Uint8Array[][] = [
    parts.reqData === null ? [] : [parts.reqData],
    parts.resData === null ? [] : [parts.resData],
  ];
  for (const [part, data] of parts.chunks) bodies[part].push(data);
  if (parts.reqBody !== BODY_NONE) flow.request.body = joinChunks(bodies[0]);
  if (parts.resBody !== BODY_NONE && flow.response) flow.response.body = joinChunks(bodies[1]);
  if (flow.websocket) {
    flow.websocket.messages = parts.ws.map((m) =>
      new WebSocketMessage({
        fromClient: m.from_client === 1,
        type: m.type as WebSocketMessageType,
        content: new Uint8Array(m.content),
        timestamp: m.ts,
        dropped: m.dropped === 1,
        injected: m.injected === 1,
      })
    );
  }
  return flow;
}
