/** Responses the proxy writes itself: errors and the "this is a proxy" page. */
import { HeaderList, serializeResponseHead } from "../http1/mod.ts";

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  408: "Request Timeout",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Unknown";
}

const utf8 = new TextEncoder();

/**
 * A complete plain-text response. `close` adds "Connection: close" for a response after which the
 * proxy closes the connection.
 */
export function textResponse(status: number, text: string, close: boolean): Uint8Array {
  const body = utf8.encode(text.endsWith("\n") ? text : text + "\n");
  const headers = new HeaderList([
    "Content-Type",
    "text/plain; charset=utf-8",
    "Content-Length",
    String(body.length),
  ]);
  if (close) headers.append("Connection", "close");
  const head = serializeResponseHead({
    version: "HTTP/1.1",
    status,
    reason: reasonPhrase(status),
    headers,
  });
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** The page for a request sent to the proxy as if it were a web server. */
export function notAProxyRequestText(proxyUrl: string): string {
  return [
    "This is mitm.ts, an HTTP proxy, not a web server.",
    "",
    "Send requests through it instead of to it, for example:",
    `  curl -x ${proxyUrl} http://example.com/`,
    `  export HTTP_PROXY=${proxyUrl} HTTPS_PROXY=${proxyUrl}`,
    "or set it as the HTTP proxy in your browser or system settings.",
  ].join("\n");
}
