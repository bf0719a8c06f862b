/** Where a request goes: scheme, origin host and port, and the SNI for https. */
import { formatAuthority } from "../http1/mod.ts";

export interface Route {
  scheme: "http" | "https";
  host: string;
  port: number;
  /** Server name to send in the TLS handshake (https only); null for none. */
  sni: string | null;
}

const DEFAULT_PORT = { http: 80, https: 443 } as const;

/** host[:port] as it appears in a URL or Host header for this route. */
export function routeAuthority(route: Route): string {
  return formatAuthority(route.host, route.port, DEFAULT_PORT[route.scheme]);
}

/** The origin pool key: connections are interchangeable only for the same key. */
export function routeKey(route: Route): string {
  const base = originKey(route.scheme, route.host, route.port);
  return route.scheme === "https" ? `${base}#${route.sni ?? ""}` : base;
}

/** scheme://host:port, the part of routeKey() that names the origin server. */
export function originKey(scheme: Route["scheme"], host: string, port: number): string {
  return `${scheme}://${formatAuthority(host, port)}`;
}

/** What to send as SNI for `host`: the name itself, or nothing for an IP address (RFC 6066 3). */
export function sniFor(host: string): string | null {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":") ? null : host;
}
