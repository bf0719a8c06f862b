/**
 * Copy as a raw HTTP/1.1 request: the bytes to send on a connection to the origin. The target is
 * origin-form; Host comes first (HTTP/2 requests have none, RFC 9113 section 8.3.1); the body
 * is the kept bytes with a Content-Length for them (a chunked original is sent whole).
 */
import type { FlowRequest } from "../flow/flow.ts";
import { sameName } from "../http/headers.ts";
import { requestParts } from "./request_parts.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

export function toRawHttp(request: FlowRequest): Uint8Array {
  const { method, headers, body } = requestParts(request);
  const host = headers.find(([name]) => sameName(name, "host"))?.[1] ?? request.authority;
  const lines = [`${method} ${request.path} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of headers) if (!sameName(name, "host")) lines.push(`${name}: ${value}`);
  if (body !== null || !["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"].includes(method)) {
    lines.push(`Content-Length: ${body?.length ?? 0}`);
  }
  const head = latin1(lines.join("\r\n") + "\r\n\r\n");
  if (body === null) return head;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
