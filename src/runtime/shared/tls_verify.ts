/**
 * An origin's certificate judged and described in words, the same for every TLS engine: node:tls
 * (node/tls.ts) and Bun's own engine in place (bun/tls.ts) both report the peer certificate in
 * node:tls's shape and OpenSSL's verification code, with verification left to us (so that a
 * failure can be reported as a reason, and `-k` still connects).
 */
import tls from "node:tls";
import type { PeerCertificate, TlsClientOptions } from "../types.ts";

const VERIFY_MESSAGES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in certificate chain",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unable to verify the first certificate",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unable to get local issuer certificate",
  CERT_HAS_EXPIRED: "certificate has expired",
  CERT_NOT_YET_VALID: "certificate is not yet valid",
  ERR_TLS_CERT_ALTNAME_INVALID: "certificate does not match the host name",
};

/**
 * Why the origin's certificate does not verify, in words, or null. `code` is OpenSSL's verdict on
 * the chain (null when it verified); the name is checked here, since not every runtime checks it
 * when rejectUnauthorized is false.
 */
export function verificationError(
  code: string | null,
  raw: tls.PeerCertificate | null,
  options: Pick<TlsClientOptions, "servername" | "host">,
): string | null {
  if (code !== null) return VERIFY_MESSAGES[code] ?? code.toLowerCase().replace(/_/g, " ");
  if (raw?.raw && tls.checkServerIdentity(options.servername ?? options.host, raw)) {
    return VERIFY_MESSAGES.ERR_TLS_CERT_ALTNAME_INVALID;
  }
  return null;
}

export function peerCertificate(c: tls.PeerCertificate | null): PeerCertificate | null {
  if (!c || !c.raw) return null;
  const altNames: string[] = [];
  for (const part of (c.subjectaltname ?? "").split(",")) {
    const m = /^\s*(DNS|IP Address):(.+)$/.exec(part);
    if (m) altNames.push(m[1] === "DNS" ? m[2].trim() : normalizeIp(m[2].trim()));
  }
  const cn = c.subject?.CN;
  return {
    commonName: Array.isArray(cn) ? cn[0] : cn ?? null,
    altNames,
    der: new Uint8Array(c.raw),
  };
}

/** OpenSSL prints IPv6 SANs in full ("0:0:0:0:0:0:0:1"); keep a form URL.hostname accepts. */
function normalizeIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip;
  }
}
