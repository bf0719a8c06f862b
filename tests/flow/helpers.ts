/**
 * Test helpers for the flow format: sample flows and temp dirs. No npm packages here: the kill -9
 * child process loads this file.
 */
import zlib from "node:zlib";
import { HeaderList } from "../../src/http/headers.ts";
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { withTempDir as withTempDirOf } from "../fixtures/temp_dir.ts";

export const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

/** Bytes 0..255: not UTF-8. */
export const BINARY = Uint8Array.from({ length: 256 }, (_, i) => i);

/** A flow with everything set: TLS on both sides, odd header case and order, trailers, cookies. */
export function richFlow(): Flow {
  const request = new FlowRequest({
    method: "POST",
    scheme: "https",
    host: "example.com",
    port: 443,
    path: "/api/items?q=hello%20world&x=1&x=2&plus=a+b",
    httpVersion: "HTTP/1.1",
    headers: new HeaderList([
      "Host",
      "example.com",
      "X-Custom-CASE",
      "first",
      "Cookie",
      "session=abc123; theme=dark",
      "x-custom-case",
      "second",
      "Content-Type",
      "application/json; charset=utf-8",
      "Transfer-Encoding",
      "chunked",
    ]),
    timestampStart: T0,
  });
  request.body = new TextEncoder().encode('{"name":"caf\u00e9 \u2603","n":1}');
  request.bodySize = request.body.length;
  request.trailers = new HeaderList(["X-Checksum", "abc", "x-checksum", "def"]);
  request.timestampEnd = T0 + 5;

  const flow = new Flow(
    {
      address: "127.0.0.1",
      port: 51234,
      tls: { sni: "example.com", alpn: "http/1.1", version: "TLSv1.3" },
    },
    request,
  );
  flow.server = {
    address: "93.184.216.34",
    port: 443,
    tls: { sni: "example.com", alpn: "http/1.1", version: "TLSv1.3" },
    timestampTcpStart: T0 + 6,
    timestampTcpEnd: T0 + 16,
    timestampTlsStart: T0 + 16,
    timestampTlsEnd: T0 + 36,
  };
  const body = zlib.gzipSync(new TextEncoder().encode("<html>hello \u00fcber</html>"));
  const response = new FlowResponse({
    status: 200,
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: new HeaderList([
      "Content-Type",
      "text/html; charset=utf-8",
      "Content-Encoding",
      "gzip",
      "Set-Cookie",
      "sid=xyz; Path=/; Domain=example.com; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly; Secure",
      "set-cookie",
      "pref=1; Max-Age=3600",
      "Content-Length",
      String(body.length),
    ]),
    timestampStart: T0 + 100,
  });
  response.body = new Uint8Array(body);
  response.bodySize = body.length;
  response.timestampEnd = T0 + 120;
  flow.response = response;
  flow.marked = true;
  flow.metadata = { note: "hi", nested: { list: [1, "two", null, true] } };
  return flow;
}

/** A GET to http://host/path with a response body of `body`. */
export function simpleFlow(
  body: Uint8Array | string = "ok",
  init: { path?: string; status?: number; contentType?: string } = {},
): Flow {
  const request = new FlowRequest({
    method: "GET",
    scheme: "http",
    host: "127.0.0.1",
    port: 8000,
    path: init.path ?? "/",
    httpVersion: "HTTP/1.1",
    headers: new HeaderList(["Host", "127.0.0.1:8000"]),
    timestampStart: T0,
  });
  request.body = new Uint8Array(0);
  request.timestampEnd = T0 + 1;
  const flow = new Flow({ address: "127.0.0.1", port: 40000, tls: null }, request);
  const response = new FlowResponse({
    status: init.status ?? 200,
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: new HeaderList(["Content-Type", init.contentType ?? "text/plain"]),
    timestampStart: T0 + 2,
  });
  response.body = typeof body === "string" ? new TextEncoder().encode(body) : body;
  response.bodySize = response.body.length;
  response.timestampEnd = T0 + 3;
  flow.response = response;
  flow.server = { address: "127.0.0.1", port: 8000, tls: null };
  return flow;
}

/** A flow whose origin refused the connection: an error and no response. */
export function errorFlow(): Flow {
  const flow = simpleFlow();
  flow.response = null;
  flow.server = null;
  flow.error = { message: "connection refused", timestamp: T0 + 50 };
  return flow;
}

/** Runs fn with a fresh temporary directory, removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  return withTempDirOf(fn, "mitm-flow-");
}
