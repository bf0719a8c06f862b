/**
 * HTTP/2 header lists to the version-neutral heads and back, as mitmproxy maps them: :method,
 * :scheme, :authority and :path become method, scheme, host/port and path; httpVersion is
 * "HTTP/2.0"; connection-specific fields (RFC 9113 section 8.2.2) never reach an HTTP/2 peer.
 */
import type { EncoderField } from "../../../http2/hpack/encoder.ts";
import type { HeaderField, RequestPseudo } from "../../../http2/fields.ts";
import { HttpError } from "../../../http1/errors.ts";
import { parseAuthority } from "../../../http1/target.ts";
import { HeaderList } from "../../../http/headers.ts";
import {
  authorityOf,
  defaultPort,
  type HttpRequestHead,
  type HttpResponseHead,
  type Scheme,
} from "../../../http/message.ts";

export const H2_VERSION = "HTTP/2.0";

/** Fields HTTP/2 forbids (RFC 9113 section 8.2.2); "te" is allowed only as "trailers". */
const CONNECTION_SPECIFIC = new Set([
  "connection",
  "proxy-connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/**
 * Reads a request from an HTTP/2 client. `scheme` is the connection's (https inside TLS);
 * a request without :authority falls back to Host, then to `fallback` (the tunnel's server).
 * A body without content-length is marked chunked, so that an HTTP/1.1 origin can frame it.
 * Throws HttpError(400) on an authority that cannot be parsed.
 */
export function requestFromH2(
  pseudo: RequestPseudo,
  fields: readonly HeaderField[],
  endStream: boolean,
  scheme: Scheme,
  fallback: { host: string; port: number } | null,
): HttpRequestHead {
  const headers = new HeaderList();
  const cookies: string[] = [];
  for (const [name, value] of fields) {
    // RFC 9113 section 8.2.3: split cookie fields are joined with "; " for HTTP/1.1.
    if (name === "cookie") cookies.push(value);
    else headers.append(name, value);
  }
  if (cookies.length > 0) headers.append("cookie", cookies.join("; "));
  const s: Scheme = pseudo.scheme === "http" || pseudo.scheme === "https" ? pseudo.scheme : scheme;
  const authority = pseudo.authority ?? headers.get("host");
  let host = fallback?.host ?? "";
  let port = fallback?.port ?? 0;
  if (authority !== undefined && authority !== "") {
    const a = parseAuthority(authority, defaultPort(s), ":authority needs a port");
    host = a.host;
    port = a.port;
  }
  if (pseudo.method === "CONNECT" && pseudo.protocol === undefined) {
    // A tunnel (RFC 9113 section 8.5): its DATA are not a message body.
    return {
      method: "CONNECT",
      scheme: s,
      host,
      port,
      path: "",
      version: H2_VERSION,
      headers,
      form: "authority",
    };
  }
  if (!endStream && !headers.has("content-length")) headers.append("transfer-encoding", "chunked");
  const path = pseudo.path ?? "/";
  if (path !== "*" && !path.startsWith("/")) throw new HttpError(400, `:path must start with /`);
  return {
    method: pseudo.method,
    scheme: s,
    host,
    port,
    path,
    version: H2_VERSION,
    headers,
    form: path === "*" ? "asterisk" : "origin",
  };
}

/** Header fields for an HTTP/2 origin: pseudo-header fields first, nothing connection-specific. */
export function requestToH2(head: HttpRequestHead): EncoderField[] {
  // Host names the virtual host (it may differ from where the request goes: transparent mode).
  const authority = head.headers.get("host") ?? authorityOf(head.host, head.port, head.scheme);
  const out: EncoderField[] = [[":method", head.method]];
  if (head.method === "CONNECT") {
    out.push([":authority", authorityOf(head.host, head.port)]);
  } else {
    out.push([":scheme", head.scheme], [":authority", authority]);
    out.push([":path", head.path === "" ? "/" : head.path]);
  }
  pushRegular(out, head.headers);
  return out;
}

export function responseFromH2(status: number, fields: readonly HeaderField[]): HttpResponseHead {
  const headers = new HeaderList();
  for (const [name, value] of fields) headers.append(name, value);
  return { status, reason: "", version: H2_VERSION, headers };
}

export function responseToH2(head: HttpResponseHead): EncoderField[] {
  const out: EncoderField[] = [[":status", String(head.status)]];
  pushRegular(out, head.headers);
  return out;
}

/** Trailer fields (no pseudo-header fields), or null when there are none to send. */
export function trailersToH2(trailers: HeaderList | null): EncoderField[] | null {
  if (trailers === null || trailers.size === 0) return null;
  const out: EncoderField[] = [];
  pushRegular(out, trailers);
  return out.length > 0 ? out : null;
}

export function trailersFromH2(fields: readonly HeaderField[]): HeaderList {
  const list = new HeaderList();
  for (const [name, value] of fields) list.append(name, value);
  return list;
}

function pushRegular(out: EncoderField[], headers: HeaderList): void {
  const listed = new Set<string>();
  for (const v of headers.getAll("connection")) {
    for (const t of v.split(",")) listed.add(t.trim().toLowerCase());
  }
  const raw = headers.raw;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (CONNECTION_SPECIFIC.has(name) || listed.has(name)) continue;
    if (name === "te" && value.trim().toLowerCase() !== "trailers") continue;
    out.push([name, value]);
  }
}
