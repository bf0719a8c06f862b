/**
 * The certificate authority as a user meets it: created in a fresh confdir (0755, the key 0600),
 * kept across restarts, printed by `mitm ca path` / `mitm ca export`, served by http://mitm.it,
 * and a mitmproxy CA already in the confdir used as it is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testCa } from "../fixtures/ca.ts";
import { cliArgv, run, runBytes, startProxyProcess } from "./helpers.ts";
import {
  certInfo,
  curlVia,
  httpsOrigin,
  makeOriginCert,
  openssl,
  pemToDer,
  sClient,
  sha256,
  signedBy,
  tempDir,
  withProxy,
} from "./https_helpers.ts";

function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return run(cmd, argv, { timeoutMs: 30_000 });
}

function mitmBytes(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return runBytes(cmd, argv, { timeoutMs: 30_000 });
}

test("a new confdir gets a private CA that survives a restart; ca path and ca export print it", {
  timeout: 90_000,
}, async () => {
  const tmp = tempDir();
  const confdir = join(tmp.dir, "conf"); // does not exist yet: the proxy creates it
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const trust = ["--set", `ssl_verify_upstream_trusted_ca=${cert.caFile}`];
  const url = `https://localhost:${origin.port}/restart`;
  try {
    // First start: creates the CA.
    let proxy = await startProxyProcess(["--confdir", confdir, ...trust]);
    let firstLeaf: string;
    const certPemFile = join(confdir, "mitm-ca-cert.pem");
    try {
      assert.match(proxy.output(), /created a new certificate authority/);
      assert.equal(statSync(confdir).mode & 0o777, 0o755, "confdir mode");
      assert.equal(statSync(join(confdir, "mitm-ca.pem")).mode & 0o777, 0o600, "key file mode");
      const r = await curlVia(proxy.url, ["--cacert", certPemFile, url]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /GET \/restart/);
      const s = await sClient({
        proxyPort: proxy.port,
        connect: `localhost:${origin.port}`,
        servername: "localhost",
        caFile: certPemFile,
      });
      assert.equal(s.verifyCode, 0, s.output);
      firstLeaf = s.certs[0];
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
    const exported = await mitm(["ca", "export", "--confdir", confdir]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout, readFileSync(certPemFile, "utf8"));
    const caCert = certInfo(exported.stdout);
    assert.ok(caCert.isCa);
    assert.ok(await signedBy(certInfo(firstLeaf), exported.stdout));

    // Second start with the same confdir: same CA, no new one.
    proxy = await startProxyProcess(["--confdir", confdir, ...trust]);
    try {
      assert.doesNotMatch(proxy.output(), /created a new certificate authority/);
      const r = await curlVia(proxy.url, ["--cacert", certPemFile, url]);
      assert.equal(r.code, 0, r.stderr);
      const s = await sClient({
        proxyPort: proxy.port,
        connect: `localhost:${origin.port}`,
        servername: "localhost",
        caFile: certPemFile,
      });
      assert.equal(s.verifyCode, 0, s.output);
      const leaf = certInfo(s.certs[0]);
      assert.equal(leaf.issuer, caCert.subject);
      // The handshake presents the leaf alone: the client's trust in the CA completes the path
      // (RFC 8446 section 4.4.2 lets the trust anchor be left out; see Leaf in ca/authority.ts).
      assert.equal(s.certs.length, 1, s.output);
      assert.ok(await signedBy(leaf, exported.stdout), "chains to the CA of the first run");
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
    const again = await mitm(["ca", "export", "--confdir", confdir]);
    assert.equal(again.stdout, exported.stdout, "the CA did not change");

    const path = await mitm(["ca", "path", "--confdir", confdir]);
    assert.equal(path.code, 0, path.stderr);
    assert.equal(path.stdout.trim(), certPemFile);

    const der = await mitmBytes(["ca", "export", "--format", "der", "--confdir", confdir]);
    assert.equal(der.code, 0, der.stderr);
    const cer = new Uint8Array(readFileSync(join(confdir, "mitm-ca-cert.cer")));
    assert.equal(sha256(der.stdout), sha256(cer));
    assert.equal(sha256(der.stdout), sha256(pemToDer(exported.stdout)));
    assert.equal(statSync(join(confdir, "mitm-ca.pem")).mode & 0o777, 0o600);
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("a mitmproxy CA (PKCS#1 RSA key) in the confdir is used as it is", {
  timeout: 90_000,
}, async () => {
  const tmp = tempDir();
  const confdir = join(tmp.dir, "mitmproxy-conf");
  await openssl(["genrsa", "-traditional", "-out", join(tmp.dir, "ca.key"), "2048"]);
  mkdirSync(confdir, { mode: 0o700 });
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    join(tmp.dir, "ca.key"),
    "-out",
    join(tmp.dir, "ca.crt"),
    "-days",
    "30",
    "-subj",
    "/CN=mitmproxy/O=mitmproxy",
    "-addext",
    "basicConstraints=critical,CA:true",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const keyPem = readFileSync(join(tmp.dir, "ca.key"), "utf8");
  assert.match(keyPem, /^-----BEGIN RSA PRIVATE KEY-----/, "PKCS#1, as mitmproxy writes it");
  const caPem = readFileSync(join(tmp.dir, "ca.crt"), "utf8");
  writeFileSync(join(confdir, "mitmproxy-ca.pem"), keyPem + caPem, { mode: 0o600 });
  writeFileSync(join(confdir, "mitmproxy-ca-cert.pem"), caPem);

  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const proxy = await startProxyProcess([
    "--confdir",
    confdir,
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
  ]);
  try {
    const trusted = join(confdir, "mitmproxy-ca-cert.pem");
    assert.match(proxy.output(), new RegExp(`clients must trust ${trusted}`));
    const r = await curlVia(proxy.url, [
      "-v",
      "--cacert",
      trusted,
      `https://localhost:${origin.port}/mitmproxy-ca`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from the origin: GET \/mitmproxy-ca/);
    assert.match(r.stderr, /issuer: CN=mitmproxy; O=mitmproxy/);
    assert.equal(existsSync(join(confdir, "mitm-ca.pem")), false, "no CA of our own was made");

    const path = await mitm(["ca", "path", "--confdir", confdir]);
    assert.equal(path.stdout.trim(), trusted);
    const exported = await mitm(["ca", "export", "--confdir", confdir]);
    assert.equal(sha256(pemToDer(exported.stdout)), sha256(pemToDer(caPem)));
  } finally {
    await proxy.stop();
    await origin.close();
    tmp.remove();
  }
});

test("http://mitm.it serves the install page and the CA certificate as PEM and DER", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const ca = await testCa();
  try {
    await withProxy({}, async (proxy) => {
      const page = await curlVia(proxy.url, ["-i", "http://mitm.it/"]);
      assert.equal(page.code, 0, page.stderr);
      assert.match(page.stdout, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(page.stdout, /Content-Type: text\/html/i);
      assert.match(page.stdout, /<a href="\/cert\/pem">/);
      assert.match(page.stdout, /<a href="\/cert\/cer">/);
      assert.ok(page.stdout.includes(ca.certPemFile), "names the certificate file");

      const pem = await curlVia(proxy.url, ["http://mitm.it/cert/pem"]);
      assert.equal(pem.code, 0, pem.stderr);
      assert.equal(pem.stdout, readFileSync(ca.certPemFile, "utf8"));

      const cerFile = join(tmp.dir, "ca.cer");
      const cer = await curlVia(proxy.url, ["-o", cerFile, "http://mitm.it/cert/cer"]);
      assert.equal(cer.code, 0, cer.stderr);
      const got = new Uint8Array(readFileSync(cerFile));
      assert.equal(sha256(got), sha256(ca.ca.certDer));
      assert.equal(sha256(got), sha256(new Uint8Array(readFileSync(ca.certCerFile))));

      // Over HTTPS too, for a client that already trusts the CA (no origin is contacted).
      const secure = await curlVia(proxy.url, [
        "--cacert",
        ca.certPemFile,
        "https://mitm.it/cert/pem",
      ]);
      assert.equal(secure.code, 0, secure.stderr);
      assert.equal(secure.stdout, ca.ca.certPem);

      const missing = await curlVia(proxy.url, ["-w", " %{http_code}", "http://mitm.it/nope"]);
      assert.match(missing.stdout, / 404$/);
    });
  } finally {
    tmp.remove();
  }
});
