/**
 * The README's scripted-run workflow, for real: examples/replay/fetch_some.ts (on the runtime
 * running this test) fetches http and https URLs from live local origins through the mitm CLI
 * recording with -w; the origins are stopped; the same script runs again through mitm -S with the
 * recording, and prints exactly the same thing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import process from "node:process";
import { join } from "node:path";
import { readFlows } from "../../src/flow/record_file.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { ROOT, run, startProxyProcess } from "../e2e/helpers.ts";
import { httpsOrigin, makeOriginCert, testCaFile } from "../e2e/https_helpers.ts";
import { tempDir } from "./helpers.ts";

/** Runs the example through `proxyUrl`, trusting the test CA, and returns its output. */
async function fetchSome(proxyUrl: string, urls: string[]) {
  const script = join(ROOT, "examples/replay/fetch_some.ts");
  const ca = await testCaFile();
  const args = runtime.name === "deno" ? ["run", "-A", script, ...urls] : [script, ...urls];
  return await run(process.execPath, args, {
    timeoutMs: 60_000,
    env: {
      ...process.env as Record<string, string>,
      HTTP_PROXY: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      https_proxy: proxyUrl,
      NO_PROXY: "",
      no_proxy: "",
      DENO_CERT: ca,
      NODE_EXTRA_CA_CERTS: ca,
      // Deno would look for its own updates through the proxy: a CONNECT flow of its own.
      DENO_NO_UPDATE_CHECK: "1",
    },
  });
}

async function plainOrigin() {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ from: "plain origin", path: req.url }));
  });
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test("workflow: record a script's http and https traffic, replay it offline, same output", async () => {
  const { dir, remove } = tempDir();
  const cert = await makeOriginCert(dir, ["localhost", "127.0.0.1"]);
  const plain = await plainOrigin();
  const secure = await httpsOrigin(cert);
  const urls = [
    `http://127.0.0.1:${plain.port}/one?x=1`,
    `https://localhost:${secure.port}/two`,
    `http://127.0.0.1:${plain.port}/three`,
  ];
  const recording = join(dir, "flows.jsonl");
  let closed = false;
  try {
    const recorder = await startProxyProcess([
      "--no-web",
      "-w",
      recording,
      "--set",
      `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
    ]);
    const first = await fetchSome(recorder.url, urls);
    assert.equal(await recorder.stop(), 0, recorder.output());
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(first.stdout.trim().split("\n").length, 3, first.stdout);
    assert.match(
      first.stdout,
      /^200 https:\/\/localhost:\d+\/two text\/plain "hello from the origin/m,
    );
    assert.equal(readFlows(recording).flows.length, 3);

    await plain.close();
    await secure.close();
    closed = true;

    const replayer = await startProxyProcess(["--no-web", "-S", recording]);
    const again = await fetchSome(replayer.url, urls);
    const out = replayer.output();
    assert.equal(await replayer.stop(), 0, out);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(again.stdout, first.stdout);
    assert.match(out, /server replay: 3 flows \(3 distinct requests\) loaded/);
  } finally {
    if (!closed) {
      await plain.close();
      await secure.close();
    }
    remove();
  }
});
