/**
 * HTTP/2 bodies stream with per-stream flow control end to end: 1 GiB down and 1 GiB up through
 * the proxy (new core, reverse mode: curl speaks h2c to it, it speaks h2 over TLS to the origin)
 * with the proxy's memory flat, under the limit of the HTTP/1 test (streaming_test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { CertificateAuthority } from "../../src/ca/mod.ts";
import { curl, readUntil, startProxyProcess } from "./helpers.ts";

const GIB = 1024 * 1024 * 1024;
/**
 * The HTTP/1 test's limit is 150 MB, with a plain-HTTP origin. Over HTTP/2 Bun stays under it (this
 * test peaked at 124-130 MB) but Deno does not (180-185 MB; HTTP/1.1 to a TLS origin peaks higher
 * still on Deno, see docs/BENCHMARKS.md, "1 GiB over HTTP/2"). So this checks that memory stays
 * bounded (one buffered body would be over 1 GB) at a limit above Deno's, and logs the peak.
 */
const RSS_LIMIT = 250 * 1000 * 1000;

/**
 * The origin runs in Node (node:http2 there is complete; Deno's server ends large responses
 * with RST_STREAM, see docs/http2.md): h2 only, GET streams `size` zero bytes honouring flow
 * control, PUT answers with the number of bytes it read.
 */
const ORIGIN = `
const http2 = require("node:http2");
const [cert, key, size] = [process.env.CERT, process.env.KEY, Number(process.env.SIZE)];
const server = http2.createSecureServer({ cert, key, allowHTTP1: false });
const chunk = Buffer.alloc(256 * 1024);
server.on("stream", async (stream, headers) => {
  stream.on("error", () => {});
  // Read the (empty) request to its end: node:http2 otherwise resets the stream with
  // RST_STREAM(NO_ERROR) once the response is written, sometimes before its last DATA.
  if (headers[":method"] !== "PUT") stream.resume();
  if (headers[":method"] === "PUT") {
    let n = 0;
    for await (const d of stream) n += d.length;
    stream.respond({ ":status": 200 });
    stream.end(String(n));
    return;
  }
  stream.respond({ ":status": 200, "content-length": String(size) });
  for (let sent = 0; sent < size; sent += chunk.length) {
    const part = sent + chunk.length <= size ? chunk : chunk.subarray(0, size - sent);
    if (!stream.write(part)) await new Promise((r) => stream.once("drain", r));
  }
  stream.end();
});
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;

async function nodeH2Origin(dir: string, size: number) {
  const { ca } = await CertificateAuthority.create();
  const leaf = await ca.issue(["127.0.0.1"]);
  const script = join(dir, "origin.cjs");
  writeFileSync(script, ORIGIN);
  const child = spawn("node", [script], {
    env: { ...process.env, CERT: leaf.certPem, KEY: leaf.keyPem, SIZE: String(size) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const out = await readUntil(child.stdout as never, (b) => /port \d+/.test(String(b)), 30_000);
  return {
    port: Number(/port (\d+)/.exec(String(out))![1]),
    stop: () => child.kill(),
  };
}

test("HTTP/2: 1 GiB download and 1 GiB upload stream through with peak RSS under 250 MB", {
  timeout: 400_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mitm-h2-stream-"));
  const origin = await nodeH2Origin(dir, GIB);
  const proxy = await startProxyProcess([
    "--mode",
    `reverse:https://127.0.0.1:${origin.port}`,
    "--set",
    "ssl_insecure=true",
  ]);
  const file = join(dir, "1gib.bin");
  // A sparse file: 1 GiB of zeros without 1 GiB of disk.
  const fd = openSync(file, "w");
  ftruncateSync(fd, GIB);
  closeSync(fd);
  try {
    const url = `${proxy.url}/big`;
    const down = await curl([
      "--http2-prior-knowledge",
      "-o",
      "/dev/null",
      "-w",
      "%{http_version} %{size_download}",
      url,
    ], 300_000);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stdout, `2 ${GIB}`);

    const up = await curl(["--http2-prior-knowledge", "-T", file, url], 300_000);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(Number(up.stdout), GIB);

    const peak = proxy.peakRss();
    assert.ok(peak > 0, "could not read the proxy's peak RSS");
    console.log(`proxy peak RSS ${(peak / 1e6).toFixed(1)} MB (HTTP/2)`);
    assert.ok(peak < RSS_LIMIT, `proxy peak RSS ${(peak / 1e6).toFixed(1)} MB`);
  } finally {
    await proxy.stop();
    origin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
