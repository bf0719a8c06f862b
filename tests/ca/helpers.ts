/**
 * Helpers for the CA and TLS tests: run openssl (and other commands) as child processes, temporary
 * directories, and a few DER walks that read a certificate's raw fields without @peculiar/x509, so
 * that what the CA writes is checked by something other than the library that wrote it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir as newTempDir } from "../fixtures/temp_dir.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DENO = join(ROOT, "node_modules", ".bin", "deno");
export const BUN = join(ROOT, "node_modules", ".bin", "bun");

export const DAY = 24 * 60 * 60 * 1000;

export interface RunResult {
  /** Exit code, or null when killed by a signal (or when the command could not start). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`) and captures its output. */
export function run(
  cmd: string,
  args: string[],
  options: { input?: string; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 30_000, cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number | string }) | null;
        resolve({
          code: e ? (typeof e.code === "number" ? e.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr) + (e && typeof e.code !== "number" ? e.message : ""),
        });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

/** Runs openssl and fails the test unless it exits with 0; returns stdout. */
export async function openssl(args: string[], input?: string): Promise<string> {
  const r = await run("openssl", args, { input });
  assert.equal(r.code, 0, `openssl ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A new empty directory; removed when the test process ends if the test does not remove it. */
export function tempDir(prefix: string): string {
  return newTempDir(`mitm-${prefix}-`).dir;
}

/** Writes `text` to `dir/name` and returns the path. */
export function put(dir: string, name: string, text: string | Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/**
 * `openssl verify` of `leafPem` against `caPem`: with strict X.509 checks (-x509_strict) unless
 * `strict` is false, for use by a TLS server unless `purpose` says otherwise (null: none, as for
 * the CA itself).
 */
export async function opensslVerify(
  caPem: string,
  leafPem: string,
  { purpose = "sslserver", strict = true }: { purpose?: string | null; strict?: boolean } = {},
): Promise<{ ok: boolean; output: string }> {
  const dir = tempDir("verify");
  try {
    const ca = put(dir, "ca.pem", caPem);
    const leaf = put(dir, "leaf.pem", leafPem);
    const r = await run("openssl", [
      "verify",
      ...(strict ? ["-x509_strict"] : []),
      ...(purpose === null ? [] : ["-purpose", purpose]),
      "-CAfile",
      ca,
      leaf,
    ]);
    return { ok: r.code === 0 && /: OK\s*$/.test(r.stdout), output: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl x509 -noout -text` of a PEM certificate. */
export function opensslText(pem: string): Promise<string> {
  return openssl(["x509", "-noout", "-text"], pem);
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array | ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

// --- A minimal DER walk -------------------------------------------------------------------------

export interface Tlv {
  tag: number;
  /** The whole TLV (header and content). */
  raw: Uint8Array;
  content: Uint8Array;
}

/** The TLV starting at `pos`, and where the next one starts. */
export function readTlv(der: Uint8Array, pos = 0): { tlv: Tlv; next: number } {
  const tag = der[pos];
  let len = der[pos + 1];
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[pos + 2 + i];
    head += n;
  }
  const end = pos + head + len;
  assert.ok(end <= der.length, "DER: length runs past the end");
  return {
    tlv: { tag, raw: der.subarray(pos, end), content: der.subarray(pos + head, end) },
    next: end,
  };
}

/** The TLVs directly inside a constructed TLV's content. */
export function children(content: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = 0; pos < content.length;) {
    const { tlv, next } = readTlv(content, pos);
    out.push(tlv);
    pos = next;
  }
  return out;
}

/** The raw DER of a certificate's issuer and subject names (RFC 5280 4.1). */
export function rawNames(certDer: Uint8Array): { issuer: Uint8Array; subject: Uint8Array } {
  const cert = readTlv(certDer).tlv;
  const tbs = children(cert.content)[0];
  const fields = children(tbs.content);
  // [0] version is present in v3 certificates: version, serial, signature, issuer, validity, subject
  const at = fields[0].tag === 0xa0 ? 1 : 0;
  return { issuer: fields[at + 2].raw, subject: fields[at + 4].raw };
}
