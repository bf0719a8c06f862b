/**
 * A flow as a flat list of values, for the writer thread: the proxy's thread only copies a flow's
 * fields out (strings, numbers and the kept bodies, no JSON documents, header blocks or derived
 * columns), and the writer thread makes a Flow of them again and builds its rows (rows.ts) there.
 * Building the rows on the proxy's thread cost it 20-26 µs a request more than copying does
 * (docs/BENCHMARKS.md, the flow store's fourth round).
 *
 * Only what the rows read is carried, and only for plain HTTP flows: a flow with WebSocket
 * messages or addon metadata (values that may not survive a copy as they are) has its rows built
 * on the proxy's thread as before (`packable`).
 */
import { Flow, FlowRequest, FlowResponse, type ServerPeer, type TlsInfo } from "../flow/flow.ts";
import { HeaderList } from "../http/headers.ts";
import type { SqlValue } from "../runtime/mod.ts";

type Message = FlowRequest | FlowResponse;

/** Bits of the packet's flags value. */
const MARKED = 1;
const REPLAY = 2;
const SERVER = 4;
const RESPONSE = 8;
const ERROR = 16;
const REQUEST_STREAMED = 32;
const RESPONSE_STREAMED = 64;

/** True when `flowPacket` carries everything the rows of this flow are built from. */
export function packable(flow: Flow): boolean {
  if (flow.websocket !== null) return false;
  for (const _ in flow.metadata) return false;
  return true;
}

/** The flow's packet, appended to `out` (a packable flow's). */
export function flowPacket(flow: Flow, out: SqlValue[]): void {
  const req = flow.request;
  const res = flow.response;
  const server = flow.server;
  const error = flow.error;
  const flags = (flow.marked ? MARKED : 0) | (flow.isReplay ? REPLAY : 0) |
    (server !== null ? SERVER : 0) | (res !== null ? RESPONSE : 0) | (error !== null ? ERROR : 0) |
    (req.streamed ? REQUEST_STREAMED : 0) | (res?.streamed ? RESPONSE_STREAMED : 0);
  out.push(
    flow.id,
    flags,
    flow.comment,
    flow.client.address,
    flow.client.port,
    tlsText(flow.client.tls),
    req.method,
    req.scheme,
    req.host,
    req.port,
    req.path,
  );
  message(req, out);
  if (res !== null) {
    out.push(res.status, res.reason);
    message(res, out);
  }
  if (server !== null) {
    out.push(
      server.address,
      server.port,
      tlsText(server.tls),
      server.timestampDnsStart ?? null,
      server.timestampDnsEnd ?? null,
      server.timestampTcpStart ?? null,
      server.timestampTcpEnd ?? null,
      server.timestampTlsStart ?? null,
      server.timestampTlsEnd ?? null,
      server.reused === undefined ? null : server.reused ? 1 : 0,
    );
  }
  if (error !== null) out.push(String(error.message), error.timestamp);
}

function tlsText(tls: TlsInfo | null): string | null {
  return tls === null || tls === undefined ? null : JSON.stringify(tls);
}

function message(m: Message, out: SqlValue[]): void {
  out.push(
    m.httpVersion,
    m.timestampStart,
    m.timestampEnd,
    m.bodySize,
    // A streamed body is not kept: the rows never read it.
    m.streamed ? null : m.body,
  );
  fields(m.headers, out);
  if (m.trailers === null) out.push(null);
  else fields(m.trailers, out);
}

function fields(headers: HeaderList, out: SqlValue[]): void {
  const raw = headers.raw;
  out.push(raw.length);
  for (let i = 0; i < raw.length; i++) out.push(raw[i]);
}

/** Reads a packet's values in order. */
export interface PacketReader {
  next(): SqlValue;
}

/** The Flow a packet was made from, as far as its rows are concerned. */
export function flowFromPacket(r: PacketReader): Flow {
  const id = r.next() as string;
  const flags = r.next() as number;
  const comment = r.next() as string;
  const client = {
    address: r.next() as string,
    port: r.next() as number,
    tls: tlsFrom(r.next()),
  };
  const method = r.next() as string;
  const scheme = r.next() as "http" | "https";
  const host = r.next() as string;
  const port = r.next() as number;
  const path = r.next() as string;
  const request = readMessage(
    r,
    (httpVersion, headers, timestampStart) =>
      new FlowRequest({ method, scheme, host, port, path, httpVersion, headers, timestampStart }),
  );
  request.streamed = (flags & REQUEST_STREAMED) !== 0;
  const flow = new Flow(client, request, id);
  flow.comment = comment;
  flow.marked = (flags & MARKED) !== 0;
  flow.isReplay = (flags & REPLAY) !== 0;
  if (flags & RESPONSE) {
    const status = r.next() as number;
    const reason = r.next() as string;
    flow.response = readMessage(
      r,
      (httpVersion, headers, timestampStart) =>
        new FlowResponse({ status, reason, httpVersion, headers, timestampStart }),
    );
    flow.response.streamed = (flags & RESPONSE_STREAMED) !== 0;
  }
  if (flags & SERVER) {
    const server: ServerPeer = {
      address: r.next() as string,
      port: r.next() as number,
      tls: tlsFrom(r.next()),
    };
    const dnsStart = r.next(), dnsEnd = r.next(), tcpStart = r.next(), tcpEnd = r.next();
    const tlsStart = r.next(), tlsEnd = r.next(), reused = r.next();
    if (dnsStart !== null) server.timestampDnsStart = dnsStart as number;
    if (dnsEnd !== null) server.timestampDnsEnd = dnsEnd as number;
    if (tcpStart !== null) server.timestampTcpStart = tcpStart as number;
    if (tcpEnd !== null) server.timestampTcpEnd = tcpEnd as number;
    if (tlsStart !== null) server.timestampTlsStart = tlsStart as number;
    if (tlsEnd !== null) server.timestampTlsEnd = tlsEnd as number;
    if (reused !== null) server.reused = reused === 1;
    flow.server = server;
  }
  if (flags & ERROR) {
    flow.error = { message: r.next() as string, timestamp: r.next() as number };
  }
  return flow;
}

function tlsFrom(v: SqlValue): TlsInfo | null {
  return v === null ? null : JSON.parse(v as string) as TlsInfo;
}

function readMessage<M extends Message>(
  r: PacketReader,
  make: (httpVersion: string, headers: HeaderList, timestampStart: number) => M,
): M {
  const httpVersion = r.next() as string;
  const timestampStart = r.next() as number;
  const timestampEnd = r.next() as number | null;
  const bodySize = r.next() as number;
  const body = r.next() as Uint8Array | null;
  const m = make(httpVersion, readFields(r)!, timestampStart);
  m.timestampEnd = timestampEnd;
  m.bodySize = bodySize;
  m.body = body;
  m.trailers = readFields(r);
  return m;
}

function readFields(r: PacketReader): HeaderList | null {
  const n = r.next();
  if (n === null) return null;
  const raw: string[] = new Array(n as number);
  for (let i = 0; i < raw.length; i++) raw[i] = r.next() as string;
  return new HeaderList(raw);
}
