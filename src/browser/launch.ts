/**
 * `mitm browser`: the command line and the fresh profile that make Chromium or Firefox use the
 * proxy and trust the CA, without touching the user's own browser profile.
 *
 * - Chromium: --proxy-server, and --ignore-certificate-errors-spki-list with the SPKI hashes of
 *   the CA and of the key every leaf of this proxy shares (Chromium matches the list against the
 *   certificates the server sends, which may be the leaf alone, and honours it only together
 *   with --user-data-dir, which the fresh profile gives).
 * - Firefox: proxy preferences in the profile's user.js, and the CA imported into the profile's
 *   NSS database with certutil (Firefox keeps its own roots, not the system's).
 */
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";

export type BrowserKind = "chromium" | "firefox";

/** Executable names tried on PATH, in order. */
const EXECUTABLES: Record<BrowserKind, readonly string[]> = {
  chromium: ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"],
  firefox: ["firefox", "firefox-esr"],
};

/** "chrome" and "chromium" are one kind; null for a name that is no browser we know. */
export function browserKind(name: string): BrowserKind | null {
  const n = name.toLowerCase();
  if (n === "chromium" || n === "chrome") return "chromium";
  if (n === "firefox") return "firefox";
  return null;
}

/** The browser's executable on PATH, or null. */
export function findBrowser(kind: BrowserKind): string | null {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const name of EXECUTABLES[kind]) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of a certificate: what Chromium's SPKI list takes. */
export function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

export interface LaunchPlan {
  kind: BrowserKind;
  executable: string;
  profileDir: string;
  proxyUrl: string;
  caPem: string;
  caPemFile: string;
  /** More certificates (PEM) whose keys Chromium accepts: a leaf of this proxy. */
  leafPem?: string;
  headless: boolean;
  /** More arguments for the browser (flags, then URLs), passed as given. */
  extra: readonly string[];
}

/** The browser's argv (without the executable). */
export function browserArgs(plan: LaunchPlan): string[] {
  if (plan.kind === "firefox") {
    return [
      "--profile",
      plan.profileDir,
      "--no-remote",
      "--new-instance",
      ...(plan.headless ? ["--headless"] : []),
      ...plan.extra,
    ];
  }
  return [
    `--user-data-dir=${plan.profileDir}`,
    `--proxy-server=${plan.proxyUrl}`,
    // Chromium goes straight to loopback hosts unless told not to; local servers are wanted too.
    "--proxy-bypass-list=<-loopback>",
    `--ignore-certificate-errors-spki-list=${
      [plan.caPem, ...(plan.leafPem ? [plan.leafPem] : [])].map(spkiHash).join(",")
    }`,
    "--no-first-run",
    "--no-default-browser-check",
    // Chromium's own background traffic (updates, sync) would crowd the flows the user is after.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Chromium refuses to start as root without it.
    ...(process.getuid?.() === 0 && !plan.extra.includes("--no-sandbox") ? ["--no-sandbox"] : []),
    ...(plan.headless ? ["--headless"] : []),
    ...plan.extra,
  ];
}

/** Firefox preferences: the proxy for http and https, loopback included, and no first-run noise. */
export function firefoxUserJs(proxyUrl: string): string {
  const url = new URL(proxyUrl);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port);
  const prefs: [string, string | number | boolean][] = [
    ["network.proxy.type", 1],
    ["network.proxy.http", host],
    ["network.proxy.http_port", port],
    ["network.proxy.ssl", host],
    ["network.proxy.ssl_port", port],
    ["network.proxy.share_proxy_settings", false],
    ["network.proxy.no_proxies_on", ""],
    ["network.proxy.allow_hijacking_localhost", true],
    ["browser.shell.checkDefaultBrowser", false],
    ["browser.startup.homepage_override.mstone", "ignore"],
    ["datareporting.policy.dataSubmissionEnabled", false],
    ["toolkit.telemetry.reportingpolicy.firstRun", false],
    ["app.update.auto", false],
  ];
  return prefs.map(([name, value]) =>
    `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`
  )
    .join("\n") + "\n";
}

/** Thrown when the profile cannot be prepared (certutil missing or failing). */
export class ProfileError extends Error {}

/** Creates the profile directory; for Firefox, with user.js and the CA in its NSS database. */
export async function prepareProfile(plan: LaunchPlan): Promise<void> {
  fs.mkdirSync(plan.profileDir, { recursive: true, mode: 0o700 });
  if (plan.kind !== "firefox") return;
  fs.writeFileSync(path.join(plan.profileDir, "user.js"), firefoxUserJs(plan.proxyUrl));
  const db = `sql:${plan.profileDir}`;
  await certutil(["-N", "-d", db, "--empty-password"]);
  await certutil(["-A", "-d", db, "-n", "mitm.ts CA", "-t", "C,,", "-i", plan.caPemFile]);
}

function certutil(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("certutil", args, { timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error === null) return resolve();
      const e = error as NodeJS.ErrnoException;
      reject(
        new ProfileError(
          e.code === "ENOENT"
            ? "certutil is needed to give Firefox the CA; install it (Debian: libnss3-tools)"
            : `certutil failed: ${String(stderr).trim() || e.message}`,
        ),
      );
    });
  });
}
