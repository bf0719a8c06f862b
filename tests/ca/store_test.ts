/**
 * The CA on disk (src/ca/store.ts): the files a first start writes and their modes, loading them
 * again, two first starts racing in separate processes, and the errors for unusable files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { CaFileError, caFiles, expandHome, loadOrCreateCa, parsePem } from "../../src/ca/mod.ts";
import { BUN, DENO, hex, openssl, opensslVerify, put, ROOT, tempDir } from "./helpers.ts";

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

test("first start: creates the directory (0755), the key file (0600) and both certificate files (0644)", async () => {
  const root = tempDir("store");
  const confdir = path.join(root, "nested", "conf");
  const loaded = await loadOrCreateCa(confdir);
  const f = caFiles(confdir);
  assert.equal(loaded.created, true);
  assert.equal(loaded.origin, "mitm.ts");
  assert.equal(loaded.keyFile, f.key);
  assert.equal(loaded.certPemFile, f.certPem);
  assert.equal(loaded.certCerFile, f.certCer);
  assert.equal(path.basename(f.key), "mitm-ca.pem");
  assert.equal(path.basename(f.certPem), "mitm-ca-cert.pem");
  assert.equal(path.basename(f.certCer), "mitm-ca-cert.cer");
  // Exactly the three files: no temporary file left behind.
  assert.deepEqual(listing(confdir), ["mitm-ca-cert.cer", "mitm-ca-cert.pem", "mitm-ca.pem"]);
  assert.equal(fs.statSync(confdir).isDirectory(), true);
  // mitmproxy's layout: services running as another user (apt's _apt) read the certificate.
  assert.equal(mode(confdir), 0o755);
  assert.equal(mode(f.key), 0o600);
  assert.equal(mode(f.certPem), 0o644);
  assert.equal(mode(f.certCer), 0o644);

  // mitm-ca.pem: a PKCS#8 key and the certificate; the copies are that certificate.
  const blocks = parsePem(fs.readFileSync(f.key, "utf8"));
  assert.deepEqual(blocks.map((b) => b.label), ["PRIVATE KEY", "CERTIFICATE"]);
  assert.equal(hex(blocks[1].der), hex(loaded.ca.certDer));
  assert.equal(fs.readFileSync(f.certPem, "utf8"), loaded.ca.certPem);
  assert.equal(hex(fs.readFileSync(f.certCer)), hex(loaded.ca.certDer));
  // OpenSSL reads all three, and the key in mitm-ca.pem belongs to its certificate.
  assert.equal(
    await openssl(["pkey", "-in", f.key, "-pubout"]),
    await openssl(["x509", "-in", f.key, "-noout", "-pubkey"]),
  );
  const der = await openssl(["x509", "-inform", "DER", "-in", f.certCer, "-noout", "-fingerprint"]);
  assert.equal(der, await openssl(["x509", "-in", f.certPem, "-noout", "-fingerprint"]));
  // What is on disk is a working CA.
  const leaf = await loaded.ca.issue(["stored.test"]);
  const v = await opensslVerify(fs.readFileSync(f.certPem, "utf8"), leaf.certPem);
  assert.ok(v.ok, v.output);
  fs.rmSync(root, { recursive: true, force: true });
});

test("second start: the same certificate, nothing written; missing or stale copies come back", async () => {
  const confdir = tempDir("store");
  const first = await loadOrCreateCa(confdir);
  const f = caFiles(confdir);
  const keyBytes = fs.readFileSync(f.key, "utf8");
  const stamp = (file: string) => {
    const st = fs.statSync(file);
    return `${st.ino}/${st.mtimeMs}`;
  };
  const copies = [stamp(f.certPem), stamp(f.certCer)];
  const second = await loadOrCreateCa(confdir);
  assert.equal(second.created, false);
  assert.equal(second.origin, "mitm.ts");
  assert.equal(second.ca.certPem, first.ca.certPem);
  assert.equal(fs.readFileSync(f.key, "utf8"), keyBytes);
  assert.equal(mode(f.key), 0o600);
  // Copies that are right are not written again (a read-only confdir with a CA keeps working).
  assert.deepEqual([stamp(f.certPem), stamp(f.certCer)], copies);

  // The copies for clients are derived from mitm-ca.pem on every start.
  fs.rmSync(f.certPem);
  fs.writeFileSync(f.certCer, "stale");
  const third = await loadOrCreateCa(confdir);
  assert.equal(third.created, false);
  assert.equal(fs.readFileSync(f.certPem, "utf8"), first.ca.certPem);
  assert.equal(hex(fs.readFileSync(f.certCer)), hex(first.ca.certDer));
  assert.deepEqual(listing(confdir), ["mitm-ca-cert.cer", "mitm-ca-cert.pem", "mitm-ca.pem"]);
  // A leaf of the reloaded CA verifies against the certificate of the first start.
  const leaf = await third.ca.issue(["again.test"]);
  const v = await opensslVerify(first.ca.certPem, leaf.certPem);
  assert.ok(v.ok, v.output);
  fs.rmSync(confdir, { recursive: true, force: true });
});

interface ChildReport {
  ok: boolean;
  error?: string;
  existedBefore?: boolean;
  created?: boolean;
  origin?: string;
  certPem?: string;
}

/** Starts race_child.ts on a runtime; resolves once it is loaded and waiting for "go". */
function startChild(runtimeName: "deno" | "bun", dir: string) {
  const script = path.join(ROOT, "tests", "ca", "race_child.ts");
  const [cmd, args] = runtimeName === "deno"
    ? [DENO, ["run", "-A", "--no-check", script, dir]]
    : [BUN, [script, dir]];
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on("data", (d) => {
    out += d;
    if (out.startsWith("ready\n")) onReady();
  });
  const exited = new Promise<ChildReport>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("{"));
      resolve(
        line
          ? JSON.parse(line)
          : { ok: false, error: `${runtimeName} child exited with ${code}: ${out}${err}` },
      );
    });
  });
  return {
    ready: Promise.race([ready, exited.then(() => {})]),
    go: () => child.stdin.end("go\n"),
    report: exited,
  };
}

test("two first starts at once, in separate processes (Deno and Bun), end with one CA", {
  timeout: 120_000,
}, async () => {
  const pairs: Array<["deno" | "bun", "deno" | "bun"]> = [
    ["deno", "bun"],
    ["bun", "deno"],
    ["deno", "deno"],
    ["bun", "bun"],
    ["deno", "bun"],
    ["bun", "bun"],
  ];
  let realRaces = 0;
  for (const [i, pair] of pairs.entries()) {
    const root = tempDir("race");
    const confdir = path.join(root, "conf");
    const children = pair.map((r) => startChild(r, confdir));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const reports = await Promise.all(children.map((c) => c.report));
    const what = `round ${i} (${pair.join(" + ")})`;
    for (const r of reports) assert.ok(r.ok, `${what}: ${r.error}`);
    // Exactly one of them created the CA, and both use that one.
    assert.deepEqual(reports.map((r) => r.created).sort(), [false, true], what);
    assert.equal(reports[0].certPem, reports[1].certPem, what);
    if (reports.every((r) => r.existedBefore === false)) realRaces++;
    // The files on disk are that CA, whole, and nothing else is left in the directory.
    const f = caFiles(confdir);
    assert.deepEqual(listing(confdir), ["mitm-ca-cert.cer", "mitm-ca-cert.pem", "mitm-ca.pem"]);
    const blocks = parsePem(fs.readFileSync(f.key, "utf8"));
    assert.deepEqual(blocks.map((b) => b.label), ["PRIVATE KEY", "CERTIFICATE"], what);
    assert.equal(fs.readFileSync(f.certPem, "utf8"), reports[0].certPem, what);
    const again = await loadOrCreateCa(confdir);
    assert.equal(again.created, false);
    assert.equal(again.ca.certPem, reports[0].certPem, what);
    assert.equal(hex(fs.readFileSync(f.certCer)), hex(again.ca.certDer), what);
    assert.equal(mode(f.key), 0o600, what);
    assert.equal(
      await openssl(["pkey", "-in", f.key, "-pubout"]),
      await openssl(["x509", "-in", f.key, "-noout", "-pubkey"]),
      what,
    );
    fs.rmSync(root, { recursive: true, force: true });
  }
  // Both processes found no CA and generated one in at least one round: link() settled it.
  assert.ok(realRaces >= 1, `no round had both processes race (${realRaces})`);
});

test("a key file without a certificate: CaFileError naming the file and what to do", async () => {
  const confdir = tempDir("store");
  const f = caFiles(confdir);
  // A key only (what is left if someone strips the certificate out of mitm-ca.pem).
  const keyOnly = await openssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
  ]);
  put(confdir, "mitm-ca.pem", keyOnly);
  const err = await loadOrCreateCa(confdir).then(() => null, (e) => e);
  assert.ok(err instanceof CaFileError, String(err));
  assert.equal(err.name, "CaFileError");
  assert.ok(err.message.includes(f.key), err.message);
  assert.match(err.message, /must hold a private key and a certificate in PEM/);
  assert.match(err.message, /move it away to make a new CA/);
  // Nothing was overwritten or added.
  assert.equal(fs.readFileSync(f.key, "utf8"), keyOnly);
  assert.deepEqual(listing(confdir), ["mitm-ca.pem"]);

  // A certificate without a key, and a file that is not PEM at all: the same error.
  const { ca } = await loadOrCreateCa(tempDir("store"));
  for (const text of [ca.certPem, "not a PEM file\n", ""]) {
    put(confdir, "mitm-ca.pem", text);
    await assert.rejects(loadOrCreateCa(confdir), (e) => {
      assert.ok(e instanceof CaFileError);
      assert.match(e.message, /must hold a private key and a certificate/);
      return true;
    });
  }
  fs.rmSync(confdir, { recursive: true, force: true });
});

test("a key that WebCrypto cannot use: CaFileError saying so", async () => {
  const confdir = tempDir("store");
  const f = caFiles(confdir);
  const { ca } = await loadOrCreateCa(tempDir("store"));
  // A P-384 key: neither a P-256 nor an RSA key.
  const p384 = await openssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-384",
  ]);
  for (const key of [p384, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"]) {
    put(confdir, "mitm-ca.pem", key + ca.certPem);
    await assert.rejects(loadOrCreateCa(confdir), (e) => {
      assert.ok(e instanceof CaFileError, String(e));
      assert.ok(e.message.startsWith(`cannot use the CA in ${f.key}: `), e.message);
      return true;
    });
  }
  fs.rmSync(confdir, { recursive: true, force: true });
});

test("expandHome and caFiles: ~ is the home directory; the six file names", () => {
  assert.equal(expandHome("~"), os.homedir());
  assert.equal(expandHome("~/.mitm-ts"), path.join(os.homedir(), ".mitm-ts"));
  assert.equal(expandHome("~other/x"), "~other/x");
  assert.equal(expandHome("/abs/~/x"), "/abs/~/x");
  const f = caFiles("/conf");
  assert.deepEqual(f, {
    dir: "/conf",
    key: "/conf/mitm-ca.pem",
    certPem: "/conf/mitm-ca-cert.pem",
    certCer: "/conf/mitm-ca-cert.cer",
    mitmproxyKey: "/conf/mitmproxy-ca.pem",
    mitmproxyCertPem: "/conf/mitmproxy-ca-cert.pem",
    mitmproxyCertCer: "/conf/mitmproxy-ca-cert.cer",
  });
  assert.equal(caFiles("~/c").key, path.join(os.homedir(), "c", "mitm-ca.pem"));
});

test("a restrictive umask still gives a readable directory and certificate, a private key", async () => {
  const root = tempDir("umask");
  const confdir = path.join(root, "conf");
  const previous = process.umask(0o077);
  try {
    await loadOrCreateCa(confdir);
  } finally {
    process.umask(previous);
  }
  const f = caFiles(confdir);
  assert.equal(mode(confdir), 0o755);
  assert.equal(mode(f.key), 0o600);
  assert.equal(mode(f.certPem), 0o644);
  assert.equal(mode(f.certCer), 0o644);
});

/** Why the other-user test cannot run: it needs root to act as another user (setpriv). */
function otherUserUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root to read files as another user";
  const r = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"]);
  return r.status === 0 ? null : "setpriv is not available";
}

test("another user (as apt's _apt would be) reads the certificate but not the key", {
  skip: otherUserUnavailable() ?? false,
}, async () => {
  const root = tempDir("other-user");
  fs.chmodSync(root, 0o755); // a temporary directory is private; the confdir's parent must not be
  const confdir = path.join(root, "conf");
  await loadOrCreateCa(confdir);
  const f = caFiles(confdir);
  const asNobody = (file: string) =>
    spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "cat", file]);
  const cert = asNobody(f.certPem);
  assert.equal(cert.status, 0, String(cert.stderr));
  assert.equal(String(cert.stdout), fs.readFileSync(f.certPem, "utf8"));
  assert.equal(asNobody(f.certCer).status, 0);
  const key = asNobody(f.key);
  assert.notEqual(key.status, 0);
  assert.match(String(key.stderr), /Permission denied/);
});
