/**
 * apt through the proxy: apt's https method runs as the user _apt, so it must be able to read the
 * CA certificate where the proxy wrote it (the confdir is 0755, the key alone 0600). apt-helper
 * download-file is apt's own downloader with apt's configuration (Acquire::https::Proxy and
 * Acquire::https::CaInfo, as README's "Trusting the CA" says).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { run, startProxyProcess } from "./helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir } from "./https_helpers.ts";

const APT_HELPER = "/usr/lib/apt/apt-helper";

function aptUnavailable(): string | null {
  if (!existsSync(APT_HELPER)) return "apt is not installed";
  if (process.getuid?.() !== 0) return "apt drops to the _apt user only when run as root";
  return spawnSync("id", ["_apt"]).status === 0 ? null : "there is no _apt user";
}

test("apt (as _apt) downloads over HTTPS through the proxy, trusting the CA in the confdir", {
  timeout: 120_000,
  skip: aptUnavailable() ?? false,
}, async () => {
  const tmp = tempDir("mitm-apt-");
  chmodSync(tmp.dir, 0o755); // the confdir's parent must be reachable by _apt
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const confdir = join(tmp.dir, "conf"); // made by the proxy
  const downloads = join(tmp.dir, "downloads");
  mkdirSync(downloads);
  chmodSync(downloads, 0o777); // apt writes as _apt
  const proxy = await startProxyProcess([
    "--confdir",
    confdir,
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
  ]);
  try {
    assert.equal(statSync(confdir).mode & 0o777, 0o755);
    assert.equal(statSync(join(confdir, "mitm-ca.pem")).mode & 0o777, 0o600);
    const out = join(downloads, "file");
    const r = await run(APT_HELPER, [
      "-o",
      `Acquire::https::Proxy=${proxy.url}`,
      "-o",
      `Acquire::https::CaInfo=${join(confdir, "mitm-ca-cert.pem")}`,
      "download-file",
      `https://localhost:${origin.port}/pool/file.deb`,
      out,
    ], { timeoutMs: 60_000 });
    const said = r.stdout + r.stderr;
    assert.equal(r.code, 0, said);
    // Run as _apt, not as root (apt warns when it must fall back to root).
    assert.doesNotMatch(said, /unsandboxed as root/, said);
    assert.equal(
      readFileSync(out, "utf8"),
      "hello from the origin: GET /pool/file.deb (Host: " +
        `localhost:${origin.port})`,
    );
    assert.match(proxy.output(), /GET https:\/\/localhost:\d+\/pool\/file\.deb << 200/);
  } finally {
    await proxy.stop();
    await origin.close();
    tmp.remove();
  }
});
