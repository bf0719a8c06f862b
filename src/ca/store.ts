/**
 * The CA on disk, in --confdir:
 *   mitm-ca.pem       private key + certificate (mode 0600)
 *   mitm-ca-cert.pem  certificate only, to give to clients (0644)
 *   mitm-ca-cert.cer  the same in DER, for Android and Windows (0644)
 * The directory is 0755, as mitmproxy's: services that run as their own user (apt's https method
 * runs as _apt) must be able to read the certificate; the key file alone is private.
 * A mitmproxy CA (mitmproxy-ca.pem, with its mitmproxy-ca-cert.pem/.cer) is used as it is when no
 * mitm.ts CA exists, so that people who already trust it need not trust another.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { CertificateAuthority } from "./authority.ts";
import { pkcs1ToPkcs8 } from "./der.ts";
import { parsePem, toPem } from "./pem.ts";

export interface LoadedCa {
  ca: CertificateAuthority;
  /** The file with key and certificate. */
  keyFile: string;
  /** Certificate files for clients. */
  certPemFile: string;
  certCerFile: string;
  /** "mitm.ts" or "mitmproxy": whose files these are. */
  origin: "mitm.ts" | "mitmproxy";
  /** True when this call generated the CA. */
  created: boolean;
}

export class CaFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaFileError";
  }
}

/** "~/x" and "~" relative to the home directory. */
export function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? os.homedir() + p.slice(1) : p;
}

export function caFiles(confdir: string) {
  const dir = expandHome(confdir);
  return {
    dir,
    key: path.join(dir, "mitm-ca.pem"),
    certPem: path.join(dir, "mitm-ca-cert.pem"),
    certCer: path.join(dir, "mitm-ca-cert.cer"),
    mitmproxyKey: path.join(dir, "mitmproxy-ca.pem"),
    mitmproxyCertPem: path.join(dir, "mitmproxy-ca-cert.pem"),
    mitmproxyCertCer: path.join(dir, "mitmproxy-ca-cert.cer"),
  };
}

/** Loads the CA from `confdir`, creating it (and the directory) on first use. */
export async function loadOrCreateCa(confdir: string): Promise<LoadedCa> {
  const f = caFiles(confdir);
  if (fs.existsSync(f.key)) return await loadOurs(f, false);
  if (fs.existsSync(f.mitmproxyKey)) {
    return {
      ca: await readCaFile(f.mitmproxyKey),
      keyFile: f.mitmproxyKey,
      certPemFile: f.mitmproxyCertPem,
      certCerFile: f.mitmproxyCertCer,
      origin: "mitmproxy",
      created: false,
    };
  }
  // Explicit modes, whatever the umask: the certificate is public, the key (0600) is not.
  if (fs.mkdirSync(f.dir, { recursive: true, mode: 0o755 }) !== undefined) {
    fs.chmodSync(f.dir, 0o755);
  }
  const { ca, keyPkcs8 } = await CertificateAuthority.create();
  const tmp = `${f.key}.${process.pid}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(tmp, toPem("PRIVATE KEY", keyPkcs8) + ca.certPem, { mode: 0o600 });
  let created = true;
  try {
    // link() fails if the file exists: of two first starts at once, exactly one CA wins.
    fs.linkSync(tmp, f.key);
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
    created = false;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return await loadOurs(f, created);
}

async function loadOurs(f: ReturnType<typeof caFiles>, created: boolean): Promise<LoadedCa> {
  const ca = await readCaFile(f.key);
  // The client copies are derived from the key file every start: same bytes every time, so a
  // concurrent start writing them too is harmless (temp file, then rename). Copies that are
  // already right are left alone, so that a read-only confdir holding a complete CA works.
  writeIfChanged(f.certPem, new TextEncoder().encode(ca.certPem), 0o644);
  writeIfChanged(f.certCer, ca.certDer, 0o644);
  return {
    ca,
    keyFile: f.key,
    certPemFile: f.certPem,
    certCerFile: f.certCer,
    origin: "mitm.ts",
    created,
  };
}

/** Reads a PEM file holding a private key (PKCS#8 or PKCS#1 RSA) and a certificate. */
export async function readCaFile(file: string): Promise<CertificateAuthority> {
  const blocks = parsePem(fs.readFileSync(file, "utf8"));
  const cert = blocks.find((b) => b.label === "CERTIFICATE");
  const pkcs8 = blocks.find((b) => b.label === "PRIVATE KEY");
  const pkcs1 = blocks.find((b) => b.label === "RSA PRIVATE KEY");
  if (!cert || !(pkcs8 || pkcs1)) {
    throw new CaFileError(
      `${file} must hold a private key and a certificate in PEM; move it away to make a new CA`,
    );
  }
  try {
    return await CertificateAuthority.load(cert.der, pkcs8 ? pkcs8.der : pkcs1ToPkcs8(pkcs1!.der));
  } catch (e) {
    throw new CaFileError(`cannot use the CA in ${file}: ${(e as Error).message}`);
  }
}

function writeIfChanged(file: string, data: Uint8Array, mode: number): void {
  try {
    const current = fs.readFileSync(file);
    if (current.length === data.length && current.every((b, i) => b === data[i])) return;
  } catch {
    // Missing or unreadable: write it.
  }
  writeAtomically(file, data, mode);
}

function writeAtomically(file: string, data: string | Uint8Array, mode: number): void {
  const tmp = `${file}.${process.pid}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(tmp, data, { mode });
  fs.chmodSync(tmp, mode); // the umask would narrow it
  fs.renameSync(tmp, file);
}
