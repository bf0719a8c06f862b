/**
 * Clients that offer no ECDSA option (no ECDHE-ECDSA suite, no ECDSA signature algorithm) get an
 * RSA-2048 leaf they can use; everyone else keeps the ECDSA P-256 leaf. Real clients (curl,
 * openssl s_client) through the proxy to a real HTTPS origin.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../src/runtime/mod.ts";
import { run } from "./helpers.ts";
import {
  curlVia,
  httpsOrigin,
  makeOriginCert,
  tempDir,
  testCaFile,
  withProxy,
} from "./https_helpers.ts";

/** openssl s_client through the proxy; sends one GET and returns everything it printed. */
async function sClientGet(proxyPort: number, originPort: number, extra: string[]) {
  const r = await run("openssl", [
    "s_client",
    "-proxy",
    `127.0.0.1:${proxyPort}`,
    "-connect",
    `localhost:${originPort}`,
    "-servername",
    "localhost",
    "-CAfile",
    await testCaFile(),
    "-ign_eof",
    ...extra,
  ], {
    timeoutMs: 30_000,
    input: "GET /s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
  });
  return r.stdout + r.stderr;
}

test("clients without ECDSA get an RSA-2048 leaf; others an ECDSA one; both leaves cached", {
  timeout: 120_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const url = `https://localhost:${origin.port}/page`;
  const cacert = ["--cacert", await testCaFile()];
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy, log) => {
      // RSA-only signature algorithms (TLS 1.3): the leaf's key must sign with RSA.
      const rsaSig = await sClientGet(proxy.address.port, origin.port, [
        "-sigalgs",
        "RSA-PSS+SHA256:RSA+SHA256",
      ]);
      assert.match(rsaSig, /Verify return code: 0 \(ok\)/, rsaSig);
      assert.match(rsaSig, /Server public key is 2048 bit/, rsaSig);
      assert.match(rsaSig, /hello from the origin: GET \/s/, rsaSig);

      // TLS 1.2 with rsa_pkcs1_sha256 as the only signature algorithm (TLS 1.3 forbids PKCS#1
      // v1.5 signatures in the handshake, so this needs TLS 1.2).
      const pkcs1 = await sClientGet(proxy.address.port, origin.port, [
        "-tls1_2",
        "-sigalgs",
        "RSA+SHA256",
      ]);
      assert.match(pkcs1, /Verify return code: 0 \(ok\)/, pkcs1);
      assert.match(pkcs1, /Server public key is 2048 bit/, pkcs1);
      assert.match(pkcs1, /hello from the origin: GET \/s/, pkcs1);

      // TLS 1.2 with an ECDHE-RSA suite only (both runtimes' TLS stacks have it).
      const ecdheRsa = await curlVia(proxy.url, [
        ...cacert,
        "--tls-max",
        "1.2",
        "--ciphers",
        "ECDHE-RSA-AES128-GCM-SHA256",
        url,
      ]);
      assert.equal(ecdheRsa.code, 0, `${ecdheRsa.stderr}\n${log.join("\n")}`);
      assert.match(ecdheRsa.stdout, /hello from the origin: GET \/page/);

      // A default client keeps the cheaper ECDSA leaf.
      const ec = await sClientGet(proxy.address.port, origin.port, []);
      assert.match(ec, /Verify return code: 0 \(ok\)/, ec);
      assert.match(ec, /Server public key is 256 bit/, ec);
      // One leaf per key type for the host, each issued once.
      assert.equal(proxy.ca.leaves.issued, 2);

      // AES128-SHA (RSA key exchange, CBC): Bun's BoringSSL serves it with the RSA leaf. Deno's
      // node:tls is rustls, which has no such suite: the handshake fails, and the log says why.
      const plainRsa = await curlVia(proxy.url, [
        ...cacert,
        "--tls-max",
        "1.2",
        "--ciphers",
        "AES128-SHA",
        url,
      ]);
      if (runtime.name === "bun") {
        assert.equal(plainRsa.code, 0, `${plainRsa.stderr}\n${log.join("\n")}`);
        assert.match(plainRsa.stdout, /hello from the origin: GET \/page/);
      } else {
        assert.notEqual(plainRsa.code, 0);
        // The proxy goes on serving.
        const again = await curlVia(proxy.url, [...cacert, url]);
        assert.equal(again.code, 0, again.stderr);
      }
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
