/**
 * The stream layer's translations between the wire-neutral heads and the flow model that addons,
 * filters and recordings see, and the error responses the proxy writes itself.
 */
import type { ServerInfo } from "../../../addons/types.ts";
import {
  Flow,
  FlowRequest,
  type FlowResponse,
  type ServerPeer,
  type TlsInfo,
} from "../../../flow/flow.ts";
import type { HeaderList as Headers } from "../../../http/headers.ts";
import { HeaderList } from "../../../http/headers.ts";
import type { HttpRequestHead, HttpResponseHead } from "../../../http/message.ts";
import { dropHopByHop } from "../../../http/hop_by_hop.ts";
import { reasonPhrase } from "../../../http/responses.ts";
import { constantTimeEqual } from "../proxy_auth.ts";
import type { Client, Server, TlsState } from "../../core/connection.ts";
import type { HttpMode } from "./mode.ts";

/** A new flow for a request head from `client`. */
export function newFlow(head: HttpRequestHead, client: Client, now: number): Flow {
  const request = new FlowRequest({
    method: head.method,
    scheme: head.scheme,
    host: head.host,
    port: head.port,
    path: head.path,
    httpVersion: head.version,
    headers: head.headers,
    timestampStart: now,
  });
  return new Flow(
    { address: client.peer.host, port: client.peer.port, tls: flowTls(client.tls) },
    request,
  );
}

/**
 * The server side of a flow. Connect and TLS times belong to the flow that opened the
 * connection; a reused connection's flows say `reused` instead.
 */
export function serverPeer(s: Server, fresh: boolean): ServerPeer {
  const peer: ServerPeer = {
    address: s.address.host,
    port: s.address.port,
    tls: flowTls(s.tls),
    reused: !fresh,
  };
  if (fresh) {
    if (s.timestampDnsStart !== null && s.timestampDnsEnd !== null) {
      peer.timestampDnsStart = s.timestampDnsStart;
      peer.timestampDnsEnd = s.timestampDnsEnd;
    }
    peer.timestampTcpStart = s.timestampTcpStart ?? undefined;
    peer.timestampTcpEnd = s.timestampTcpEnd ?? undefined;
    peer.timestampTlsStart = s.timestampTlsStart ?? undefined;
    peer.timestampTlsEnd = s.timestampTlsEnd ?? undefined;
  }
  return peer;
}

/** An origin connection as the server_connected hook sees it. */
export function serverInfo(s: Server): ServerInfo {
  return {
    address: s.address.host,
    port: s.address.port,
    tls: flowTls(s.tls),
    timestampStart: s.timestampDnsStart ?? s.timestampTcpStart ?? s.timestampStart ?? 0,
  };
}

/** The head to send to the origin for a flow's request: hop-by-hop fields dropped. */
export function requestHeadOf(r: FlowRequest): HttpRequestHead {
  const headers = r.headers.clone();
  dropHopByHop(headers, true);
  return {
    method: r.method,
    scheme: r.scheme,
    host: r.host,
    port: r.port,
    path: r.path,
    version: r.httpVersion,
    headers,
    form: "origin",
  };
}

const utf8 = new TextEncoder();

/** A plain-text error response (one line saying what happened), closing the connection. */
export function errorResponse(
  status: number,
  message: string,
  extra: string[] = [],
  close = true,
): { head: HttpResponseHead; body: Uint8Array } {
  const body = utf8.encode(`${message}\n`);
  const headers = new HeaderList([
    ...extra,
    "Content-Type",
    "text/plain; charset=utf-8",
    "Content-Length",
    String(body.length),
    ...(close ? ["Connection", "close"] : []),
  ]);
  return { head: { status, reason: reasonPhrase(status), version: "HTTP/1.1", headers }, body };
}

/** The flow's TLS summary of a connection (null when it does not speak TLS). */
export function flowTls(tls: TlsState | null): TlsInfo | null {
  if (!tls || !tls.established) return null;
  const info: TlsInfo = { sni: tls.sni, alpn: tls.alpn, version: tls.version };
  // Origin side only: the chain array is the connection's, shared by its flows.
  if (tls.cipher !== undefined) info.cipher = tls.cipher;
  if (tls.certificates !== undefined) info.certificates = tls.certificates;
  return info;
}

/**
 * Whether a body is held whole for the hooks that may change it: when such hooks exist (`hold`),
 * the message was not marked `stream` in a *headers hook, and its declared length is within
 * stream_large_bodies (longer bodies stream, and the hook sees none).
 */
export function holdsBody(
  hold: boolean,
  message: { stream: boolean; headers: Headers },
  limit: number,
): boolean {
  const length = Number(message.headers.get("content-length") ?? "0");
  return hold && !message.stream && !(length > limit);
}

/** A text/event-stream response (server-sent events): a stream that may never end. */
export function isEventStream(message: { headers: Headers }): boolean {
  const type = message.headers.get("content-type") ?? "";
  return type.split(";")[0].trim().toLowerCase() === "text/event-stream";
}

/**
 * A message whose body is a conversation rather than a document: server-sent events, and gRPC,
 * whose streaming calls send messages both ways while the call lasts (a bidirectional call
 * waits for answers before it sends more). Held for a hook it would stall or arrive only at its
 * end, so it streams, and the hook sees the body once it has ended.
 */
export function isConversation(message: { headers: Headers }): boolean {
  if (isEventStream(message)) return true;
  const type = (message.headers.get("content-type") ?? "").toLowerCase();
  return type === "application/grpc" || type.startsWith("application/grpc+") ||
    type.startsWith("application/grpc;");
}

/**
 * A held request goes on with the Content-Length of the body really sent (so the flow records
 * the framing that went on the wire); an unchanged empty chunked body keeps its framing.
 */
export function frameHeldRequest(request: FlowRequest): void {
  if (request.bodyChanged || request.headers.has("content-length") || request.body?.length) {
    request.headers.delete("transfer-encoding");
    request.headers.set("Content-Length", String(request.body?.length ?? 0));
  }
}

/** The same for a held (or hook-made) response; returns the body to send. */
export function frameHeldResponse(response: FlowResponse, requestMethod: string): Uint8Array {
  const body = response.body ?? new Uint8Array(0);
  if (response.bodyChanged || !response.headers.has("transfer-encoding")) {
    response.headers.delete("transfer-encoding");
    const bodyless = requestMethod === "HEAD" || response.status === 204 ||
      response.status === 304;
    if (!bodyless) response.headers.set("Content-Length", String(body.length));
  }
  return body;
}

export const AUTH_REQUIRED = "mitm.ts: proxy authentication required; send the proxyauth user " +
  "and password (curl -U user:pass, or http://user:pass@host:port as the proxy URL).";

/**
 * Requests addressed to a forward proxy (absolute-form, CONNECT) need the proxyauth credentials
 * when they are set; requests inside a tunnel were authorized with its CONNECT.
 */
export function proxyAuthorized(
  head: HttpRequestHead,
  mode: HttpMode,
  expected: string | null,
): boolean {
  if (expected === null || (mode.kind !== "regular" && mode.kind !== "upstream")) return true;
  if (head.form !== "authority" && head.form !== "absolute") return true;
  return constantTimeEqual(head.headers.get("proxy-authorization") ?? "", expected);
}
