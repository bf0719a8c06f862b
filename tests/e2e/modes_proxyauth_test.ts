/**
 * proxyauth in regular mode through real curl: 407 with a Basic challenge until the right
 * Proxy-Authorization arrives (absolute-form requests and CONNECT), and the credentials never
 * reach the origin.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { curlVia, httpsOrigin, makeOriginCert, tempDir, testCaFile } from "./https_helpers.ts";
import { rawExchange } from "./helpers.ts";
import { echoOrigin, withModes } from "./modes_helpers.ts";

test("proxyauth: 407 with Proxy-Authenticate until curl -U sends the right user:pass", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin();
  try {
    await withModes({ proxyauth: "bob:pa:ss" }, async (p) => {
      const url = `http://127.0.0.1:${origin.port}/page`;
      const none = await curlVia(p.proxy.url, ["-i", url]);
      assert.match(none.stdout, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
      assert.match(none.stdout, /\r\nProxy-Authenticate: Basic realm="mitm\.ts"\r\n/);
      assert.match(none.stdout, /proxy authentication required/);

      const wrong = await curlVia(p.proxy.url, ["-i", "-U", "bob:nope", url]);
      assert.match(wrong.stdout, /^HTTP\/1\.1 407 /);

      const right = await curlVia(p.proxy.url, ["-U", "bob:pa:ss", url]);
      assert.equal(right.code, 0, right.stderr);
      // Proxy-Authorization is for the proxy: the origin does not see it.
      assert.equal(right.stdout, `GET /page host=127.0.0.1:${origin.port} auth=-`);
      assert.deepEqual(origin.requests, [right.stdout]);
    });
  } finally {
    await origin.close();
  }
});

test("proxyauth: CONNECT needs it too; with it the https origin is intercepted", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const caFile = await testCaFile();
  try {
    await withModes(
      { proxyauth: "bob:secret", ssl_verify_upstream_trusted_ca: cert.caFile },
      async (p) => {
        const url = `https://localhost:${origin.port}/tls`;
        const none = await curlVia(p.proxy.url, ["--cacert", caFile, url]);
        assert.notEqual(none.code, 0);
        assert.match(none.stderr, /407/);
        assert.equal(origin.connections(), 0, "nothing reached the origin without credentials");

        const right = await curlVia(p.proxy.url, ["-U", "bob:secret", "--cacert", caFile, url]);
        assert.equal(right.code, 0, right.stderr);
        assert.equal(
          right.stdout,
          `hello from the origin: GET /tls (Host: localhost:${origin.port})`,
        );
        const [flow] = await p.flowsDone(1);
        assert.equal(flow.request.scheme, "https");
      },
    );
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("proxyauth: a malformed Proxy-Authorization is a 407, and Connection: close is honoured", {
  timeout: 30_000,
}, async () => {
  await withModes({ proxyauth: "u:p" }, async (p) => {
    const out = await rawExchange(
      p.proxy.address.port,
      "GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n" +
        "Proxy-Authorization: Basic %%%\r\nConnection: close\r\n\r\n",
    );
    assert.match(out, /^HTTP\/1\.1 407 /);
  });
});
