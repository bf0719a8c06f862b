/**
 * The CA certificate and the leaves it issues, read back with @peculiar/x509 and with
 * `openssl x509 -text`, and verified with `openssl verify -x509_strict -purpose sslserver`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CertificateAuthority } from "../../src/ca/mod.ts";
import { x509 } from "../../src/ca/x509.ts";
import {
  children,
  DAY,
  hex,
  openssl,
  opensslText,
  opensslVerify,
  rawNames,
  readTlv,
} from "./helpers.ts";

const SECOND = 1000;
const NOW = Date.UTC(2030, 5, 15, 12, 0, 0);

let shared: Promise<CertificateAuthority> | null = null;
/** One CA for the tests that only read it. */
function sharedCa(): Promise<CertificateAuthority> {
  return shared ??= CertificateAuthority.create().then((r) => r.ca);
}

function parse(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

function sanOf(cert: x509.X509Certificate): x509.SubjectAlternativeNameExtension {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  assert.ok(san, "the leaf has a subjectAltName extension");
  return san;
}

test("CA certificate: self-signed v3, subject and issuer name mitm.ts, ECDSA P-256", async () => {
  const { ca, keyPkcs8 } = await CertificateAuthority.create();
  const cert = parse(ca.certPem);
  assert.deepEqual(cert.subjectName.getField("CN"), ["mitm.ts CA"]);
  assert.deepEqual(cert.subjectName.getField("O"), ["mitm.ts"]);
  assert.equal(cert.issuer, cert.subject);
  assert.equal(await cert.isSelfSigned(), true);
  assert.equal(cert.publicKey.algorithm.name, "ECDSA");
  assert.equal((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve, "P-256");
  const text = await opensslText(ca.certPem);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Issuer: CN = mitm\.ts CA, O = mitm\.ts\n/);
  assert.match(text, /Subject: CN = mitm\.ts CA, O = mitm\.ts\n/);
  assert.match(text, /NIST CURVE: P-256/);
  // The PEM and the DER getters are the same certificate.
  assert.equal(hex(cert.rawData), hex(ca.certDer));
  // The key returned with it is the certificate's key: openssl derives the same public key.
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${
    btoa(String.fromCharCode(...keyPkcs8))
  }\n-----END PRIVATE KEY-----\n`;
  assert.equal(
    await openssl(["pkey", "-pubout"], keyPem),
    await openssl(["x509", "-noout", "-pubkey"], ca.certPem),
  );
});

test("CA certificate: BasicConstraints CA:TRUE and KeyUsage keyCertSign+cRLSign, both critical; SKI present", async () => {
  const ca = await sharedCa();
  const cert = parse(ca.certPem);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  assert.ok(bc);
  assert.equal(bc.ca, true);
  assert.equal(bc.critical, true);
  assert.equal(bc.pathLength, undefined);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  assert.ok(ku);
  assert.equal(ku.critical, true);
  assert.equal(ku.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  assert.ok(ski);
  assert.equal(ski.critical, false);
  assert.match(ski.keyId, /^[0-9a-f]{40}$/);
  // RFC 5280 4.2.1.2 method 1: the SHA-1 of the public key.
  assert.equal(ski.keyId, (await x509.SubjectKeyIdentifierExtension.create(cert.publicKey)).keyId);
  // Read independently by OpenSSL.
  const text = await opensslText(ca.certPem);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
  const m = /X509v3 Subject Key Identifier: *\n\s+([0-9A-F:]+)\n/.exec(text);
  assert.ok(m, text);
  assert.equal(m[1].replace(/:/g, "").toLowerCase(), ski.keyId);
  // A root OpenSSL accepts under its strict rules.
  const self = await opensslVerify(ca.certPem, ca.certPem, { purpose: null });
  assert.ok(self.ok, self.output);
});

test("CA certificate: valid for 10 years, starting 2 days back", async () => {
  const { ca } = await CertificateAuthority.create(NOW);
  const cert = parse(ca.certPem);
  assert.equal(cert.notBefore.getTime(), NOW - 2 * DAY);
  const notAfter = cert.notAfter;
  // Ten years on, give or take the leap days.
  assert.equal(notAfter.getUTCFullYear(), cert.notBefore.getUTCFullYear() + 10);
  const tenYears = new Date(cert.notBefore);
  tenYears.setUTCFullYear(tenYears.getUTCFullYear() + 10);
  assert.ok(Math.abs(notAfter.getTime() - tenYears.getTime()) <= 3 * DAY, notAfter.toISOString());
  const text = await opensslText(ca.certPem);
  assert.match(text, /Not Before: Jun 13 12:00:00 2030 GMT/);
  assert.match(text, /Not After : Jun 1[1-3] 12:00:00 2040 GMT/);

  // Without an explicit time: now, 2 days back.
  const before = Date.now();
  const fresh = parse((await CertificateAuthority.create()).ca.certPem);
  const after = Date.now();
  const nb = fresh.notBefore.getTime();
  assert.ok(
    nb >= before - 2 * DAY - SECOND && nb <= after - 2 * DAY,
    fresh.notBefore.toISOString(),
  );
});

test("leaf: SAN holds the DNS names and the IPv4 and IPv6 addresses; CN is the first name", async () => {
  const ca = await sharedCa();
  const names = ["example.test", "*.wild.test", "127.0.0.1", "::1", "2001:db8::42", "10.1.2.3"];
  const leaf = await ca.issue(names);
  assert.deepEqual(leaf.names, names);
  const cert = parse(leaf.certPem);
  assert.equal(cert.subject, "CN=example.test");
  const san = sanOf(cert);
  assert.equal(san.critical, false);
  assert.deepEqual(san.names.toJSON().map((n) => `${n.type}:${n.value}`), [
    "dns:example.test",
    "dns:*.wild.test",
    "ip:127.0.0.1",
    "ip:::1",
    "ip:2001:db8::42",
    "ip:10.1.2.3",
  ]);
  const text = await opensslText(leaf.certPem);
  assert.match(text, /Subject: CN = example\.test\n/);
  assert.match(
    text,
    /X509v3 Subject Alternative Name: *\n\s+DNS:example\.test, DNS:\*\.wild\.test, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:0:0:42, IP Address:10\.1\.2\.3\n/,
  );
});

test("leaf: an IP address can be the first name, and IPv4-embedded IPv6 names the same address", async () => {
  const ca = await sharedCa();
  const leaf = await ca.issue(["::ffff:1.2.3.4", "192.168.0.1"]);
  const text = await opensslText(leaf.certPem);
  assert.match(text, /Subject: CN = ::ffff:1\.2\.3\.4\n/);
  // ::ffff:1.2.3.4 is ::ffff:0102:0304, not ::ffff:0:1 (what the string once turned into).
  assert.match(
    text,
    /X509v3 Subject Alternative Name: *\n\s+IP Address:0:0:0:0:0:FFFF:102:304, IP Address:192\.168\.0\.1\n/,
  );
});

test("leaf: CN is the first name up to 64 characters; a longer one gives no CN and a critical SAN", async () => {
  const ca = await sharedCa();
  const label = (n: number) => "a".repeat(n - 5) + ".test";
  const at64 = parse((await ca.issue([label(64), "other.test"])).certPem);
  assert.deepEqual(at64.subjectName.getField("CN"), [label(64)]);
  assert.equal(sanOf(at64).critical, false);

  const long = await ca.issue([label(65), "other.test"]);
  const cert = parse(long.certPem);
  assert.equal(cert.subject, "");
  assert.deepEqual(cert.subjectName.getField("CN"), []);
  // An empty subject is an empty SEQUENCE.
  assert.equal(hex(rawNames(long.certDer).subject), "3000");
  const san = sanOf(cert);
  // RFC 5280 4.2.1.6: with an empty subject the SAN must be critical.
  assert.equal(san.critical, true);
  assert.deepEqual(san.names.toJSON().map((n) => n.value), [label(65), "other.test"]);
  // OpenSSL's strict mode rejects an empty subject with a non-critical SAN ("error 88").
  const v = await opensslVerify(ca.certPem, long.certPem);
  assert.ok(v.ok, v.output);
});

test("leaf: a name with DN special characters stays one CN value, unescaped", async () => {
  const ca = await sharedCa();
  // A client's SNI may hold any printable ASCII; none of it may split or alter the subject.
  for (const name of ["a+b.test", "x.test,O=evil", "back\\slash.test", "#hash.test", 'q"t.test']) {
    const leaf = await ca.issue([name]);
    const cert = parse(leaf.certPem);
    assert.deepEqual(cert.subjectName.getField("CN"), [name], name);
    assert.deepEqual(cert.subjectName.getField("O"), [], name);
    // One RDN with one attribute whose string is exactly the name's bytes.
    const subject = rawNames(leaf.certDer).subject;
    const rdns = children(readTlv(subject).tlv.content);
    assert.equal(rdns.length, 1, name);
    const attrs = children(rdns[0].content);
    assert.equal(attrs.length, 1, name);
    const [, value] = children(attrs[0].content);
    assert.equal(new TextDecoder().decode(value.content), name);
  }
});

test("leaf: EKU serverAuth, KeyUsage digitalSignature, CA:FALSE, AKI = the CA's SKI, no SKI", async () => {
  const ca = await sharedCa();
  const caCert = parse(ca.certPem);
  const caSki = caCert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
  const issued = await ca.issue(["eku.test"]);
  const leaf = parse(issued.certPem);
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  assert.ok(eku);
  assert.deepEqual([...eku.usages], [x509.ExtendedKeyUsage.serverAuth]);
  const ku = leaf.getExtension(x509.KeyUsagesExtension);
  assert.ok(ku);
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
  const bc = leaf.getExtension(x509.BasicConstraintsExtension);
  assert.ok(bc);
  assert.equal(bc.ca, false);
  const aki = leaf.getExtension(x509.AuthorityKeyIdentifierExtension);
  assert.ok(aki);
  assert.equal(aki.keyId, caSki);
  assert.equal(leaf.getExtension(x509.SubjectKeyIdentifierExtension), null);
  const text = await opensslText(issued.certPem);
  assert.match(text, /X509v3 Extended Key Usage: *\n\s+TLS Web Server Authentication\n/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /X509v3 Basic Constraints: *\n\s+CA:FALSE\n/);
  const m = /X509v3 Authority Key Identifier: *\n\s+(?:keyid:)?([0-9A-F:]+)\n/.exec(text);
  assert.ok(m, text);
  assert.equal(m[1].replace(/:/g, "").toLowerCase(), caSki);
  assert.doesNotMatch(text, /Subject Key Identifier/);
});

test("leaf: issuer name is the CA's subject, byte for byte", async () => {
  const ca = await sharedCa();
  const leaf = await ca.issue(["issuer.test"]);
  assert.equal(hex(rawNames(leaf.certDer).issuer), hex(rawNames(ca.certDer).subject));
});

test("leaf: valid from 2 days back for less than 200 days", async () => {
  const ca = await sharedCa();
  const leaf = await ca.issue(["time.test"], NOW);
  const cert = parse(leaf.certPem);
  assert.equal(cert.notBefore.getTime(), NOW - 2 * DAY);
  assert.equal(cert.notAfter.getTime(), leaf.notAfter.getTime());
  const span = cert.notAfter.getTime() - cert.notBefore.getTime();
  assert.ok(span < 200 * DAY, `${span / DAY} days`);
  assert.ok(span > 90 * DAY, `${span / DAY} days`);
  assert.match(await opensslText(leaf.certPem), /Not Before: Jun 13 12:00:00 2030 GMT/);

  const before = Date.now();
  const fresh = parse((await ca.issue(["now.test"])).certPem);
  const nb = fresh.notBefore.getTime();
  assert.ok(nb >= before - 2 * DAY - SECOND && nb <= Date.now() - 2 * DAY);
});

test("leaf: the signature verifies against its CA (openssl and @peculiar/x509), not another", async () => {
  const ca = await sharedCa();
  const other = (await CertificateAuthority.create()).ca;
  const leaf = await ca.issue(["verify.test", "127.0.0.1"]);
  const good = await opensslVerify(ca.certPem, leaf.certPem);
  assert.ok(good.ok, good.output);
  const bad = await opensslVerify(other.certPem, leaf.certPem);
  assert.equal(bad.ok, false, bad.output);
  assert.match(bad.output, /unable to get local issuer certificate/);

  const cert = parse(leaf.certPem);
  assert.equal(cert.signatureAlgorithm.name, "ECDSA");
  const caKey = parse(ca.certPem).publicKey;
  assert.equal(await cert.verify({ publicKey: caKey, signatureOnly: true }), true);
  const otherKey = parse(other.certPem).publicKey;
  assert.equal(await cert.verify({ publicKey: otherKey, signatureOnly: true }), false);
});

test("leaves of one CA share one key pair, which matches the key PEM; another CA has its own", async () => {
  const ca = await sharedCa();
  const leaves = await Promise.all(["k1.test", "k2.test", "k3.test"].map((n) => ca.issue([n])));
  const spki = leaves.map((l) => hex(parse(l.certPem).publicKey.rawData));
  assert.equal(new Set(spki).size, 1);
  assert.equal(new Set(leaves.map((l) => l.keyPem)).size, 1);
  assert.match(leaves[0].keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  // The key PEM is the private half of the certificates' public key.
  assert.equal(
    await openssl(["pkey", "-pubout"], leaves[0].keyPem),
    await openssl(["x509", "-noout", "-pubkey"], leaves[2].certPem),
  );
  const other = (await CertificateAuthority.create()).ca;
  const otherLeaf = await other.issue(["k1.test"]);
  assert.notEqual(hex(parse(otherLeaf.certPem).publicKey.rawData), spki[0]);
  // The CA's own key is not the leaves' key.
  assert.notEqual(hex(parse(ca.certPem).publicKey.rawData), spki[0]);
});

test("leaf: serial numbers are positive, 16 bytes long and distinct", async () => {
  const ca = await sharedCa();
  const serials = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const serial = parse((await ca.issue(["serial.test"])).certPem).serialNumber;
    assert.match(serial, /^[0-7][0-9a-f]{31}$/);
    assert.notEqual(serial.slice(0, 2), "00");
    serials.add(serial);
  }
  assert.equal(serials.size, 10);
});

test("load(): a CA from its certificate DER and PKCS#8 key issues leaves that verify", async () => {
  const { ca, keyPkcs8 } = await CertificateAuthority.create();
  const loaded = await CertificateAuthority.load(ca.certDer, keyPkcs8);
  assert.equal(loaded.certPem, ca.certPem);
  const leaf = await loaded.issue(["loaded.test"]);
  const v = await opensslVerify(ca.certPem, leaf.certPem);
  assert.ok(v.ok, v.output);
  await assert.rejects(CertificateAuthority.load(ca.certDer, new Uint8Array([0x30, 0x00])));
});

test("issue() with no names rejects", async () => {
  const ca = await sharedCa();
  await assert.rejects(ca.issue([]), /at least one name/);
});

test("RSA leaves: one shared RSA-2048 key made on first need, keyEncipherment, signed by the CA", async () => {
  const ca = (await CertificateAuthority.create()).ca;
  const ecdsa = await ca.issue(["rsa.test"]);
  const rsa = await Promise.all(
    ["rsa.test", "rsa2.test"].map((n) => ca.issue([n], Date.now(), "rsa")),
  );
  assert.equal(ecdsa.keyType, "ecdsa");
  assert.deepEqual(rsa.map((l) => l.keyType), ["rsa", "rsa"]);
  const certs = rsa.map((l) => parse(l.certPem));
  assert.equal(new Set(certs.map((c) => hex(c.publicKey.rawData))).size, 1, "one shared key");
  assert.notEqual(rsa[0].keyPem, ecdsa.keyPem);
  const key = await certs[0].publicKey.export();
  assert.equal(key.algorithm.name, "RSASSA-PKCS1-v1_5");
  assert.equal((key.algorithm as RsaHashedKeyAlgorithm).modulusLength, 2048);
  const usage = certs[0].getExtension(x509.KeyUsagesExtension)!;
  assert.equal(
    usage.usages,
    x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
  );
  // openssl agrees: the chain verifies, and the key PEM is the certificate's RSA key.
  const good = await opensslVerify(ca.certPem, rsa[0].certPem);
  assert.ok(good.ok, good.output);
  assert.match(rsa[0].keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
});
