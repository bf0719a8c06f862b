/**
 * A real browser through the proxy: headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) trusts the proxy CA through its NSS database and loads an https page from a
 * local origin, intercepted. Without that trust it refuses the certificate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { testCa } from "../fixtures/ca.ts";
import { CHROMIUM, launchThroughProxy } from "./browser_helpers.ts";
import { run } from "./helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir, withProxy } from "./https_helpers.ts";

function missingTools(): string | false {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (Debian package chromium)`;
  if (!existsSync("/usr/bin/certutil")) return "certutil is not installed (libnss3-tools)";
  return false;
}
const skip = missingTools();
if (skip) console.log(`skipping the browser test: ${skip}`);

/** A HOME whose NSS database trusts `caFile` as a CA for web sites. */
async function homeTrusting(dir: string, caFile: string): Promise<string> {
  const nssdb = join(dir, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  for (
    const args of [
      ["-d", `sql:${nssdb}`, "-N", "--empty-password"],
      ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "mitm-ts", "-i", caFile],
    ]
  ) {
    const r = await run("certutil", args, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `certutil ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  }
  return dir;
}

function launch(home: string, proxyUrl: string) {
  return launchThroughProxy(proxyUrl, { ...process.env, HOME: home });
}

const PAGE = `<!doctype html><html><head><title>Local origin</title></head>
<body><h1 id="title">Hello through mitm.ts</h1><p id="js"></p>
<script>document.getElementById("js").textContent = "script ran on " + location.protocol;</script>
</body></html>`;

test("headless Chromium loads an https page through the proxy, trusting its CA", {
  timeout: 180_000,
  skip,
}, async () => {
  const tmp = tempDir("mitm-browser-");
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert, (req, res) => {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(req.url === "/" ? PAGE : "not here");
  });
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy, log) => {
      const url = `https://localhost:${origin.port}/`;
      const trusting = await homeTrusting(join(tmp.dir, "home-trusting"), ca.certPemFile);
      const browser = await launch(trusting, proxy.url);
      try {
        const page = await browser.newPage();
        const response = await page.goto(url, { timeout: 60_000 });
        assert.ok(response, "a response");
        assert.equal(response.status(), 200);
        assert.equal(await page.textContent("#title"), "Hello through mitm.ts");
        assert.equal(await page.textContent("#js"), "script ran on https:");
        assert.equal(await page.evaluate(() => location.protocol), "https:");
        // The certificate Chromium accepted is the one the proxy made.
        const security = await response.securityDetails();
        assert.ok(security, "TLS details");
        assert.equal(security.issuer, "mitm.ts CA");
        assert.equal(security.subjectName, "localhost");
      } finally {
        await browser.close();
      }
      assert.ok(origin.requests.includes("GET /"), "the page came from the origin");
      assert.ok(!log.some((l) => /does not trust/.test(l)), log.join("\n"));

      // A browser whose NSS database lacks the CA refuses the proxy's certificate.
      const bare = join(tmp.dir, "home-bare");
      mkdirSync(bare);
      const untrusting = await launch(bare, proxy.url);
      try {
        const page = await untrusting.newPage();
        await assert.rejects(page.goto(url, { timeout: 60_000 }), /ERR_CERT_AUTHORITY_INVALID/);
      } finally {
        await untrusting.close();
      }
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
