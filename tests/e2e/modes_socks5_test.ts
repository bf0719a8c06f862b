/**
 * socks5 mode through real curl (--socks5-hostname and --socks5 with an IP) to http and https
 * origins on 127.0.0.1: the https ones intercepted (curl verifies a leaf from the test CA), every
 * exchange recorded as a flow; proxyauth as RFC 1929 credentials.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { testCaFile } from "./https_helpers.ts";
import { curl } from "./helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir } from "./https_helpers.ts";
import { echoOrigin, withModes } from "./modes_helpers.ts";

function curlSocks(args: string[]) {
  return curl(["--noproxy", "", "--max-time", "20", ...args], 30_000);
}

test("socks5: curl --socks5-hostname and --socks5 reach an http origin; flows recorded", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin();
  try {
    await withModes({ mode: ["socks5@0"] }, async (p) => {
      const socks = `127.0.0.1:${p.port("socks5")}`;
      const byName = await curlSocks([
        "--socks5-hostname",
        socks,
        `http://localhost:${origin.port}/by-name`,
      ]);
      assert.equal(byName.code, 0, byName.stderr);
      assert.equal(byName.stdout, `GET /by-name host=localhost:${origin.port} auth=-`);
      const byIp = await curlSocks([
        "--socks5",
        socks,
        `http://127.0.0.1:${origin.port}/by-ip`,
      ]);
      assert.equal(byIp.code, 0, byIp.stderr);
      assert.equal(byIp.stdout, `GET /by-ip host=127.0.0.1:${origin.port} auth=-`);
      const flows = await p.flowsDone(2);
      assert.deepEqual(
        flows.map((f) => `${f.request.scheme} ${f.request.host} ${f.request.path}`).sort(),
        ["http 127.0.0.1 /by-ip", "http localhost /by-name"],
      );
      assert.ok(flows.every((f) => f.response?.status === 200));
    });
  } finally {
    await origin.close();
  }
});

test("socks5: https origins are intercepted (leaf from our CA), by name and by IP", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost", "127.0.0.1"]);
  const origin = await httpsOrigin(cert);
  const caFile = await testCaFile();
  try {
    await withModes(
      { mode: ["socks5@0"], ssl_verify_upstream_trusted_ca: cert.caFile },
      async (p) => {
        const socks = `127.0.0.1:${p.port("socks5")}`;
        for (
          const [flag, host] of [["--socks5-hostname", "localhost"], ["--socks5", "127.0.0.1"]]
        ) {
          const r = await curlSocks([
            "-v",
            flag,
            socks,
            "--cacert",
            caFile,
            `https://${host}:${origin.port}/secret`,
          ]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(
            r.stdout,
            `hello from the origin: GET /secret (Host: ${host}:${origin.port})`,
          );
          // Verified against the test CA only: the leaf was ours, so the proxy saw inside.
          assert.match(r.stderr, /issuer: CN=mitm\.ts CA/);
        }
        const flows = await p.flowsDone(2);
        for (const f of flows) {
          assert.equal(f.request.scheme, "https");
          assert.equal(f.request.path, "/secret");
          assert.equal(f.response?.status, 200);
        }
      },
    );
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("socks5 with proxyauth: right credentials pass, wrong ones and none are refused", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin();
  try {
    await withModes({ mode: ["socks5@0"], proxyauth: "alice:s3cret" }, async (p) => {
      const port = p.port("socks5");
      const url = `http://127.0.0.1:${origin.port}/auth`;
      const ok = await curlSocks(["-x", `socks5h://alice:s3cret@127.0.0.1:${port}`, url]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, `GET /auth host=127.0.0.1:${origin.port} auth=-`);

      const wrong = await curlSocks(["-x", `socks5h://alice:guess@127.0.0.1:${port}`, url]);
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /authentication failed|User was rejected/i);

      const none = await curlSocks(["--socks5-hostname", `127.0.0.1:${port}`, url]);
      assert.notEqual(none.code, 0);
      assert.match(none.stderr, /No authentication method was acceptable|authentication/i);

      assert.deepEqual(origin.requests, [`GET /auth host=127.0.0.1:${origin.port} auth=-`]);
      assert.ok(
        p.log.some((l) => /SOCKS5 handshake failed: wrong username or password/.test(l)),
        p.log.join("\n"),
      );
    });
  } finally {
    await origin.close();
  }
});

test("socks5: an unreachable target gets a SOCKS5 error reply, not a hang", {
  timeout: 30_000,
}, async () => {
  const closed = await echoOrigin();
  const port = closed.port;
  await closed.close();
  await withModes({ mode: ["socks5@0"] }, async (p) => {
    const r = await curlSocks([
      "--socks5",
      `127.0.0.1:${p.port("socks5")}`,
      `http://127.0.0.1:${port}/`,
    ]);
    assert.notEqual(r.code, 0);
    // REP 5: connection refused (RFC 1928 section 6)
    assert.match(r.stderr, /SOCKS5 connection to 127\.0\.0\.1\. \(5\)|refused/i);
  });
});
