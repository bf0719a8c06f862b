/**
 * New client connections to an origin the proxy already has a live connection to: the CONNECT
 * is not dialled again, the pooled connection serves the request (one TLS handshake per client
 * connection instead of two), and the leaf still carries the origin certificate's names.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { testCa } from "../fixtures/ca.ts";
import {
  certInfo,
  httpsOrigin,
  makeOriginCert,
  tempDir,
  tlsGetThrough,
  withProxy,
} from "./https_helpers.ts";

test("sequential CONNECTs to one origin share its pooled connection; another SNI dials anew", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost", "other.test", "alias.example.test"]);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy) => {
      const authority = `localhost:${origin.port}`;
      const leaves: string[][] = [];
      for (let i = 0; i < 3; i++) {
        const r = await tlsGetThrough(
          proxy.address.port,
          authority,
          "localhost",
          ca.ca.certPem,
          `/r${i}`,
        );
        assert.match(r.response, new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[\\s\\S]*GET /r${i} `));
        leaves.push(certInfo(r.certDer).dnsNames);
      }
      assert.equal(origin.connections(), 1, "one origin connection served three client ones");
      assert.deepEqual(origin.requests, ["GET /r0", "GET /r1", "GET /r2"]);
      // upstream_cert: the leaf of a reused connection names what the origin's certificate does.
      for (const names of leaves) assert.ok(names.includes("alias.example.test"), String(names));

      // A different SNI is a different pool key: a new connection is dialled for it.
      const other = await tlsGetThrough(
        proxy.address.port,
        authority,
        "other.test",
        ca.ca.certPem,
        "/other",
      );
      assert.match(other.response, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(origin.connections(), 2);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("a pooled origin that has gone away gives the next client a 502, not a hang", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy) => {
      const authority = `localhost:${origin.port}`;
      const first = await tlsGetThrough(proxy.address.port, authority, "localhost", ca.ca.certPem);
      assert.match(first.response, /^HTTP\/1\.1 200 /);
      await origin.close(); // drops the pooled connection and stops listening
      const second = await tlsGetThrough(
        proxy.address.port,
        authority,
        "localhost",
        ca.ca.certPem,
      ).catch((e: Error) => ({ response: `failed: ${e.message}` }));
      // Either the CONNECT is refused with 502 (pool already evicted), or the tunnel's request
      // gets a 502 naming the failure: never a hang, never a 200.
      assert.match(second.response, /502|CONNECT .* answered: HTTP\/1\.1 502/);
    });
  } finally {
    tmp.remove();
  }
});
