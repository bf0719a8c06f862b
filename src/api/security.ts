/**
 * What keeps other web pages and other users away from the control API:
 * - the Host header must name this server (localhost, a loopback address or the listen address):
 *   a DNS-rebinding page reaches us under its own host name and is refused;
 * - a request that says it comes from another origin (Origin, Sec-Fetch-Site) is refused, and no
 *   CORS headers are ever sent;
 * - /api and /mcp need the token: `Authorization: Bearer TOKEN`, or the HttpOnly SameSite=Strict
 *   cookie set when the UI is opened with ?token=TOKEN (compared in constant time);
 * - a request with a body that changes state must say `Content-Type: application/json`, which an
 *   HTML form cannot send (an import may also be JSON lines or octet-stream, which forms cannot
 *   send either).
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { IMPORT_TYPES } from "./import_types.ts";

/** The Content-Security-Policy of every answer that sets none of its own. */
export const DEFAULT_CSP =
  "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-ancestors 'none'";

export interface SecurityConfig {
  token: string;
  /** The port the UI is served on: Host and Origin must carry it. */
  port: number;
  /** Host names accepted besides localhost and the loopback addresses (the listen address). */
  hosts: string[];
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/** A fresh random token: 24 random bytes as 32 base64url characters. */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** Equal strings, in time that depends only on the length of `secret`. */
export function sameSecret(given: string, secret: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(secret);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a.length ? a[i % a.length] : 0) ^ b[i];
  return diff === 0;
}

export function cookieName(port: number): string {
  // Cookies ignore ports: two instances on one host need different names.
  return `mitm_token_${port}`;
}

/** Whether `authority` (a Host header value, or the host:port of an Origin) names this server. */
export function hostAllowed(authority: string, config: SecurityConfig): boolean {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(authority.trim().toLowerCase());
  if (!m) return false;
  const [, host, port] = m;
  if (port !== undefined && Number(port) !== config.port) return false;
  const names = [...LOOPBACK_NAMES, ...config.hosts.map(bracketV6)];
  return names.includes(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function bracketV6(host: string): string {
  const h = host.toLowerCase();
  return h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
}

function jsonError(c: Context, status: 400 | 401 | 403 | 415, message: string) {
  return c.json({ error: message }, status);
}

/** The token from the Authorization header or else the cookie; null when neither is there. */
function givenToken(c: Context, config: SecurityConfig): string | null {
  const auth = c.req.header("authorization");
  const bearer = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  if (bearer) return bearer;
  return getCookie(c, cookieName(config.port)) ?? (auth ? "" : null);
}

export function securityMiddleware(config: SecurityConfig): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!hostAllowed(host, config)) {
      return jsonError(
        c,
        403,
        `refused: Host "${host}" is not this server; open it as http://127.0.0.1:${config.port}/`,
      );
    }
    const origin = c.req.header("origin");
    if (origin !== undefined && origin !== "null") {
      let originHost = "";
      try {
        originHost = new URL(origin).host;
      } catch { /* refused below */ }
      if (!hostAllowed(originHost, config)) {
        return jsonError(c, 403, `refused: requests from ${origin} are not allowed`);
      }
    }
    if (c.req.header("sec-fetch-site") === "cross-site") {
      return jsonError(c, 403, "refused: cross-site requests are not allowed");
    }
    if (c.req.path.startsWith("/api/") || c.req.path === "/api" || c.req.path === "/mcp") {
      const token = givenToken(c, config);
      if (token === null) {
        return jsonError(
          c,
          401,
          "missing API token: send Authorization: Bearer TOKEN (printed at startup)",
        );
      }
      if (!sameSecret(token, config.token)) return jsonError(c, 401, "wrong API token");
      if (["POST", "PUT", "DELETE", "PATCH"].includes(c.req.method)) {
        const type = c.req.header("content-type");
        const hasBody = (c.req.header("content-length") ?? "0") !== "0" ||
          c.req.header("transfer-encoding") !== undefined;
        const allowed = c.req.path === "/api/import" ? IMPORT_TYPES : /^application\/json\s*(;|$)/i;
        if ((type !== undefined || hasBody) && !allowed.test(type ?? "")) {
          return jsonError(
            c,
            415,
            "send the request body as JSON (Content-Type: application/json)",
          );
        }
      }
    }
    await next();
  };
}
