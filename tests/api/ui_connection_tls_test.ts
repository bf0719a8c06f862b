/// <reference lib="dom" />
/**
 * The web UI's connection tab shows the origin's cipher and certificate chain: curl fetches from
 * an HTTPS origin on 127.0.0.1 through the proxy (new core), then headless Chromium opens the
 * flow. A screenshot goes to test-artifacts/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startWeb } from "../../src/api/web.ts";
import {
  curlVia,
  httpsOrigin,
  makeOriginCert,
  pemToDer,
  sha256,
  tempDir,
  testCaFile,
  withProxy,
} from "../e2e/https_helpers.ts";
import { artifact, skipBrowser as skip, withBrowserOn } from "./ui_helpers.ts";

test("connection tab: cipher and the origin's certificate with its fingerprint", {
  timeout: 180_000,
  skip,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  try {
    await withProxy(
      { ssl_verify_upstream_trusted_ca: cert.caFile },
      async (proxy) => {
        const web = await startWeb(proxy, { port: 0 });
        try {
          const r = await curlVia(`http://127.0.0.1:${proxy.address.port}`, [
            "--cacert",
            await testCaFile(),
            `https://localhost:${origin.port}/secure`,
          ]);
          assert.match(r.stdout, /hello from the origin/);
          await withBrowserOn(web, async (page) => {
            await page.click(".row[data-id]:has(.path:text-is('/secure'))");
            await page.click("#details [data-tab=connection]");
            await page.waitForSelector("#details table.cert[data-cert='0']");
            const conn = await page.textContent("#details .connection") ?? "";
            assert.match(conn, /server cipher\S*(TLS_|AES|CHACHA)/);
            const leaf = await page.textContent("#details table.cert[data-cert='0']") ?? "";
            assert.match(leaf, /subjectCN=localhost/);
            assert.match(leaf, /Origin Test CA/);
            assert.match(leaf, /nameslocalhost/);
            const fp = sha256(pemToDer(cert.certPem)).toUpperCase().match(/../g)!.join(":");
            assert.ok(leaf.includes(`SHA-256${fp}`), leaf);
            await page.screenshot({ path: artifact("web-ui-connection-tls.png") });
          });
        } finally {
          await web.close();
        }
      },
    );
  } finally {
    await origin.close();
    tmp.remove();
  }
});
