/**
 * HTTP/1 heads to the version-neutral ones and back: where the request-target, Host and the
 * framing fields of HTTP/1 meet the model the stream layer works on.
 */
import { HttpError } from "../../../http1/errors.ts";
import { canonicalizeFraming, responseFraming } from "../../../http1/framing.ts";
import type { RequestHead, ResponseHead } from "../../../http1/head.ts";
import { parseAuthority, parseTarget } from "../../../http1/target.ts";
import {
  authorityOf,
  defaultPort,
  type HttpRequestHead,
  type HttpResponseHead,
  type Scheme,
} from "../../../http/message.ts";
import { reasonPhrase } from "../../../http/responses.ts";
import type { Endpoint } from "../../core/connection.ts";

/**
 * Reads a request from a client. `scheme` is "https" inside TLS; `fallback` is where requests
 * without a host go (the server a mode or a CONNECT chose). Throws HttpError(400) on a bad target.
 */
export function requestFromH1(
  head: RequestHead,
  scheme: Scheme,
  fallback: Endpoint | null,
): HttpRequestHead {
  const t = parseTarget(head.method, head.target);
  const base = { method: head.method, version: head.version, headers: head.headers };
  switch (t.form) {
    case "absolute": {
      if (t.scheme !== "http" && t.scheme !== "https") {
        throw new HttpError(501, `${t.scheme}:// URLs cannot be proxied; use http:// or https://`);
      }
      return { ...base, scheme: t.scheme, host: t.host, port: t.port, path: t.path, form: t.form };
    }
    case "authority":
      return { ...base, scheme, host: t.host, port: t.port, path: "", form: t.form };
    default: {
      const path = t.form === "origin" ? t.path : "*";
      const host = head.headers.get("host");
      if (host !== undefined && host !== "") {
        const a = parseAuthority(host, defaultPort(scheme), "Host header needs a port");
        return { ...base, scheme, host: a.host, port: a.port, path, form: t.form };
      }
      if (head.version !== "HTTP/1.0" && host === undefined) {
        // RFC 9112 section 3.2: "A server MUST respond with a 400 (Bad Request) status code to
        // any HTTP/1.1 request message that lacks a Host header field".
        throw new HttpError(400, "HTTP/1.1 request has no Host header");
      }
      const host0 = fallback?.host ?? "";
      const port0 = fallback?.port ?? 0;
      return { ...base, scheme, host: host0, port: port0, path, form: t.form };
    }
  }
}

/**
 * Writes a request for an origin: origin-form, or absolute-form for a plain-HTTP upstream proxy.
 * A request without Host gets one (RFC 9112 section 3.2: a client MUST send Host). HTTP/1.0
 * stays HTTP/1.0 (a deliberate downgrade: the origin must not answer with chunked framing or
 * keep-alive the client would not understand); anything else goes as HTTP/1.1.
 */
export function requestToH1(head: HttpRequestHead, absolute: boolean): RequestHead {
  const headers = head.headers.clone();
  canonicalizeFraming(headers); // "0005" goes on as "5", ",chunked" as "chunked"
  const authority = authorityOf(head.host, head.port, head.scheme);
  if (!headers.has("host")) headers.raw.splice(0, 0, "Host", authority);
  let target: string;
  if (head.form === "authority" || head.method === "CONNECT") {
    target = authorityOf(head.host, head.port);
  } else if (absolute) {
    target = `${head.scheme}://${authority}${head.path === "*" ? "" : head.path}`;
  } else {
    target = head.path === "" ? "/" : head.path;
  }
  const version = head.version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1";
  return { method: head.method, target, version, headers };
}

export function responseFromH1(head: ResponseHead): HttpResponseHead {
  return { status: head.status, reason: head.reason, version: head.version, headers: head.headers };
}

/**
 * Writes a response for a client. A message without declared length (from HTTP/2, or a body an
 * addon rebuilt) is chunked for an HTTP/1.1 client; an HTTP/1.0 client, or a response that is
 * itself HTTP/1.0, gets it close-delimited. The version is the origin's (HTTP/1.0 stays, others
 * become HTTP/1.1: RFC 9110 section 2.5, a server sends its own version whatever the client's).
 * A body that runs until the origin closes (a Transfer-Encoding not ending in chunked) also ends
 * the client's connection, and says so.
 */
export function responseToH1(
  head: HttpResponseHead,
  requestMethod: string,
  clientVersion: string,
): { head: ResponseHead; closeAfter: boolean } {
  const headers = head.headers.clone();
  canonicalizeFraming(headers); // "0005" goes on as "5", ",chunked" as "chunked"
  const version = head.version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1";
  const noChunked = clientVersion === "HTTP/1.0" || version === "HTTP/1.0";
  let closeAfter = false;
  const bodyless = requestMethod === "HEAD" || head.status < 200 || head.status === 204 ||
    head.status === 304 || (requestMethod === "CONNECT" && head.status < 300);
  // An HTTP/1.0 client's connection ends after each response, keep-alive or not (as mitmproxy
  // does: persistent HTTP/1.0 connections are rare and error-prone).
  if (clientVersion === "HTTP/1.0") closeAfter = true;
  if (!bodyless && !headers.has("content-length") && !headers.has("transfer-encoding")) {
    // An HTTP/1 origin's close-delimited body stays close-delimited (the client's connection
    // ends with it, RFC 9112 section 6.3); only an HTTP/2 or HTTP/3 response, which has no
    // such framing, is chunked for a client that can read chunks.
    if (noChunked || head.version.startsWith("HTTP/1")) closeAfter = true;
    else headers.append("Transfer-Encoding", "chunked");
  }
  if (noChunked && headers.has("transfer-encoding")) {
    // An HTTP/1.0 client cannot read chunked framing: the layer strips it and closes at the end.
    headers.delete("transfer-encoding");
    closeAfter = true;
  }
  const reason = head.reason !== "" ? head.reason : reasonPhrase(head.status, "");
  const out = { version, status: head.status, reason, headers };
  if (!closeAfter && !bodyless && closeDelimited(out, requestMethod)) closeAfter = true;
  if (closeAfter) headers.set("Connection", "close");
  return { head: out, closeAfter };
}

/** Whether the body of `head` runs until the connection closes (RFC 9112 section 6.3). */
function closeDelimited(head: ResponseHead, requestMethod: string): boolean {
  try {
    return responseFraming(head, requestMethod).kind === "close";
  } catch {
    return false; // framing only an addon could have set: H1Connection refuses it when sent
  }
}
