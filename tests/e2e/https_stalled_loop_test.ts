/**
 * A proxy whose event loop is busy (many handshakes at once, a loaded machine) must still intercept
 * a ClientHello that arrived while it was busy: the wait for a silent client (server-first
 * protocols are relayed untouched) counts only silence the proxy was awake to see. Before, Deno ran
 * the overdue timer first and passed the tunnel through, so the client saw the origin's
 * certificate.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runtime } from "../../src/runtime/mod.ts";
import { testCa } from "../fixtures/ca.ts";
import { httpsOrigin, makeOriginCert, tempDir, withProxy } from "./https_helpers.ts";

/** Blocks this process's event loop (the proxy runs in it) for `ms`. */
function stallEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* busy, as a proxy flooded with work would be */ }
}

test("a ClientHello that arrives while the proxy's event loop stalls is still intercepted", {
  timeout: 120_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["late.test"]);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  try {
    await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy, log) => {
      const script = fileURLToPath(new URL("./late_hello_client.ts", import.meta.url));
      const args = [
        ...(runtime.name === "deno" ? ["run", "-A", script] : [script]),
        String(proxy.address.port),
        `127.0.0.1:${origin.port}`,
        "late.test",
        ca.certPemFile,
        // The client speaks well within the proxy's 1 s wait for a silent client...
        "300",
      ];
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      let stalled = false;
      child.stdout.on("data", (d: Buffer) => {
        out += d;
        // ... but the proxy is busy from the moment the tunnel is open until well past that wait.
        if (!stalled && out.includes("connected\n")) {
          stalled = true;
          stallEventLoop(1500);
        }
      });
      child.stderr.on("data", (d: Buffer) => (err += d));
      const code = await new Promise<number | null>((r) => child.on("exit", r));
      const lines = out.trim().split("\n");
      const what = `client output:\n${out}${err}\nproxy log:\n${log.join("\n")}`;
      assert.equal(code, 0, what);
      assert.ok(stalled, what);
      const result = JSON.parse(lines[lines.length - 1]);
      assert.equal(result.issuer, "mitm.ts CA", `the proxy's leaf, not the origin's; ${what}`);
      assert.equal(result.authorized, true, what);
      assert.equal(result.status, "HTTP/1.1 200 OK", what);
      assert.ok(origin.requests.includes("GET /late"), what);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
