/** Responses the proxy writes itself: errors and the "this is a proxy" page. */
import { HeaderList, serializeResponseHead } from "../http1/mod.ts";

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  444: "No Response",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The standard reason phrase for `status`, or `fallback` for a code without one. */
export function reasonPhrase(status: number, fallback = "Unknown"): string {
  return REASONS[status] ?? fallback;
}

const utf8 = new TextEncoder();

/**
 * A complete plain-text response. `close` adds "Connection: close" for a response after which the
 * proxy closes the connection; `extra` holds more header fields as name, value, name, value...
 */
export function textResponse(
  status: number,
  text: string,
  close: boolean,
  extra: string[] = [],
): Uint8Array {
  const body = utf8.encode(text.endsWith("\n") ? text : text + "\n");
  const headers = new HeaderList([
    ...extra,
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

/** One line for the client: what failed and what to do about it. */
export function originFailureText(authority: string, why: string): string {
  const hint = /certificate verify failed/.test(why)
    ? "Use -k (--ssl-insecure) to skip the check, or --set ssl_verify_upstream_trusted_ca=FILE."
    : "Check the host name and that the server is up.";
  return `mitm.ts could not connect to ${authority}: ${why}. ${hint}`;
}
