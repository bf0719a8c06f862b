/**
 * The files `mitm run` and `mitm browser` hand to programs: a CA bundle (system roots plus the
 * mitm.ts CA), the Node preload, a wgetrc, and a Java truststore. They live in a private temporary
 * directory removed at exit, except the truststore, which is slow to make (keytool starts a JVM)
 * and so is kept in confdir, made again when the JDK's roots change.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import tls from "node:tls";
import { createHash } from "node:crypto";
import { NODE_PRELOAD_SOURCE } from "./node_preload.ts";
import type { RunFiles } from "./env.ts";

/** Where Linux distributions, the BSDs and macOS keep the system roots as one PEM file. */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Alpine
  "/etc/pki/tls/certs/ca-bundle.crt", // Fedora, RHEL
  "/etc/ssl/ca-bundle.pem", // openSUSE
  "/etc/ssl/cert.pem", // macOS, the BSDs, Alpine
];

/** The system roots as PEM: the distribution's bundle, else the runtime's built-in roots. */
export function systemRootsPem(candidates: readonly string[] = SYSTEM_BUNDLES): string {
  for (const file of candidates) {
    try {
      const text = fs.readFileSync(file, "utf8");
      if (text.includes("-----BEGIN CERTIFICATE-----")) return text;
    } catch {
      // not on this system: try the next
    }
  }
  return tls.rootCertificates.join("\n") + "\n";
}

/** The CA bundle's text: the roots, then the mitm.ts CA, so that no trust is taken away. */
export function bundlePem(rootsPem: string, caPem: string): string {
  const roots = rootsPem.endsWith("\n") ? rootsPem : rootsPem + "\n";
  return `${roots}# mitm.ts CA\n${caPem.endsWith("\n") ? caPem : caPem + "\n"}`;
}

export interface PreparedRunFiles {
  files: RunFiles;
  /** The temporary directory (also a place for a browser profile). */
  dir: string;
  /** Removes the temporary directory. */
  remove(): void;
}

/** Writes the files for one run. `confdir` caches the Java truststore. */
export async function prepareRunFiles(
  confdir: string,
  caPemFile: string,
  caPem: string,
): Promise<PreparedRunFiles> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-run-"));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text, { mode: 0o600 });
      return file;
    };
    const bundleFile = write("ca-bundle.pem", bundlePem(systemRootsPem(), caPem));
    const files: RunFiles = {
      caPemFile,
      bundleFile,
      nodePreloadFile: write("node-preload.cjs", NODE_PRELOAD_SOURCE),
      wgetrcFile: write("wgetrc", wgetrc(bundleFile)),
    };
    const trust = await javaTrustStore(confdir, caPemFile, caPem);
    if (trust !== null) files.javaTrustStore = trust;
    return { files, dir, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/** The user's ~/.wgetrc (WGETRC replaces it) with the bundle as wget's CA file. */
function wgetrc(bundleFile: string): string {
  let own = "";
  try {
    own = fs.readFileSync(path.join(os.homedir(), ".wgetrc"), "utf8");
  } catch {
    // none
  }
  return `${own}${own === "" || own.endsWith("\n") ? "" : "\n"}ca_certificate = ${bundleFile}\n`;
}

/** A file named `name` on PATH (or in $JAVA_HOME/bin), resolved through symlinks. */
function findExecutable(name: string): string | null {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  if (process.env.JAVA_HOME) dirs.unshift(path.join(process.env.JAVA_HOME, "bin"));
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.realpathSync(file);
    } catch {
      // not here
    }
  }
  return null;
}

/** The password of the JDK's cacerts, kept for the copy: Java checks a store's integrity with it. */
const JDK_STORE_PASSWORD = "changeit";

/**
 * The JDK's cacerts plus the CA, made with keytool; null without a JDK (then Java is not run
 * anyway) or when keytool fails (Java then keeps its own roots and rejects the proxy's
 * certificates, which is what it would do without mitm run).
 */
async function javaTrustStore(
  confdir: string,
  caPemFile: string,
  caPem: string,
): Promise<{ file: string; password: string } | null> {
  const keytool = findExecutable("keytool");
  if (keytool === null) return null;
  const cacerts = path.join(path.dirname(path.dirname(keytool)), "lib", "security", "cacerts");
  let sourceTime: number;
  try {
    sourceTime = fs.statSync(cacerts).mtimeMs;
  } catch {
    return null;
  }
  const id = createHash("sha256").update(caPem).digest("hex").slice(0, 16);
  const file = path.join(confdir, `java-truststore-${id}`);
  try {
    if (fs.statSync(file).mtimeMs >= sourceTime) return { file, password: JDK_STORE_PASSWORD };
  } catch {
    // not made yet
  }
  // Made under a temporary name and renamed, so that runs in parallel never see half a store.
  const partial = `${file}.${process.pid}.tmp`;
  try {
    fs.copyFileSync(cacerts, partial);
    fs.chmodSync(partial, 0o600);
    await new Promise<void>((resolve, reject) => {
      execFile(
        keytool,
        [
          "-importcert",
          "-noprompt",
          "-alias",
          "mitm-ts-ca",
          "-file",
          caPemFile,
          "-keystore",
          partial,
          "-storepass",
          JDK_STORE_PASSWORD,
        ],
        { timeout: 60_000 },
        (error) => (error ? reject(error) : resolve()),
      );
    });
    fs.renameSync(partial, file);
    return { file, password: JDK_STORE_PASSWORD };
  } catch {
    fs.rmSync(partial, { force: true });
    return null;
  }
}
