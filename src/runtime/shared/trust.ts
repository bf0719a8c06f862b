/**
 * Which CAs verify origins. node:tls and Bun's upgradeTLS take a `ca` list that replaces the
 * runtime's default trust, so extra CAs (ssl_verify_upstream_trusted_ca) are given together with
 * everything the runtime trusted by default.
 */
import fs from "node:fs";
import process from "node:process";
import tls from "node:tls";

declare const Deno: unknown;

const withExtra = new WeakMap<string[], string[]>();

/**
 * Undefined (the runtime's default trust) without extra CAs; with them, the default trust plus
 * the extra CAs: a `ca` list replaces the default trust in node:tls and in Bun's upgradeTLS, so
 * the list must name everything the runtime trusted by default.
 */
export function trustedCas(extra: string[] | undefined): string[] | undefined {
  if (!extra?.length) return undefined;
  let list = withExtra.get(extra);
  if (!list) {
    list = [...new Set([...defaultTrust(), ...extra.map((pem) => pem.trim())])];
    withExtra.set(extra, list);
  }
  return list;
}

let defaultTrustList: string[] | null = null;

/**
 * What the runtime trusts when given no `ca` (measured, README "HTTPS"): Bun 1.4 and Deno 2.9
 * both trust their bundled Mozilla roots, the OS store (/etc/ssl/certs/ca-certificates.crt on
 * Debian) and NODE_EXTRA_CA_CERTS; Deno also DENO_CERT. getCACertificates() lists the parts, but
 * each runtime puts different ones under "default", so all are taken; DENO_CERT is in none.
 */
function defaultTrust(): string[] {
  if (defaultTrustList) return defaultTrustList;
  const all = new Set<string>();
  const list = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  for (const type of ["default", "bundled", "system", "extra"]) {
    try {
      for (const pem of list?.(type) ?? []) all.add(pem.trim());
    } catch {
      // A runtime without this kind of store.
    }
  }
  if (all.size === 0) { for (const pem of tls.rootCertificates) all.add(pem.trim()); }
  const denoCert = typeof Deno !== "undefined" ? process.env.DENO_CERT : undefined;
  if (denoCert) {
    try {
      const text = fs.readFileSync(denoCert, "utf8");
      for (const m of text.matchAll(PEM_CERTIFICATE)) all.add(m[0].trim());
    } catch {
      // Deno itself refuses to start with an unreadable DENO_CERT.
    }
  }
  return defaultTrustList = [...all];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
