/**
 * `mitm browser chromium --headless`: Debian's Chromium, with a fresh profile, a HOME of its own
 * (so no NSS database trusts anything) and nothing but the flags mitm gives it, loads an https
 * page from a local origin through the proxy; the flow is recorded and the profile removed.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { cliArgv, run } from "../e2e/helpers.ts";
import { httpsOrigin, makeOriginCert, type OriginCert, tempDir } from "../e2e/https_helpers.ts";
import { testCa, testConfdir } from "../fixtures/ca.ts";
import {
  browserArgs,
  firefoxUserJs,
  type LaunchPlan,
  prepareProfile,
  spkiHash,
} from "../../src/browser/launch.ts";
import { recordedRequests } from "./helpers.ts";

const CHROMIUM = "/usr/bin/chromium";

describe("mitm browser", () => {
  const tmp = tempDir("mitm-browser-");
  let cert: OriginCert;
  before(async () => {
    cert = await makeOriginCert(tmp.dir, ["localhost", "127.0.0.1"]);
  });
  after(() => tmp.remove());

  test("headless Chromium loads an https page through the proxy; recorded", async (t) => {
    if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is not installed (Debian: chromium)`);
    const origin = await httpsOrigin(cert, (_req, res) => {
      res.setHeader("Content-Type", "text/html");
      res.end("<html><body><p id=x>through mitm browser</p></body></html>");
    });
    try {
      const record = join(tmp.dir, "browser.jsonl");
      const url = `https://localhost:${origin.port}/page`;
      const [cmd, argv] = cliArgv([
        "browser",
        "--confdir",
        await testConfdir(),
        "-w",
        record,
        "--set",
        `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
        // Chromium's own requests to Google are answered here, never sent anywhere.
        "--set",
        "connection_strategy=lazy",
        "--block-list",
        "/!~d localhost/404",
        "chromium",
        "--headless",
        "--",
        "--disable-gpu",
        "--dump-dom",
        url,
      ]);
      const env = { ...process.env, HOME: tmp.dir, PATH: `/usr/bin:${process.env.PATH}` };
      const r = await run(cmd, argv, { env: env as Record<string, string>, timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /<p id="x">through mitm browser<\/p>/);
      assert.ok(recordedRequests(record).includes(`GET ${url}`), r.stderr);
      const profile = /with the profile (\S+) \(removed at exit\)/.exec(r.stderr)?.[1];
      assert.ok(profile, r.stderr);
      assert.equal(existsSync(profile), false, "the profile should be removed");
    } finally {
      await origin.close();
    }
  });

  test("no such browser on PATH: one line and status 1", async () => {
    const [cmd, argv] = cliArgv(["browser", "firefox"]);
    const none = await run(cmd, argv, {
      env: { ...process.env, PATH: "/nonexistent" } as Record<string, string>,
    });
    assert.equal(none.code, 1);
    assert.equal(none.stderr, "mitm: no firefox found on PATH; install it.\n");
  });

  test("Chromium's flags: proxy, loopback not bypassed, the CA's SPKI hash", async () => {
    const ca = await testCa();
    const plan: LaunchPlan = {
      kind: "chromium",
      executable: CHROMIUM,
      profileDir: "/p",
      proxyUrl: "http://127.0.0.1:9",
      caPem: ca.ca.certPem,
      caPemFile: ca.certPemFile,
      headless: true,
      extra: ["https://example.test/"],
    };
    const args = browserArgs(plan);
    assert.ok(args.includes("--user-data-dir=/p"));
    assert.ok(args.includes("--proxy-server=http://127.0.0.1:9"));
    assert.ok(args.includes("--proxy-bypass-list=<-loopback>"));
    assert.equal(args.at(-1), "https://example.test/");
    // The hash as openssl computes it.
    const pub = await run("sh", [
      "-c",
      `openssl x509 -in ${ca.certPemFile} -pubkey -noout | openssl pkey -pubin -outform der | ` +
      "openssl dgst -sha256 -binary | base64",
    ]);
    assert.equal(spkiHash(ca.ca.certPem), pub.stdout.trim());
    assert.ok(args.includes(`--ignore-certificate-errors-spki-list=${pub.stdout.trim()}`));
  });

  test("Firefox's profile: proxy preferences and the CA in its NSS database", async (t) => {
    if (!(await run("certutil", ["-H"])).stderr.includes("certutil")) {
      return t.skip("certutil is not installed (libnss3-tools)");
    }
    const ca = await testCa();
    const profileDir = join(tmp.dir, "firefox-profile");
    await prepareProfile({
      kind: "firefox",
      executable: "firefox",
      profileDir,
      proxyUrl: "http://127.0.0.1:4321",
      caPem: ca.ca.certPem,
      caPemFile: ca.certPemFile,
      headless: true,
      extra: [],
    });
    const userJs = readFileSync(join(profileDir, "user.js"), "utf8");
    assert.equal(userJs, firefoxUserJs("http://127.0.0.1:4321"));
    assert.match(userJs, /user_pref\("network\.proxy\.ssl_port", 4321\);/);
    assert.match(userJs, /user_pref\("network\.proxy\.allow_hijacking_localhost", true\);/);
    const list = await run("certutil", ["-L", "-d", `sql:${profileDir}`]);
    assert.match(list.stdout, /mitm\.ts CA\s+C,,/);
  });
});
