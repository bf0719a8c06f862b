/** PEM armour (pem.ts) and the PKCS#1 to PKCS#8 wrapping (der.ts), checked against openssl. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parsePem, pkcs1ToPkcs8, toPem } from "../../src/ca/mod.ts";
import { tlv } from "../../src/ca/der.ts";
import { hex, openssl, put, run, tempDir } from "./helpers.ts";

test("pkcs1ToPkcs8 gives the bytes of `openssl pkey` (PKCS#8 PrivateKeyInfo) for RSA keys", async () => {
  for (const bits of ["1024", "2048"]) {
    const pkcs1Pem = await openssl(["genrsa", "-traditional", bits]);
    const [pkcs1] = parsePem(pkcs1Pem);
    assert.equal(pkcs1.label, "RSA PRIVATE KEY");
    const dir = tempDir("pkcs8");
    const file = put(dir, "key.pem", pkcs1Pem);
    const [expected] = parsePem(await openssl(["pkey", "-in", file]));
    assert.equal(expected.label, "PRIVATE KEY");
    assert.equal(hex(pkcs1ToPkcs8(pkcs1.der)), hex(expected.der), `${bits} bits`);
    // And WebCrypto takes it.
    const key = await crypto.subtle.importKey(
      "pkcs8",
      new Uint8Array(pkcs1ToPkcs8(pkcs1.der)),
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["sign"],
    );
    assert.equal((key.algorithm as RsaHashedKeyAlgorithm).modulusLength, Number(bits));
  }
});

test("tlv: short and long definite lengths", () => {
  assert.equal(hex(tlv(0x04, new Uint8Array(0))), "0400");
  assert.equal(hex(tlv(0x04, new Uint8Array(0x7f))).slice(0, 4), "047f");
  assert.equal(hex(tlv(0x04, new Uint8Array(0x80))).slice(0, 6), "048180");
  assert.equal(hex(tlv(0x04, new Uint8Array(0xff))).slice(0, 6), "0481ff");
  assert.equal(hex(tlv(0x04, new Uint8Array(0x100))).slice(0, 8), "04820100");
  assert.equal(hex(tlv(0x04, new Uint8Array(0x10000))).slice(0, 10), "0483010000");
  assert.equal(tlv(0x30, new Uint8Array(0x10000)).length, 5 + 0x10000);
});

test("toPem: 64-character base64 lines that openssl reads back to the same DER", async () => {
  const der = crypto.getRandomValues(new Uint8Array(1000));
  const pem = toPem("CERTIFICATE", der);
  const lines = pem.trimEnd().split("\n");
  assert.equal(lines[0], "-----BEGIN CERTIFICATE-----");
  assert.equal(lines.at(-1), "-----END CERTIFICATE-----");
  for (const l of lines.slice(1, -2)) assert.equal(l.length, 64);
  assert.ok(lines.at(-2)!.length <= 64 && lines.at(-2)!.length > 0);
  assert.ok(pem.endsWith("\n"));
  // openssl base64 -d of the body gives the bytes back.
  const dir = tempDir("pem");
  const file = put(dir, "body.b64", lines.slice(1, -1).join("\n") + "\n");
  const r = await run("openssl", ["base64", "-d", "-in", file, "-out", file + ".der"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(hex(readFileSync(file + ".der")), hex(der));
});

test("parsePem: every block in order, CRLF and surrounding text tolerated, mismatched END ignored", async () => {
  const cert = await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "/dev/null",
    "-subj",
    "/CN=pem",
    "-days",
    "1",
  ]);
  const dir = tempDir("pem");
  const certDer = await run("openssl", [
    "x509",
    "-in",
    put(dir, "c.pem", cert),
    "-outform",
    "DER",
    "-out",
    `${dir}/c.der`,
  ]);
  assert.equal(certDer.code, 0);
  const der = new Uint8Array(readFileSync(`${dir}/c.der`));
  const text = "Bag Attributes: junk\r\n" + cert.replace(/\n/g, "\r\n") + "\n" +
    toPem("PRIVATE KEY", Uint8Array.of(1, 2, 3)) +
    "-----BEGIN X-----\nAAAA\n-----END Y-----\n";
  const blocks = parsePem(text);
  assert.deepEqual(blocks.map((b) => b.label), ["CERTIFICATE", "PRIVATE KEY"]);
  assert.equal(hex(blocks[0].der), hex(der));
  assert.equal(hex(blocks[1].der), "010203");
  assert.deepEqual(parsePem("no pem here"), []);
});
