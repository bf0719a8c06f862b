/** What the web UI reads from the control API (docs/api.md), typed for the UI's code. */
import type { FlowSummary } from "../api/summary.ts";

/** A list summary; newer proxies add fields, so the extra ones are optional. */
export type Summary = FlowSummary & { comment?: string };

export interface Stats {
  count: number;
  dropped: number;
  bytes?: number;
  paused: number;
  intercept: string;
}

/** GET /api/flows; `total`, `more` and `cursor` come with the paged store. */
export interface FlowPage extends Stats {
  flows: Summary[];
  total?: number;
  more?: boolean;
  cursor?: string | null;
}

export interface FlowsEvent {
  upsert: Summary[];
  remove: string[];
  clear: boolean;
  stats: Stats;
}

export interface TlsInfo {
  sni: string | null;
  alpn: string | null;
  version: string | null;
  /** Origin side: the cipher suite and the certificate chain, leaf first. */
  cipher?: string | null;
  certificates?: CertificateInfo[];
}

export interface CertificateInfo {
  subject: string;
  issuer: string;
  notBefore: string | null;
  notAfter: string | null;
  /** SHA-256 of the DER encoding, lowercase hex. */
  sha256: string;
  altNames: string[];
}

export interface Peer {
  address: string;
  port: number;
  tls: TlsInfo | null;
  timestampDnsStart?: number | null;
  timestampDnsEnd?: number | null;
  timestampTcpStart?: number | null;
  timestampTcpEnd?: number | null;
  timestampTlsStart?: number | null;
  timestampTlsEnd?: number | null;
  reused?: boolean;
}

export type Headers = [string, string][];

export interface Message {
  httpVersion: string;
  headers: Headers;
  bodySize: number;
  streamed: boolean;
  truncated: boolean;
  timestampStart: number;
  timestampEnd: number | null;
}

export interface DetailRequest extends Message {
  method: string;
  scheme: string;
  host: string;
  port: number;
  path: string;
  url: string;
}

export interface DetailResponse extends Message {
  status: number;
  reason: string;
}

export interface WsMessage {
  fromClient: boolean;
  type: string;
  content: { text: string } | { base64: string } | null;
  size: number;
  timestamp: number;
}

/** GET /api/flows/:id: the recording format plus where it is paused. */
export interface FlowDetail {
  id: string;
  client: Peer;
  server: Peer | null;
  request: DetailRequest;
  response: DetailResponse | null;
  error: { message: string; timestamp: number } | null;
  marked: boolean;
  comment?: string;
  isReplay: boolean;
  intercepted: "request" | "response" | null;
  websocket?: {
    messages: WsMessage[];
    closeCode: number | null;
    closeReason: string | null;
    timestampEnd: number | null;
  };
}
