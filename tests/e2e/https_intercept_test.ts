/**
 * HTTPS interception through real clients (curl, openssl s_client) against node:https origins on
 * 127.0.0.1 with certificates of their own: what the client sees, and the certificate the proxy
 * presents for the names, IPs and SNI it is given.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testCa } from "../fixtures/ca.ts";
import { startProxyProcess } from "./helpers.ts";
import {
  certInfo,
  curlVia,
  httpsOrigin,
  makeOriginCert,
  sClient,
  SERVER_AUTH,
  signedBy,
  tempDir,
  withProxy,
} from "./https_helpers.ts";

const ORIGIN_NAMES = ["localhost", "alt.example.test", "127.0.0.1"];

test("curl through the proxy reaches an https origin: exact bytes, keep-alive over one CONNECT", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert, (req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      res.setHeader("X-Origin-Header", "Mixed-Case");
      res.setHeader("Content-Type", "text/plain");
      res.end(
        `${req.method} ${req.url} host=${req.headers.host} ua=${req.headers["x-client"]}` +
          (body ? ` body=${body}` : ""),
      );
    });
  });
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy) => {
      const base = `https://localhost:${origin.port}`;
      const r = await curlVia(proxy.url, [
        "-v",
        "--cacert",
        ca.certPemFile,
        "-H",
        "X-Client: curl-test",
        `${base}/first?a=1`,
        `${base}/second`,
        "--next",
        "--noproxy",
        "",
        "-x",
        proxy.url,
        "--cacert",
        ca.certPemFile,
        "-H",
        "X-Client: curl-test",
        "--data-binary",
        "upload bytes",
        `${base}/third`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        `GET /first?a=1 host=localhost:${origin.port} ua=curl-test` +
          `GET /second host=localhost:${origin.port} ua=curl-test` +
          `POST /third host=localhost:${origin.port} ua=curl-test body=upload bytes`,
      );
      // The client verified our leaf (no -k), issued by the proxy CA, and kept the tunnel.
      assert.match(r.stderr, /issuer: CN=mitm\.ts CA/);
      assert.equal(r.stderr.match(/> CONNECT localhost:\d+ HTTP\/1\.1/g)?.length, 1, r.stderr);
      assert.match(r.stderr, /< X-Origin-Header: Mixed-Case/);
      assert.deepEqual(origin.requests, ["GET /first?a=1", "GET /second", "POST /third"]);
      // The proxy reused its origin connection (the one it opened to read the certificate).
      assert.equal(origin.connections(), 1);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("openssl s_client verifies the leaf (SAN, CN, serverAuth, issuer) and gets a response", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  const caIssuer = (await ca.ca.certificate()).subject;
  const request = "GET /over-s_client HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  try {
    for (const upstreamCert of [true, false]) {
      await withProxy({
        ssl_verify_upstream_trusted_ca: cert.caFile,
        upstream_cert: upstreamCert,
      }, async (proxy) => {
        const r = await sClient({
          proxyPort: proxy.address.port,
          connect: `localhost:${origin.port}`,
          servername: "localhost",
          caFile: ca.certPemFile,
          send: request,
        });
        const what = `upstream_cert=${upstreamCert}:\n${r.output}`;
        assert.equal(r.verifyCode, 0, what);
        assert.equal(r.verifyText, "ok");
        assert.match(r.output, /HTTP\/1\.1 200 OK/, what);
        assert.match(r.output, /hello from the origin: GET \/over-s_client \(Host: localhost\)/);
        assert.ok(r.certs.length >= 1, what);
        const leaf = certInfo(r.certs[0]);
        assert.equal(leaf.subjectCn, "localhost");
        assert.equal(leaf.issuer, caIssuer);
        assert.ok(await signedBy(leaf, ca.ca.certPem), "the leaf is signed by the proxy CA");
        assert.ok(leaf.extendedKeyUsages.includes(SERVER_AUTH), `EKU: ${leaf.extendedKeyUsages}`);
        assert.equal(leaf.isCa, false);
        assert.ok(leaf.dnsNames.includes("localhost"));
        if (upstreamCert) {
          // The names of the origin's own certificate are copied in.
          assert.ok(leaf.dnsNames.includes("alt.example.test"), `SAN: ${leaf.dnsNames}`);
          assert.ok(leaf.ipNames.includes("127.0.0.1"), `IP SAN: ${leaf.ipNames}`);
        } else {
          assert.deepEqual(leaf.dnsNames, ["localhost"]);
          assert.deepEqual(leaf.ipNames, []);
        }
      });
    }
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("upstream_cert=false from the command line: the leaf names only the SNI", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  const proxy = await startProxyProcess([
    "--set",
    "upstream_cert=false",
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
  ]);
  try {
    const r = await sClient({
      proxyPort: proxy.port,
      connect: `localhost:${origin.port}`,
      servername: "localhost",
      caFile: ca.certPemFile,
      send: "GET /cli HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    });
    assert.equal(r.verifyCode, 0, r.output);
    assert.match(r.output, /hello from the origin: GET \/cli/);
    const leaf = certInfo(r.certs[0]);
    assert.deepEqual(leaf.dnsNames, ["localhost"]);
    assert.deepEqual(leaf.ipNames, []);
  } finally {
    await proxy.stop();
    await origin.close();
    tmp.remove();
  }
});

test("CONNECT to an IP address gives a leaf with that IP in its SAN", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    for (const upstreamCert of [true, false]) {
      await withProxy({
        ssl_verify_upstream_trusted_ca: cert.caFile,
        upstream_cert: upstreamCert,
      }, async (proxy) => {
        // curl sends no SNI for an IP address and checks the IP against the SAN.
        const r = await curlVia(proxy.url, [
          "-v",
          "--cacert",
          ca.certPemFile,
          `https://127.0.0.1:${origin.port}/by-ip`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(
          r.stdout,
          `hello from the origin: GET /by-ip (Host: 127.0.0.1:${origin.port})`,
        );

        const s = await sClient({
          proxyPort: proxy.address.port,
          connect: `127.0.0.1:${origin.port}`,
          servername: null,
          caFile: ca.certPemFile,
        });
        assert.equal(s.verifyCode, 0, s.output);
        const leaf = certInfo(s.certs[0]);
        assert.equal(leaf.subjectCn, "127.0.0.1");
        assert.ok(leaf.ipNames.includes("127.0.0.1"), `IP SAN: ${leaf.ipNames}`);
        if (!upstreamCert) assert.deepEqual(leaf.dnsNames, []);

        // An IP address sent as SNI (RFC 6066 forbids it; some clients do) is served, and not
        // passed on to the origin (node:tls refuses an IP as servername).
        const ipSni = await sClient({
          proxyPort: proxy.address.port,
          connect: `127.0.0.1:${origin.port}`,
          servername: "127.0.0.1",
          caFile: ca.certPemFile,
          send:
            `GET /ip-sni HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: close\r\n\r\n`,
        });
        assert.equal(ipSni.verifyCode, 0, ipSni.output);
        assert.match(ipSni.output, /HTTP\/1\.1 200 OK[\s\S]*GET \/ip-sni /);
      });
    }
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("a ClientHello without SNI gets a leaf named after the CONNECT host", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    await withProxy({
      ssl_verify_upstream_trusted_ca: cert.caFile,
      upstream_cert: false,
    }, async (proxy) => {
      const r = await sClient({
        proxyPort: proxy.address.port,
        connect: `localhost:${origin.port}`,
        servername: null,
        caFile: ca.certPemFile,
        send: "GET /no-sni HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      });
      assert.doesNotMatch(r.output, /TLS server extension "server name"/);
      assert.equal(r.verifyCode, 0, r.output);
      assert.match(r.output, /hello from the origin: GET \/no-sni/);
      const leaf = certInfo(r.certs[0]);
      assert.equal(leaf.subjectCn, "localhost");
      assert.deepEqual(leaf.dnsNames, ["localhost"]);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("an HTTP/1.0 client offering only ALPN http/1.0 is intercepted", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy) => {
      // curl -0 offers ALPN "http/1.0" alone.
      const r = await curlVia(proxy.url, [
        "-v",
        "-0",
        "--cacert",
        ca.certPemFile,
        `https://localhost:${origin.port}/old`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /ALPN: offers http\/1\.0/);
      assert.match(r.stderr, /> GET \/old HTTP\/1\.0/);
      assert.equal(r.stdout, `hello from the origin: GET /old (Host: localhost:${origin.port})`);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("64 MiB bodies stream both ways through an intercepted tunnel", {
  timeout: 120_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ORIGIN_NAMES);
  const big = randomBytes(64 * 1024 * 1024);
  const digest = createHash("sha256").update(big).digest("hex");
  const origin = await httpsOrigin(cert, (req, res) => {
    if (req.method === "POST") {
      const hash = createHash("sha256");
      let size = 0;
      req.on("data", (d: Buffer) => {
        hash.update(d);
        size += d.length;
      });
      req.on("end", () => res.end(`${size} ${hash.digest("hex")}`));
    } else {
      res.setHeader("Content-Length", String(big.length));
      res.end(big);
    }
  });
  const upload = join(tmp.dir, "upload.bin");
  writeFileSync(upload, big);
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy) => {
      const url = `https://localhost:${origin.port}/big`;
      const download = join(tmp.dir, "download.bin");
      const d = await curlVia(proxy.url, ["--cacert", ca.certPemFile, "-o", download, url]);
      assert.equal(d.code, 0, d.stderr);
      assert.equal(createHash("sha256").update(readFileSync(download)).digest("hex"), digest);
      for (const extra of [[], ["-H", "Transfer-Encoding: chunked"]]) {
        const u = await curlVia(proxy.url, [
          "--cacert",
          ca.certPemFile,
          ...extra,
          "--data-binary",
          `@${upload}`,
          url,
        ]);
        assert.equal(u.code, 0, u.stderr);
        assert.equal(u.stdout, `${big.length} ${digest}`, `upload ${extra.join(" ")}`);
      }
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
