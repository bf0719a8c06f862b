/**
 * The origin's certificate chain as node:tls reports it (`getPeerCertificate(true)`, on Deno and
 * Bun alike), summarised for flows: read once when a connection to an origin is established and
 * shared by every flow on that connection.
 */
import { createHash } from "node:crypto";
import type tls from "node:tls";
import type { CertificateSummary } from "../types.ts";

/** Longest chain read: a peer's issuer links could loop or run long. */
const MAX_CHAIN = 10;

/** The chain from `leaf` up, as the peer sent (and the runtime completed) it. */
export function certificateChain(leaf: tls.PeerCertificate | null): CertificateSummary[] {
  const chain: CertificateSummary[] = [];
  const seen = new Set<string>();
  let cert = leaf as tls.DetailedPeerCertificate | null;
  while (cert?.raw && chain.length < MAX_CHAIN) {
    const summary = summarise(cert);
    // A self-signed root names itself as its issuer: the walk ends there.
    if (seen.has(summary.sha256)) break;
    seen.add(summary.sha256);
    chain.push(summary);
    cert = cert.issuerCertificate ?? null;
  }
  return chain;
}

function summarise(c: tls.PeerCertificate): CertificateSummary {
  const der = new Uint8Array(c.raw);
  return {
    subject: distinguishedName(c.subject),
    issuer: distinguishedName(c.issuer),
    notBefore: isoTime(c.valid_from),
    notAfter: isoTime(c.valid_to),
    sha256: createHash("sha256").update(der).digest("hex"),
    altNames: subjectAltNames(c.subjectaltname),
  };
}

function distinguishedName(name: unknown): string {
  if (name === null || typeof name !== "object") return "";
  const parts: string[] = [];
  for (const [key, value] of Object.entries(name as Record<string, unknown>)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${key}=${String(v)}`);
  }
  return parts.join(", ");
}

function isoTime(text: string | undefined): string | null {
  if (!text) return null;
  const t = new Date(text).getTime();
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

/** "DNS:a.example, IP Address:127.0.0.1" -> ["a.example", "127.0.0.1"]. */
export function subjectAltNames(text: string | undefined): string[] {
  const names: string[] = [];
  for (const part of (text ?? "").split(",")) {
    const m = /^\s*(DNS|IP Address):(.+)$/.exec(part);
    if (m) names.push(m[2].trim());
  }
  return names;
}
