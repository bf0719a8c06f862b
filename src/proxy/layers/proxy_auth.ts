/**
 * Proxy authentication with one user:password (`--set proxyauth=user:pass`): HTTP Basic in
 * Proxy-Authorization for regular and upstream modes (RFC 9110 11.7), RFC 1929 for socks5.
 */

export interface Credentials {
  username: string;
  password: string;
}

/** `user:pass` split at the first colon; null when there is no colon. */
export function parseCredentials(text: string): Credentials | null {
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** For the option registry: null when `text` is empty or user:pass, else what is wrong. */
export function credentialsProblem(text: string): string | null {
  return text === "" || parseCredentials(text) ? null : "is not user:password";
}

/** The Proxy-Authorization value that carries `credentials` (UTF-8, as browsers send it). */
export function basicAuthorization(credentials: Credentials): string {
  const bytes = new TextEncoder().encode(`${credentials.username}:${credentials.password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/** The challenge sent with 407. */
export const PROXY_AUTHENTICATE = 'Basic realm="mitm.ts"';

/**
 * Compares without returning early at the first difference, so that the time taken does not tell
 * an attacker how much of a guess was right (only whether the lengths differ).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}

/** Checks a request's Proxy-Authorization against what `expected` (basicAuthorization) says. */
export function authorized(header: string | undefined, expected: string): boolean {
  if (header === undefined) return false;
  // The scheme name is case-insensitive (RFC 9110 11.1); the token is compared as sent.
  const m = /^\s*basic\s+(\S+)\s*$/i.exec(header);
  return m !== null && constantTimeEqual(`Basic ${m[1]}`, expected);
}
