/**
 * A failed client handshake is logged with its cause, once per host and cause: a client that offers
 * only TLS 1.1, a client with no cipher suite in common, and clients that do not trust the CA
 * (curl without --cacert). Real clients through the proxy, on both runtimes. (An h2-only client
 * is no failure: the proxy speaks HTTP/2; one offering only protocols it does not know gets no
 * ALPN and speaks HTTP/1.1.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { run } from "./helpers.ts";
import {
  curlVia,
  eventually,
  httpsOrigin,
  makeOriginCert,
  tempDir,
  testCaFile,
  withProxy,
} from "./https_helpers.ts";

async function sClient(proxyPort: number, originPort: number, extra: string[]): Promise<void> {
  await run("openssl", [
    "s_client",
    "-proxy",
    `127.0.0.1:${proxyPort}`,
    "-connect",
    `127.0.0.1:${originPort}`,
    "-servername",
    "localhost",
    "-CAfile",
    await testCaFile(),
    ...extra,
  ], { timeoutMs: 30_000, input: "" });
}

const TLS_1_1_ONLY = ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"];

/**
 * The explained log lines about the client handshake for localhost (not the debug line with the
 * TLS stack's own words, "TLS with the client for localhost:PORT failed: ...").
 */
function failureLines(log: string[]): string[] {
  return log.filter((l) =>
    /for localhost/.test(l) && /handshake|trust|certificate/.test(l) &&
    !/^TLS with the client for /.test(l)
  );
}

test("handshake failures name their cause, once per host and cause", {
  timeout: 120_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const url = `https://localhost:${origin.port}/`;
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy, log) => {
      const port = proxy.address.port;
      // TLS 1.1 at most (OpenSSL needs security level 0 to offer it), twice: one line.
      await sClient(port, origin.port, TLS_1_1_ONLY);
      await sClient(port, origin.port, TLS_1_1_ONLY);
      assert.ok(await eventually(() => failureLines(log).length >= 1), log.join("\n"));
      let lines = failureLines(log);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0], /the client offers only TLS 1\.1 or older, the proxy needs TLS 1\.2/);
      assert.doesNotMatch(lines[0], /trust/);

      // No cipher suite in common (AES128-SHA256: neither Bun's default list nor rustls has it).
      await sClient(port, origin.port, ["-tls1_2", "-cipher", "AES128-SHA256"]);
      assert.ok(await eventually(() => failureLines(log).length >= 2), log.join("\n"));
      lines = failureLines(log);
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(lines[1], /no cipher suite, key exchange or signature algorithm in common/);
      assert.doesNotMatch(lines[1], /trust/);

      // curl without the CA, TLS 1.2: its unknown_ca alert says it does not trust the CA.
      const untrusted = await curlVia(proxy.url, ["--tls-max", "1.2", url]);
      assert.notEqual(untrusted.code, 0);
      assert.ok(await eventually(() => failureLines(log).length >= 3), log.join("\n"));
      lines = failureLines(log);
      assert.equal(lines.length, 3, lines.join("\n"));
      assert.match(
        lines[2],
        /^client does not trust the mitm\.ts CA for localhost \(it sent the alert unknown_ca\)/,
      );

      // The same failures again add nothing.
      await sClient(port, origin.port, TLS_1_1_ONLY);
      await curlVia(proxy.url, ["--tls-max", "1.2", url]);
      // TLS 1.3 curl without the CA: Deno reads its alert (unknown_ca, already logged); Bun
      // cannot decode it and says so, blaming the CA only as the likely cause.
      await curlVia(proxy.url, [url]);
      await new Promise((r) => setTimeout(r, 500));
      lines = failureLines(log);
      assert.ok(lines.length === 3 || lines.length === 4, lines.join("\n"));
      if (lines.length === 4) {
        assert.match(lines[3], /rejected our certificate for localhost with an alert/);
      }

      // The proxy still serves a client that trusts it.
      const ok = await curlVia(proxy.url, ["--cacert", await testCaFile(), url]);
      assert.equal(ok.code, 0, ok.stderr);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
