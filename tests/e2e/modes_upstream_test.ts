/**
 * upstream mode: two chained proxies, mitm.ts (upstream mode) -> mitm.ts (regular, with
 * proxyauth), real curl, real origins. http goes to the upstream in absolute-form, https through
 * a CONNECT tunnel inside which the first proxy still intercepts; upstream_auth answers the
 * second proxy's 407.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { curlVia, httpsOrigin, makeOriginCert, tempDir, testCaFile } from "./https_helpers.ts";
import { rawExchange } from "./helpers.ts";
import { echoOrigin, withModes } from "./modes_helpers.ts";

test("upstream: http and https through a second proxy that requires upstream_auth", {
  timeout: 90_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const tlsOrigin = await httpsOrigin(cert);
  const origin = await echoOrigin();
  const caFile = await testCaFile();
  try {
    await withModes(
      { proxyauth: "up:stream", ssl_verify_upstream_trusted_ca: cert.caFile },
      async (second) => {
        await withModes(
          {
            mode: [`upstream:${second.proxy.url}`],
            upstream_auth: "up:stream",
            // The second proxy intercepts too, with a leaf from the same test CA.
            ssl_verify_upstream_trusted_ca: caFile,
          },
          async (first) => {
            const http = await curlVia(first.proxy.url, [
              `http://127.0.0.1:${origin.port}/one`,
              `http://127.0.0.1:${origin.port}/two`,
            ]);
            assert.equal(http.code, 0, http.stderr);
            // The second proxy took the credentials off before the origin.
            assert.equal(
              http.stdout,
              `GET /one host=127.0.0.1:${origin.port} auth=-` +
                `GET /two host=127.0.0.1:${origin.port} auth=-`,
            );

            const https = await curlVia(first.proxy.url, [
              "-v",
              "--cacert",
              caFile,
              `https://localhost:${tlsOrigin.port}/secure`,
            ]);
            assert.equal(https.code, 0, https.stderr);
            assert.equal(
              https.stdout,
              `hello from the origin: GET /secure (Host: localhost:${tlsOrigin.port})`,
            );
            assert.match(https.stderr, /issuer: CN=mitm\.ts CA/);

            // Both proxies saw all three exchanges: the first intercepted the https one itself.
            const mine = await first.flowsDone(3);
            const theirs = await second.flowsDone(3);
            for (const flows of [mine, theirs]) {
              assert.deepEqual(
                flows.map((f) => `${f.request.scheme} ${f.request.path} ${f.response?.status}`)
                  .sort(),
                ["http /one 200", "http /two 200", "https /secure 200"],
              );
            }
          },
        );
      },
    );
  } finally {
    await origin.close();
    await tlsOrigin.close();
    tmp.remove();
  }
});

test("upstream: a missing upstream_auth is a 502 that names the upstream's 407", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin();
  try {
    await withModes({ proxyauth: "up:stream" }, async (second) => {
      await withModes({ mode: [`upstream:${second.proxy.url}`] }, async (first) => {
        // http: the upstream's own 407 comes back to the client.
        const http = await curlVia(first.proxy.url, ["-i", `http://127.0.0.1:${origin.port}/`]);
        assert.match(http.stdout, /^HTTP\/1\.1 407 /);
        // CONNECT through it fails: the client gets a 502 saying why.
        const authority = `127.0.0.1:${origin.port}`;
        const connect = await rawExchange(
          first.proxy.address.port,
          `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`,
        );
        assert.match(connect, /^HTTP\/1\.1 502 /);
        assert.match(connect, /answered CONNECT with 407 .*upstream_auth/);
        assert.deepEqual(origin.requests, []);
      });
    });
  } finally {
    await origin.close();
  }
});
