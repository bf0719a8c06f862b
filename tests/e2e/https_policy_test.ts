/**
 * Which TLS connections are intercepted (--ignore-hosts, --allow-hosts) and how origins are
 * verified (-k, ssl_verify_upstream_trusted_ca), through the CLI as a child process and real
 * clients.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { testCa } from "../fixtures/ca.ts";
import { startProxyProcess } from "./helpers.ts";
import {
  certInfo,
  curlVia,
  httpsOrigin,
  makeOriginCert,
  sClient,
  sha256,
  tempDir,
  withProxy,
} from "./https_helpers.ts";

const ORIGIN_NAMES = ["localhost", "alt.example.test", "127.0.0.1"];

test("--ignore-hosts passes TLS through: the client sees the origin's own certificate", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  // No ssl_verify_upstream_trusted_ca: the proxy never makes a TLS connection of its own here.
  const proxy = await startProxyProcess(["--ignore-hosts", "^localhost:"]);
  try {
    const url = `https://localhost:${origin.port}/passed-through`;
    const r = await curlVia(proxy.url, ["-v", "--cacert", cert.caFile, url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `hello from the origin: GET /passed-through (Host: localhost:${origin.port})`,
    );
    assert.match(r.stderr, /issuer: CN=Origin Test CA/);

    // Trusting only the proxy CA fails: the certificate is not ours.
    const ours = await curlVia(proxy.url, ["--cacert", ca.certPemFile, url]);
    assert.equal(ours.code, 60, ours.stderr);

    const s = await sClient({
      proxyPort: proxy.port,
      connect: `localhost:${origin.port}`,
      servername: "localhost",
      caFile: cert.caFile,
    });
    assert.equal(s.verifyCode, 0, s.output);
    const presented = certInfo(s.certs[0]);
    assert.equal(
      sha256(presented.der),
      sha256(cert.certDer),
      "the origin's certificate, unchanged",
    );
    assert.match(presented.issuer, /CN=Origin Test CA/);

    // A host the regex does not match is still intercepted (CONNECT by IP).
    const byIp = await sClient({
      proxyPort: proxy.port,
      connect: `127.0.0.1:${origin.port}`,
      servername: null,
      caFile: ca.certPemFile,
    });
    assert.equal(byIp.verifyCode, 0, byIp.output);
    assert.equal(certInfo(byIp.certs[0]).issuer, (await ca.ca.certificate()).subject);
  } finally {
    await proxy.stop();
    await origin.close();
    tmp.remove();
  }
});

test("--ignore-hosts matches the SNI too", { timeout: 60_000 }, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const proxy = await startProxyProcess(["--ignore-hosts", "alt\\.example\\.test"]);
  try {
    // CONNECT by IP; only the SNI names the ignored host.
    const s = await sClient({
      proxyPort: proxy.port,
      connect: `127.0.0.1:${origin.port}`,
      servername: "alt.example.test",
      caFile: cert.caFile,
    });
    assert.equal(s.verifyCode, 0, s.output);
    assert.equal(sha256(certInfo(s.certs[0]).der), sha256(cert.certDer));
  } finally {
    await proxy.stop();
    await origin.close();
    tmp.remove();
  }
});

test("--allow-hosts intercepts only matching hosts and passes the rest through", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  const caSubject = (await ca.ca.certificate()).subject;
  const proxy = await startProxyProcess([
    "--allow-hosts",
    "^alt\\.example\\.test",
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
  ]);
  try {
    const request = (host: string) =>
      `GET /allow HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    // Same origin, same CONNECT target; the SNI decides.
    const allowed = await sClient({
      proxyPort: proxy.port,
      connect: `127.0.0.1:${origin.port}`,
      servername: "alt.example.test",
      caFile: ca.certPemFile,
      send: request("alt.example.test"),
    });
    assert.equal(allowed.verifyCode, 0, allowed.output);
    assert.equal(certInfo(allowed.certs[0]).issuer, caSubject, "intercepted");
    assert.match(allowed.output, /hello from the origin: GET \/allow \(Host: alt\.example\.test\)/);

    const other = await sClient({
      proxyPort: proxy.port,
      connect: `127.0.0.1:${origin.port}`,
      servername: "localhost",
      caFile: cert.caFile,
      send: request("localhost"),
    });
    assert.equal(other.verifyCode, 0, other.output);
    assert.equal(sha256(certInfo(other.certs[0]).der), sha256(cert.certDer), "passed through");
    assert.match(other.output, /hello from the origin: GET \/allow \(Host: localhost\)/);

    // curl to a host that is not allowed works only with the origin's CA.
    const url = `https://localhost:${origin.port}/curl`;
    const r = await curlVia(proxy.url, ["--cacert", cert.caFile, url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /GET \/curl/);
  } finally {
    await proxy.stop();
    await origin.close();
    tmp.remove();
  }
});

test(
  "an origin with an untrusted self-signed certificate: 502 naming the reason; -k and a trusted CA work",
  {
    timeout: 60_000,
  },
  async () => {
    const tmp = tempDir();
    const selfSigned = await makeOriginCert(tmp.dir, ["localhost", "127.0.0.1"], {
      selfSigned: true,
    });
    const origin = await httpsOrigin(selfSigned);
    const ca = await testCa();
    const url = `https://localhost:${origin.port}/checked`;
    const expected = `hello from the origin: GET /checked (Host: localhost:${origin.port})`;
    try {
      for (const upstreamCert of [true, false]) {
        await withProxy({ upstream_cert: upstreamCert }, async (proxy, log) => {
          const r = await curlVia(proxy.url, [
            "--cacert",
            ca.certPemFile,
            "-w",
            "\n%{http_code}",
            url,
          ]);
          const what = `upstream_cert=${upstreamCert}: ${r.stderr}\n${r.stdout}`;
          assert.equal(r.code, 0, what);
          assert.match(r.stdout, /\n502$/, what);
          assert.match(r.stdout, /certificate verify failed/, what);
          assert.match(r.stdout, /self-signed certificate/, what);
          assert.match(r.stdout, new RegExp(`localhost:${origin.port}`));
          assert.match(r.stdout, /-k|--ssl-insecure/, "the 502 says what to do");
          assert.ok(log.some((l) => /certificate verify failed/.test(l)), log.join("\n"));
          assert.deepEqual(origin.requests, [], "nothing reached the untrusted origin");
        });
      }

      await withProxy({ ssl_insecure: true }, async (proxy) => {
        const r = await curlVia(proxy.url, ["--cacert", ca.certPemFile, url]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, expected);
      });
      await withProxy({ ssl_verify_upstream_trusted_ca: selfSigned.caFile }, async (proxy) => {
        const r = await curlVia(proxy.url, ["--cacert", ca.certPemFile, url]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, expected);
      });
    } finally {
      await origin.close();
      tmp.remove();
    }
  },
);

test("-k and --set ssl_verify_upstream_trusted_ca from the command line", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const selfSigned = await makeOriginCert(tmp.dir, ["localhost"], { selfSigned: true });
  const origin = await httpsOrigin(selfSigned);
  const ca = await testCa();
  const url = `https://localhost:${origin.port}/cli`;
  try {
    for (
      const args of [
        [],
        ["-k"],
        ["--set", `ssl_verify_upstream_trusted_ca=${selfSigned.caFile}`],
      ]
    ) {
      const proxy = await startProxyProcess(args);
      try {
        const r = await curlVia(proxy.url, [
          "--cacert",
          ca.certPemFile,
          "-w",
          " %{http_code}",
          url,
        ]);
        assert.equal(r.code, 0, r.stderr);
        if (args.length === 0) {
          assert.match(r.stdout, /certificate verify failed: self-signed certificate.* 502$/s);
        } else {
          assert.equal(
            r.stdout,
            `hello from the origin: GET /cli (Host: localhost:${origin.port}) 200`,
          );
        }
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("an origin whose certificate names another host: 502 naming the mismatch", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["other.example.test"]);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy) => {
      const r = await curlVia(proxy.url, [
        "--cacert",
        ca.certPemFile,
        "-w",
        " %{http_code}",
        `https://localhost:${origin.port}/`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /certificate verify failed: certificate does not match the host name/);
      assert.match(r.stdout, / 502$/);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
