/**
 * Many clients at once: concurrent handshakes share leaf issuance per host name, and a client that
 * does not trust the CA fails cleanly (once logged per host) without disturbing the others.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { testCa } from "../fixtures/ca.ts";
import {
  certInfo,
  curlVia,
  eventually,
  httpsOrigin,
  makeOriginCert,
  signedBy,
  tempDir,
  tlsGetThrough,
  withProxy,
} from "./https_helpers.ts";

const HOSTS = Array.from({ length: 20 }, (_, i) => `h${i + 1}.test`);
const ROUTINE_LOG_LINE = /^[\d.:]+: (CONNECT \S+|GET \/c\d+) HTTP\/1\.1$/;

test("100 concurrent handshakes to 20 host names issue exactly 20 leaves", {
  timeout: 120_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, [...HOSTS, "localhost"]);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    for (const upstreamCert of [true, false]) {
      await withProxy({
        ssl_verify_upstream_trusted_ca: cert.caFile,
        upstream_cert: upstreamCert,
      }, async (proxy, log) => {
        assert.equal(proxy.ca.leaves.issued, 0);
        origin.requests.length = 0;
        // Each client CONNECTs to 127.0.0.1 and names its host only in the SNI (and Host).
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) => {
            const host = HOSTS[i % HOSTS.length];
            return tlsGetThrough(
              proxy.address.port,
              `127.0.0.1:${origin.port}`,
              host,
              ca.ca.certPem,
              `/c${i}`,
            ).then(
              (r) => ({ host, i, ...r, error: null }),
              // Kept so that the failure below names the client and shows the proxy's log.
              (e) => ({ host, i, certDer: new Uint8Array(0), response: "", error: e as Error }),
            );
          }),
        );
        for (const { host, i, certDer, response, error } of results) {
          // On failure: the whole response, and the proxy's lines about this client's host or
          // path and every line other than the routine CONNECT and GET of each client.
          const what = `upstream_cert=${upstreamCert} client ${i} (${host}): ` +
            (error ? `failed: ${error.message}` : `response ${JSON.stringify(response)}`) +
            `\nproxy log:\n` +
            log.filter((l) =>
              l.includes(host) || l.includes(`/c${i} `) || !ROUTINE_LOG_LINE.test(l)
            ).join("\n");
          assert.equal(error, null, what);
          assert.match(response, /^HTTP\/1\.1 200 OK\r\n/, what);
          assert.ok(response.endsWith(`GET /c${i} (Host: ${host})`), what);
          const leaf = certInfo(certDer);
          assert.equal(leaf.subjectCn, host, what);
          assert.ok(leaf.dnsNames.includes(host), what);
        }
        // Distinct leaves per host, one per host.
        const byHost = new Map<string, Set<string>>();
        for (const r of results) {
          const set = byHost.get(r.host) ?? new Set();
          set.add(Buffer.from(r.certDer).toString("base64"));
          byHost.set(r.host, set);
        }
        assert.equal(byHost.size, 20);
        for (const [host, leaves] of byHost) assert.equal(leaves.size, 1, host);
        assert.ok(await signedBy(certInfo(results[0].certDer), ca.ca.certPem));
        assert.equal(proxy.ca.leaves.issued, 20, `upstream_cert=${upstreamCert}`);
        assert.equal(proxy.ca.leaves.size, 20);
        assert.equal(origin.requests.length, 100);
      });
    }
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("a client that does not trust the CA fails with curl exit 60, logged once per host", {
  timeout: 120_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost", "127.0.0.1"]);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  // Deno reads curl's unknown_ca alert; Bun cannot decode a TLS 1.3 client's unencrypted alert
  // and names distrust as the likely cause (src/tls/handshake_failure.ts).
  const distrust = (host: string) => (line: string) =>
    line.startsWith(`client does not trust the mitm.ts CA for ${host} `) ||
    line.startsWith(`client rejected our certificate for ${host} with an alert`);
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy, log) => {
      // Without --cacert curl trusts the system's CA store, which lacks ours; for 127.0.0.1 the
      // client trusts another CA (the origin's) instead.
      const untrusted = (host: string) =>
        curlVia(proxy.url, [
          ...(host === "localhost" ? [] : ["--cacert", cert.caFile]),
          `https://${host}:${origin.port}/untrusted`,
        ]);
      const trusted = () =>
        curlVia(proxy.url, [
          "--cacert",
          ca.certPemFile,
          `https://localhost:${origin.port}/trusted`,
        ]);
      // Untrusted and trusted clients at the same time, to the same host.
      const [u1, t1, u2, t2, u3] = await Promise.all([
        untrusted("localhost"),
        trusted(),
        untrusted("localhost"),
        trusted(),
        untrusted("127.0.0.1"),
      ]);
      for (const u of [u1, u2, u3]) {
        assert.equal(u.code, 60, u.stderr);
        assert.match(u.stderr, /SSL certificate problem|certificate/i);
      }
      for (const t of [t1, t2]) {
        assert.equal(t.code, 0, t.stderr);
        assert.equal(
          t.stdout,
          `hello from the origin: GET /trusted (Host: localhost:${origin.port})`,
        );
      }
      // A few more attempts, one after the other.
      for (let i = 0; i < 3; i++) assert.equal((await untrusted("localhost")).code, 60);
      assert.ok(
        await eventually(() => log.some(distrust("127.0.0.1"))),
        `no distrust line for 127.0.0.1:\n${log.join("\n")}`,
      );
      // Give late log lines time to show up before counting.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(log.filter(distrust("localhost")).length, 1, log.join("\n"));
      assert.equal(log.filter(distrust("127.0.0.1")).length, 1, log.join("\n"));
      const line = log.find(distrust("localhost"))!;
      assert.match(line, /mitm\.it|--ignore-hosts/, "the line says what to do");

      // Still serving: a trusted client afterwards gets through.
      const after = await trusted();
      assert.equal(after.code, 0, after.stderr);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
