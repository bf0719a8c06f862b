/**
 * Version-neutral request and response heads: what an HTTP/1 request line plus Host, or an
 * HTTP/2 HEADERS frame with :method/:scheme/:authority/:path, both mean. The proxy's HTTP stream
 * logic works on these; each connection layer converts its wire form to and from them.
 */
import type { HeaderList } from "./headers.ts";

export type Scheme = "http" | "https";

export interface HttpRequestHead {
  method: string;
  scheme: Scheme;
  /** Lowercase host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** Path and query ("/a?b=1"), "*" for OPTIONS *, or "" for CONNECT (authority-form). */
  path: string;
  /** "HTTP/1.1", "HTTP/1.0", "HTTP/2". */
  version: string;
  /** The fields as received (no pseudo-headers, hop-by-hop fields included). */
  headers: HeaderList;
  /** How the target was written on the wire, so it can be written back the same way. */
  form: "origin" | "absolute" | "authority" | "asterisk";
}

export interface HttpResponseHead {
  status: number;
  /** Reason phrase (HTTP/1 only; "" for HTTP/2). */
  reason: string;
  version: string;
  headers: HeaderList;
}

/** The scheme's default port. */
export function defaultPort(scheme: Scheme): number {
  return scheme === "https" ? 443 : 80;
}

/** host[:port] with IPv6 bracketed and a default port left out. */
export function authorityOf(host: string, port: number, scheme?: Scheme): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return scheme !== undefined && port === defaultPort(scheme) ? h : `${h}:${port}`;
}

/** The full URL of a request (for logs and flows). */
export function urlOf(head: HttpRequestHead): string {
  if (head.form === "authority") return authorityOf(head.host, head.port);
  const path = head.path === "*" ? "" : head.path;
  return `${head.scheme}://${authorityOf(head.host, head.port, head.scheme)}${path}`;
}
