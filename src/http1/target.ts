/**
 * The four forms of request-target (RFC 9112 section 3.2), parsed strictly enough that the proxy
 * and the origin cannot disagree about where a request goes.
 */
import { HttpError } from "./errors.ts";

export type Target =
  | { form: "origin"; path: string }
  | {
    form: "absolute";
    /** Lowercase scheme, e.g. "http". */
    scheme: string;
    /** Lowercase host name or IP address, IPv6 without brackets. */
    host: string;
    port: number;
    /** Path and query in origin-form; "/" when the target had no path. */
    path: string;
  }
  | { form: "authority"; host: string; port: number }
  | { form: "asterisk" };

const DEFAULT_PORTS: ReadonlyMap<string, number> = new Map([
  ["http", 80],
  ["https", 443],
  ["ws", 80],
  ["wss", 443],
]);

/** Interprets a request-target; throws HttpError(400) when it is malformed. */
export function parseTarget(method: string, target: string): Target {
  if (method === "CONNECT") {
    const { host, port } = parseAuthority(target, undefined);
    return { form: "authority", host, port };
  }
  if (target.charCodeAt(0) === 0x2f) {
    if (target.includes("#")) throw new HttpError(400, "request-target contains a fragment (#)");
    return { form: "origin", path: target };
  }
  if (target === "*") {
    if (method !== "OPTIONS") throw new HttpError(400, "asterisk-form is only valid for OPTIONS");
    return { form: "asterisk" };
  }
  const sep = target.indexOf("://");
  if (sep <= 0) throw new HttpError(400, "request-target is not a path, URL or host:port");
  const given = target.slice(0, sep);
  const scheme = given === "http" || given === "https" ? given : given.toLowerCase();
  if (scheme !== "http" && scheme !== "https" && !/^[a-z][a-z0-9+.-]*$/.test(scheme)) {
    throw new HttpError(400, "URL scheme is invalid");
  }
  const rest = target.slice(sep + 3);
  let authorityEnd = rest.length;
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) {
      authorityEnd = i;
      break;
    }
  }
  const authority = rest.slice(0, authorityEnd);
  let path = rest.slice(authorityEnd);
  if (path.includes("#")) throw new HttpError(400, "request-target contains a fragment (#)");
  if (path === "") path = "/";
  else if (path.charCodeAt(0) === 0x3f) path = "/" + path;
  let parsed = lastAuthority;
  if (parsed === null || parsed.authority !== authority || parsed.scheme !== scheme) {
    const { host, port } = parseAuthority(
      authority,
      DEFAULT_PORTS.get(scheme),
      `${scheme}: URL needs a port (the scheme has no default one)`,
    );
    parsed = lastAuthority = { scheme, authority, host, port };
  }
  return { form: "absolute", scheme, host: parsed.host, port: parsed.port, path };
}

/**
 * The last absolute-form authority parsed: a proxy's clients ask the same origin again and again,
 * and a string comparison is cheaper than the checks (only a valid one is kept).
 */
let lastAuthority: { scheme: string; authority: string; host: string; port: number } | null = null;

/**
 * Parses host[:port]. Userinfo is refused: it never belongs in a request-target and is a classic
 * way to make two parsers see different hosts. `noPortMessage` is the error when there is neither
 * a port nor a default one.
 */
export function parseAuthority(
  authority: string,
  defaultPort: number | undefined,
  noPortMessage = "CONNECT target needs host:port",
): { host: string; port: number } {
  if (authority.includes("@")) {
    throw new HttpError(400, "request-target contains userinfo (user@host), which is not allowed");
  }
  let host: string;
  let portText: string | undefined;
  if (authority.charCodeAt(0) === 0x5b) {
    const close = authority.indexOf("]");
    if (close < 0) throw new HttpError(400, "IPv6 address in request-target lacks ']'");
    host = authority.slice(1, close);
    if (!/^[0-9a-fA-F:.]+$/.test(host) || !host.includes(":")) {
      throw new HttpError(400, "IPv6 address in request-target is invalid");
    }
    const after = authority.slice(close + 1);
    if (after !== "") {
      if (after.charCodeAt(0) !== 0x3a) throw new HttpError(400, "junk after IPv6 address");
      portText = after.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(":");
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
    // reg-name / IPv4: unreserved, pct-encoded and sub-delims (RFC 3986 section 3.2.2).
    if (!/^[A-Za-z0-9\-._~%!$&'()*+,;=]+$/.test(host)) {
      throw new HttpError(400, host === "" ? "request-target has no host" : "host name is invalid");
    }
  }
  let port: number;
  if (portText === undefined || portText === "") {
    if (defaultPort === undefined) throw new HttpError(400, noPortMessage);
    port = defaultPort;
  } else {
    if (!/^[0-9]{1,5}$/.test(portText)) throw new HttpError(400, "port is not a number");
    port = Number(portText);
    if (port < 1 || port > 65535) throw new HttpError(400, "port is out of range");
  }
  return { host: host.toLowerCase(), port };
}

/** host:port for a Host header or a log line, bracketing IPv6 and omitting a default port. */
export function formatAuthority(host: string, port: number, defaultPort?: number): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}
