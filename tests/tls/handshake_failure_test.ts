/**
 * describeHandshakeFailure (src/tls/handshake_failure.ts) on the errors Bun (BoringSSL) and Deno
 * (rustls) report for real clients (the messages below were seen with curl and openssl s_client
 * through the proxy): "does not trust the CA" only for the alerts that mean it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClientHello } from "../../src/tls/client_hello.ts";
import { describeHandshakeFailure } from "../../src/tls/handshake_failure.ts";

function hello(over: Partial<ClientHello> = {}): ClientHello {
  return {
    sni: "x.test",
    alpn: ["http/1.1"],
    versions: [0x0304, 0x0303],
    cipherSuites: [0x1301, 0xc02b],
    signatureAlgorithms: [0x0403],
    length: 300,
    ...over,
  };
}

const cases: [string, string, string, Partial<ClientHello>, string][] = [
  ["tls", "TLS handshake failed: received fatal alert: UnknownCA", "untrusted", {}, "deno"],
  [
    "tls",
    "TLS handshake failed: error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA",
    "untrusted",
    {},
    "bun",
  ],
  ["tls", "TLS handshake failed: received fatal alert: BadCertificate", "untrusted", {}, "deno"],
  [
    "tls",
    "TLS handshake failed: error:10000416:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "untrusted",
    {},
    "bun",
  ],
  [
    "tls",
    "TLS handshake failed: error:10000070:SSL routines:OPENSSL_internal:BAD_PACKET_LENGTH",
    "untrusted-probably",
    {},
    "bun, TLS 1.3 client alert",
  ],
  [
    "tls",
    "TLS handshake failed: peer doesn't support any known protocol",
    "alpn",
    { alpn: ["h2"] },
    "deno",
  ],
  [
    "tls",
    "TLS handshake failed: error:10000133:SSL routines:OPENSSL_internal:NO_APPLICATION_PROTOCOL",
    "alpn",
    { alpn: ["h2"] },
    "bun",
  ],
  [
    "tls",
    "TLS handshake failed: error:100000b8:SSL routines:OPENSSL_internal:NO_SHARED_CIPHER",
    "cipher",
    {},
    "bun",
  ],
  ["tls", "TLS handshake failed: peer is incompatible: NoKxGroupsInCommon", "cipher", {}, "deno"],
  [
    "tls",
    "TLS handshake failed: peer is incompatible: NoSignatureSchemesInCommon",
    "cipher",
    {},
    "deno",
  ],
  [
    "tls",
    "TLS handshake failed: peer is incompatible: SignatureAlgorithmsExtensionRequired",
    "version",
    { versions: [0x0302] },
    "deno, TLS 1.1 client",
  ],
  [
    "tls",
    "TLS handshake failed: error:100000f0:SSL routines:OPENSSL_internal:UNSUPPORTED_PROTOCOL",
    "version",
    { versions: [0x0302] },
    "bun",
  ],
  [
    "closed",
    "connection closed during the TLS handshake after our certificate",
    "closed-after-certificate",
    {},
    "deno",
  ],
  [
    "closed",
    "connection closed during the TLS handshake before our certificate",
    "closed-early",
    {},
    "deno",
  ],
  [
    "closed",
    "connection closed during the TLS handshake: EPIPE: broken pipe, read",
    "closed",
    {},
    "bun",
  ],
  ["timeout", "TLS handshake not done after 10000 ms", "timeout", {}, "both"],
  ["tls", "TLS handshake failed: something new", "other", {}, "both"],
];

test("each failure gets its cause; only trust alerts (and a close after our certificate) blame the CA", () => {
  for (const [code, message, reason, over, seen] of cases) {
    const f = describeHandshakeFailure("x.test", code, message, hello(over));
    const what = `${seen}: ${message}`;
    assert.equal(f.reason, reason, what);
    assert.ok(f.text.includes("x.test"), what);
    assert.ok(!f.text.includes("\n"), what);
    const blames = /(does|do|may) not trust the mitm\.ts CA/.test(f.text);
    const mayBlame = ["untrusted", "untrusted-probably", "closed-after-certificate", "closed"];
    assert.equal(blames, mayBlame.includes(reason), what);
    // Only a definite alert says so without a hedge.
    assert.equal(/^client does not trust/.test(f.text), reason === "untrusted", what);
  }
});

test("the texts name the alert, the offered protocols and versions", () => {
  const unknownCa = describeHandshakeFailure(
    "a.test",
    "tls",
    "TLS handshake failed: error:10000418:SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA",
    hello(),
  );
  assert.match(unknownCa.text, /unknown_ca/);
  const alpn = describeHandshakeFailure(
    "a.test",
    "tls",
    "whatever",
    hello({ alpn: ["h2", "grpc"] }),
  );
  assert.equal(alpn.reason, "alpn");
  assert.match(alpn.text, /offers h2, grpc in ALPN, the proxy speaks http\/1\.1/);
  const old = describeHandshakeFailure("a.test", "tls", "x", hello({ versions: [0x0301] }));
  assert.match(old.text, /only TLS 1\.0 or older/);
});
