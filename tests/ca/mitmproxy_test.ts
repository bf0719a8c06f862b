/**
 * A mitmproxy CA (mitmproxy-ca.pem: an RSA key in PKCS#1, "BEGIN RSA PRIVATE KEY", then the
 * certificate), made here with openssl as mitmproxy makes it, is used as it is: no mitm.ts CA is
 * written next to it and the leaves verify against mitmproxy-ca-cert.pem.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { caFiles, loadOrCreateCa, parsePem, readCaFile } from "../../src/ca/mod.ts";
import { x509 } from "../../src/ca/x509.ts";
import { hex, openssl, opensslText, opensslVerify, put, rawNames, tempDir } from "./helpers.ts";

/** openssl req arguments for a self-signed CA certificate like mitmproxy's. */
function caReq(keyFile: string, subject: string, extra: string[] = []): string[] {
  return [
    "req",
    "-x509",
    "-new",
    "-key",
    keyFile,
    "-sha256",
    "-days",
    "3650",
    "-subj",
    subject,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    ...extra,
  ];
}

let made: Promise<{ keyPkcs1: string; keyPkcs8: string; certPem: string }> | null = null;

/** One RSA 2048 key (PKCS#1 and PKCS#8 forms) and its CA certificate, subject as mitmproxy's. */
function mitmproxyMaterial() {
  return made ??= (async () => {
    const dir = tempDir("mitmproxy-key");
    const keyPkcs1 = await openssl(["genrsa", "-traditional", "2048"]);
    const keyFile = put(dir, "key.pem", keyPkcs1);
    const keyPkcs8 = await openssl(["pkey", "-in", keyFile]);
    const certPem = await openssl(caReq(keyFile, "/CN=mitmproxy/O=mitmproxy"));
    fs.rmSync(dir, { recursive: true, force: true });
    return { keyPkcs1, keyPkcs8, certPem };
  })();
}

/** A confdir holding mitmproxy's three files. */
async function mitmproxyConfdir(keyForm: "pkcs1" | "pkcs8" = "pkcs1"): Promise<string> {
  const m = await mitmproxyMaterial();
  const dir = tempDir("mitmproxy");
  put(dir, "mitmproxy-ca.pem", (keyForm === "pkcs1" ? m.keyPkcs1 : m.keyPkcs8) + m.certPem);
  put(dir, "mitmproxy-ca-cert.pem", m.certPem);
  put(dir, "mitmproxy-ca-cert.cer", parsePem(m.certPem)[0].der);
  return dir;
}

test("the openssl-made mitmproxy CA has the shape of mitmproxy's", async () => {
  const m = await mitmproxyMaterial();
  assert.match(m.keyPkcs1, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.match(m.keyPkcs8, /^-----BEGIN PRIVATE KEY-----\n/);
  const text = await opensslText(m.certPem);
  assert.match(text, /Subject: CN = mitmproxy, O = mitmproxy\n/);
  assert.match(text, /CA:TRUE/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
});

test("loadOrCreateCa uses mitmproxy-ca.pem as it is and writes no mitm.ts CA", async () => {
  const dir = await mitmproxyConfdir();
  const before = Object.fromEntries(
    fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n), "utf8")]),
  );
  const loaded = await loadOrCreateCa(dir);
  const f = caFiles(dir);
  assert.equal(loaded.origin, "mitmproxy");
  assert.equal(loaded.created, false);
  assert.equal(loaded.keyFile, f.mitmproxyKey);
  assert.equal(loaded.certPemFile, path.join(dir, "mitmproxy-ca-cert.pem"));
  assert.equal(loaded.certCerFile, path.join(dir, "mitmproxy-ca-cert.cer"));
  assert.equal(loaded.ca.certPem, (await mitmproxyMaterial()).certPem);
  // Not a byte added, changed or removed.
  const after = Object.fromEntries(
    fs.readdirSync(dir).map((n) => [n, fs.readFileSync(path.join(dir, n), "utf8")]),
  );
  assert.deepEqual(after, before);
  assert.equal(fs.existsSync(f.key), false);
  assert.equal(fs.existsSync(f.certPem), false);
  // And the same again on the next start.
  const again = await loadOrCreateCa(dir);
  assert.equal(again.origin, "mitmproxy");
  assert.equal(fs.existsSync(f.key), false);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("leaves from the mitmproxy (RSA) CA verify against mitmproxy-ca-cert.pem with openssl", async () => {
  const dir = await mitmproxyConfdir();
  const loaded = await loadOrCreateCa(dir);
  const caPem = fs.readFileSync(loaded.certPemFile, "utf8");
  const leaf = await loaded.ca.issue(["mitmproxy.test", "127.0.0.1", "::1"]);
  const v = await opensslVerify(caPem, leaf.certPem);
  assert.ok(v.ok, v.output);
  const text = await opensslText(leaf.certPem);
  assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  assert.match(text, /Issuer: CN = mitmproxy, O = mitmproxy\n/);
  assert.match(text, /Subject: CN = mitmproxy\.test\n/);
  assert.match(text, /DNS:mitmproxy\.test, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1\n/);
  // The leaf key is still the shared ECDSA P-256 one.
  assert.match(text, /NIST CURVE: P-256/);
  const cert = new x509.X509Certificate(leaf.certPem);
  const caCert = new x509.X509Certificate(caPem);
  assert.equal(
    await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true }),
    true,
  );
  // AKI is the SKI openssl put in the CA certificate.
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  assert.ok(ski);
  assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, ski.keyId);
  // The issuer field is the CA's subject in its own encoding (UTF8String, as mitmproxy's), not a
  // re-encoding of it (RFC 5280 4.1.2.6; Go's crypto/x509 matches these bytes exactly).
  assert.equal(
    hex(rawNames(leaf.certDer).issuer),
    hex(rawNames(new Uint8Array(caCert.rawData)).subject),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a mitmproxy CA with a PKCS#8 key works the same", async () => {
  const dir = await mitmproxyConfdir("pkcs8");
  const loaded = await loadOrCreateCa(dir);
  assert.equal(loaded.origin, "mitmproxy");
  const leaf = await loaded.ca.issue(["pkcs8.test"]);
  const v = await opensslVerify(fs.readFileSync(loaded.certPemFile, "utf8"), leaf.certPem);
  assert.ok(v.ok, v.output);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("an RSA CA without a SKI: the leaf's AKI is the SHA-1 of the CA's public key", async () => {
  const m = await mitmproxyMaterial();
  const dir = tempDir("noski");
  const keyFile = put(dir, "key.pem", m.keyPkcs1);
  const certPem = await openssl(
    caReq(keyFile, "/CN=no ski CA", [
      "-addext",
      "subjectKeyIdentifier=none",
      "-addext",
      "authorityKeyIdentifier=none",
    ]),
  );
  assert.doesNotMatch(await opensslText(certPem), /Key Identifier/);
  const caFile = put(dir, "ca.pem", m.keyPkcs1 + certPem);
  const ca = await readCaFile(caFile);
  const leaf = await ca.issue(["noski.test"]);
  const expected = await x509.SubjectKeyIdentifierExtension.create(
    new x509.X509Certificate(certPem).publicKey,
  );
  const cert = new x509.X509Certificate(leaf.certPem);
  assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, expected.keyId);
  // Not -x509_strict: that refuses the CA itself for its missing SKI.
  const v = await opensslVerify(certPem, leaf.certPem, { strict: false });
  assert.ok(v.ok, v.output);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a mitm.ts CA next to a mitmproxy one wins", async () => {
  const dir = await mitmproxyConfdir();
  const ours = await loadOrCreateCa(tempDir("ours"));
  fs.copyFileSync(ours.keyFile, path.join(dir, "mitm-ca.pem"));
  const loaded = await loadOrCreateCa(dir);
  assert.equal(loaded.origin, "mitm.ts");
  assert.equal(loaded.ca.certPem, ours.ca.certPem);
  assert.equal(loaded.certPemFile, path.join(dir, "mitm-ca-cert.pem"));
  fs.rmSync(dir, { recursive: true, force: true });
});

test("mitmproxy-ca.pem without its certificate: CaFileError naming the file", async () => {
  const dir = tempDir("mitmproxy-bad");
  put(dir, "mitmproxy-ca.pem", (await mitmproxyMaterial()).keyPkcs1);
  await assert.rejects(loadOrCreateCa(dir), (e) => {
    assert.equal((e as Error).name, "CaFileError");
    assert.ok((e as Error).message.includes(path.join(dir, "mitmproxy-ca.pem")));
    return true;
  });
  assert.deepEqual(fs.readdirSync(dir), ["mitmproxy-ca.pem"]);
  fs.rmSync(dir, { recursive: true, force: true });
});
