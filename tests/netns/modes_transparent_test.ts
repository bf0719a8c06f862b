/**
 * transparent mode for real: the mitm.ts CLI runs in the router namespace behind an iptables
 * REDIRECT; curl in the client namespace asks origins (non-standard ports) in the origin
 * namespace directly, over http and https. The https one is intercepted: curl trusts only the
 * test CA, the proxy trusts the origin's own CA. A connection made straight to the proxy's port
 * (not redirected) is served as a regular proxy.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { testCa, testConfdir } from "../fixtures/ca.ts";
import { makeOriginCert, tempDir } from "../e2e/https_helpers.ts";
import {
  ADDR,
  createTopology,
  netnsUnavailable,
  nsRun,
  nsSpawn,
  runtimeCommand,
  waitForLine,
} from "./helpers.ts";

const skip = netnsUnavailable() ?? false;
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const PROXY_PORT = 8080;
const HTTP_PORT = 8765;
const HTTPS_PORT = 8766;

function stop(child: ChildProcess | undefined) {
  if (child && child.exitCode === null) child.kill("SIGKILL");
}

test("transparent mode: redirected http and https (intercepted) reach the original destination", {
  skip,
  timeout: 90_000,
}, async () => {
  const topo = createTopology(PROXY_PORT);
  const tmp = tempDir("mitm-transparent-");
  const cert = await makeOriginCert(tmp.dir, ["origin.test", ADDR.origin]);
  const ca = await testCa();
  const record = join(tmp.dir, "flows.jsonl");
  const children: ChildProcess[] = [];
  let output = "";
  try {
    const plain = nsSpawn(
      topo.origin,
      runtimeCommand(here("origin_server.ts")).concat(String(HTTP_PORT)),
    );
    children.push(plain);
    await waitForLine(plain, /^listening/);
    const secure = nsSpawn(
      topo.origin,
      runtimeCommand(here("tls_origin_server.ts")).concat(
        String(HTTPS_PORT),
        cert.certFile,
        cert.keyFile,
      ),
    );
    children.push(secure);
    await waitForLine(secure, /^listening/);
    const proxy = nsSpawn(
      topo.router,
      runtimeCommand(here("../../cli.ts")).concat(
        "--mode",
        "transparent",
        "--listen-host",
        "::",
        "-p",
        String(PROXY_PORT),
        "--confdir",
        await testConfdir(),
        "--no-web",
        "--set",
        `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
        "-w",
        record,
      ),
    );
    children.push(proxy);
    proxy.stdout!.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
    proxy.stderr!.on("data", (d: Uint8Array) => (output += new TextDecoder().decode(d)));
    await waitForLine(proxy, /transparent proxy listening at/);

    const http = nsRun(topo.client, [
      "curl",
      "-sS",
      "--max-time",
      "15",
      `http://${ADDR.origin}:${HTTP_PORT}/plain`,
    ]);
    assert.ok(http.ok, `curl http: ${http.out}\nproxy: ${output}`);
    assert.match(http.out, new RegExp(`^origin (::ffff:)?10\\.77\\.2\\.2 ${HTTP_PORT} /plain`));

    const https = nsRun(topo.client, [
      "curl",
      "-sS",
      "-v",
      "--max-time",
      "15",
      "--cacert",
      ca.certPemFile,
      "--resolve",
      `origin.test:${HTTPS_PORT}:${ADDR.origin}`,
      `https://origin.test:${HTTPS_PORT}/tls`,
    ]);
    assert.ok(https.ok, `curl https: ${https.out}\nproxy: ${output}`);
    assert.match(
      https.out,
      new RegExp(`tls origin ${HTTPS_PORT} /tls host=origin\\.test:${HTTPS_PORT}`),
    );
    // curl trusted only the test CA: the leaf came from the proxy, which saw inside.
    assert.match(https.out, /issuer: CN=mitm\.ts CA/);

    // Straight to the proxy's port from the router itself: not redirected, so a regular proxy.
    const direct = nsRun(topo.router, [
      "curl",
      "-sS",
      "--max-time",
      "15",
      "--noproxy",
      "",
      "-x",
      `http://127.0.0.1:${PROXY_PORT}`,
      `http://${ADDR.origin}:${HTTP_PORT}/direct`,
    ]);
    assert.ok(direct.ok, `curl direct: ${direct.out}\nproxy: ${output}`);
    assert.match(direct.out, /\/direct/);

    // The recorder writes each flow when it is done.
    let lines: string[] = [];
    for (let i = 0; i < 50; i++) {
      lines = readFileSync(record, "utf8").split("\n").filter(Boolean);
      if (lines.length >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seen = lines.map((l) => JSON.parse(l).request)
      .map((r: { scheme: string; host: string; port: number; path: string }) =>
        `${r.scheme}://${r.host}:${r.port}${r.path}`
      ).sort();
    assert.deepEqual(seen, [
      `http://${ADDR.origin}:${HTTP_PORT}/direct`,
      `http://${ADDR.origin}:${HTTP_PORT}/plain`,
      `https://${ADDR.origin}:${HTTPS_PORT}/tls`,
    ]);
  } finally {
    for (const c of children) stop(c);
    topo.cleanup();
    tmp.remove();
  }
});
