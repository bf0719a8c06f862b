/**
 * Flows for the filter tests, built straight from the model classes (no proxy involved).
 */
import { encodeContent } from "../../src/flow/encoding.ts";
import { Flow, FlowRequest, FlowResponse, type ServerPeer } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { parseFilter } from "../../src/filter/mod.ts";

type Headers = Array<[string, string]>;

export interface MessageInit {
  headers?: Headers;
  /** Text (UTF-8) or bytes; null or absent: the body was not kept. */
  body?: string | Uint8Array | null;
  /** Adds a Content-Encoding header and encodes the body with it. */
  encoding?: string;
}

export interface ResponseInit extends MessageInit {
  status?: number;
  reason?: string;
}

export interface FlowInit {
  method?: string;
  scheme?: "http" | "https";
  host?: string;
  port?: number;
  path?: string;
  request?: MessageInit;
  /** A response; absent or null: none yet. */
  response?: ResponseInit | null;
  error?: string;
  marked?: boolean;
  metadata?: Record<string, unknown>;
  client?: { address: string; port: number };
  server?: { address: string; port: number } | null;
}

const utf8 = new TextEncoder();

function body(init: MessageInit, headers: HeaderList): Uint8Array | null {
  if (init.body === undefined || init.body === null) return null;
  const bytes = typeof init.body === "string" ? utf8.encode(init.body) : init.body;
  if (init.encoding === undefined) return bytes;
  headers.append("Content-Encoding", init.encoding);
  return encodeContent(bytes, init.encoding);
}

export function makeFlow(init: FlowInit = {}): Flow {
  const scheme = init.scheme ?? "http";
  const reqHeaders = HeaderList.from(
    init.request?.headers ?? [["Host", init.host ?? "example.com"]],
  );
  const request = new FlowRequest({
    method: init.method ?? "GET",
    scheme,
    host: init.host ?? "example.com",
    port: init.port ?? (scheme === "https" ? 443 : 80),
    path: init.path ?? "/",
    httpVersion: "HTTP/1.1",
    headers: reqHeaders,
    timestampStart: 1_700_000_000_000,
  });
  request.body = body(init.request ?? {}, reqHeaders);
  const client = init.client ?? { address: "127.0.0.1", port: 50000 };
  const flow = new Flow({ ...client, tls: null }, request, "01TESTFLOW0000000000000000");
  if (init.server) flow.server = { ...init.server, tls: null } satisfies ServerPeer;
  if (init.response) {
    const r = init.response;
    const resHeaders = HeaderList.from(r.headers ?? []);
    const response = new FlowResponse({
      status: r.status ?? 200,
      reason: r.reason ?? "OK",
      httpVersion: "HTTP/1.1",
      headers: resHeaders,
      timestampStart: 1_700_000_000_100,
    });
    response.body = body(r, resHeaders);
    flow.response = response;
  }
  if (init.error !== undefined) flow.error = { message: init.error, timestamp: 1_700_000_000_200 };
  if (init.marked) flow.marked = true;
  if (init.metadata) flow.metadata = init.metadata;
  return flow;
}

/** Whether the expression matches the flow. */
export function matches(expr: string, flow: Flow): boolean {
  return parseFilter(expr)(flow);
}

/** Bytes of a string, one byte per char ("\xff" is the byte 0xff). */
export function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
