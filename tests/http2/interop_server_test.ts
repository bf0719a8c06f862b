/**
 * The server-role connection against real clients over TCP on 127.0.0.1: curl with
 * --http2-prior-knowledge and over TLS with ALPN h2, nghttp with 100 concurrent streams, and a
 * node:http2 client in this process; 64 MiB both ways across flow-control windows.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { join } from "node:path";
import { curl, run } from "../e2e/helpers.ts";
import { makeOriginCert, tempDir } from "../e2e/https_helpers.ts";
import { startTestServer, type TestServer } from "./h2_server.ts";
import { patternSha256 } from "./h2_client.ts";
import { PATTERN } from "./socket_driver.ts";

const MiB = 1024 * 1024;
const BIG = 64 * MiB;
const LONG = { timeout: 180_000 };

/** Runs a command and returns its exit code, the length and sha256 of its stdout, and stderr. */
function spawnHash(
  cmd: string,
  args: string[],
): Promise<{ code: number | null; length: number; sha256: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const h = createHash("sha256");
    let length = 0;
    let stderr = "";
    child.stdout.on("data", (d: Uint8Array) => {
      h.update(d);
      length += d.length;
    });
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 150_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, length, sha256: h.digest("hex"), stderr });
    });
  });
}

function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path).on("data", (d) => h.update(d)).on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

describe("server role, h2c with prior knowledge", () => {
  let server: TestServer;
  let tmp: { dir: string; remove: () => void };
  let bigFile: string;
  let bigSha: string;

  before(async () => {
    server = await startTestServer();
    tmp = tempDir("mitm-h2-");
    bigFile = join(tmp.dir, "big.bin");
    // 64 MiB of varied bytes (a counter mixed per block), written once.
    const block = new Uint8Array(MiB);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) {
      for (let j = 0; j < block.length; j++) block[j] = (j * 131 + i * 17 + (j >> 9)) & 0xff;
      parts.push(block.slice());
    }
    writeFileSync(bigFile, Buffer.concat(parts));
    bigSha = await fileSha256(bigFile);
  });
  after(async () => {
    await server.close();
    tmp.remove();
  });

  test("curl: GET with a trailer", LONG, async () => {
    const r = await curl([
      "-s",
      "--http2-prior-knowledge",
      "-w",
      "\n%{http_version}",
      `http://127.0.0.1:${server.port}/hello`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello\n2");
  });

  test("curl: 64 MiB download", LONG, async () => {
    const r = await spawnHash("curl", [
      "-s",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${server.port}/bytes/${BIG}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.length, BIG);
    assert.equal(r.sha256, patternSha256(BIG, PATTERN));
  });

  test("curl: 64 MiB upload", LONG, async () => {
    const r = await curl([
      "-s",
      "--http2-prior-knowledge",
      "--data-binary",
      `@${bigFile}`,
      `http://127.0.0.1:${server.port}/count`,
    ], 150_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, String(BIG));
  });

  test("curl: 64 MiB echoed back with per-stream backpressure", LONG, async () => {
    const r = await spawnHash("curl", [
      "-s",
      "--http2-prior-knowledge",
      "--data-binary",
      `@${bigFile}`,
      `http://127.0.0.1:${server.port}/echo`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.length, BIG);
    assert.equal(r.sha256, bigSha);
    // The echo never held much more than a window's worth: it reopens the window as it sends.
    assert.ok(server.maxQueued <= 16 * MiB, `max queued ${server.maxQueued}`);
  });

  test("nghttp: 100 concurrent streams", LONG, async () => {
    const r = await run("nghttp", ["-nv", "-m", "100", `http://127.0.0.1:${server.port}/hello`], {
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/:status: 200/g)?.length, 100);
    assert.equal(r.stdout.match(/x-served-by: mitm-ts-http2-codec/g)?.length, 100);
    assert.match(r.stdout, /recv SETTINGS frame/);
  });

  test("nghttp: 64 MiB download", LONG, async () => {
    const r = await spawnHash("nghttp", [`http://127.0.0.1:${server.port}/bytes/${BIG}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.length, BIG);
    assert.equal(r.sha256, patternSha256(BIG, PATTERN));
  });

  test("nghttp: 100 concurrent 1 MiB downloads", LONG, async () => {
    const r = await spawnHash("nghttp", [
      "-m",
      "100",
      `http://127.0.0.1:${server.port}/bytes/${MiB}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.length, 100 * MiB);
  });

  test("node:http2 client: 100 concurrent requests, trailers, 64 MiB each way", LONG, async () => {
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const get = (path: string) =>
        new Promise<
          { status: number; body: number; sha: string; trailers: Record<string, unknown> }
        >((resolve, reject) => {
          const req = session.request({ ":path": path });
          const h = createHash("sha256");
          let body = 0;
          let status = 0;
          let trailers = {};
          req.on("response", (hd) => (status = Number(hd[":status"])));
          req.on("trailers", (t) => (trailers = t));
          req.on("data", (d: Uint8Array) => {
            h.update(d);
            body += d.length;
          });
          req.on("end", () => resolve({ status, body, sha: h.digest("hex"), trailers }));
          req.on("error", reject);
        });
      const many = await Promise.all(Array.from({ length: 100 }, () => get("/hello")));
      assert.ok(many.every((r) => r.status === 200 && r.body === 5));
      assert.equal(many[0].trailers["x-served-by"], "mitm-ts-http2-codec");

      const big = await get(`/bytes/${BIG}`);
      assert.equal(big.body, BIG);
      assert.equal(big.sha, patternSha256(BIG, PATTERN));

      const counted = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": "/count", ":method": "POST" });
        let text = "";
        req.on("data", (d) => (text += d));
        req.on("end", () => resolve(text));
        req.on("error", reject);
        createReadStream(bigFile).pipe(req);
      });
      assert.equal(counted, String(BIG));
    } finally {
      session.close();
    }
    assert.deepEqual(server.errors, []);
  });
});

describe("server role over TLS with ALPN h2", () => {
  test("curl --http2 negotiates h2 and downloads 64 MiB", LONG, async () => {
    const tmp = tempDir("mitm-h2tls-");
    const cert = await makeOriginCert(tmp.dir, ["localhost", "127.0.0.1"]);
    const server = await startTestServer({ tls: { cert: cert.certPem, key: cert.keyPem } });
    try {
      const url = `https://localhost:${server.port}`;
      const resolve = `localhost:${server.port}:127.0.0.1`;
      const hello = await curl([
        "-s",
        "--http2",
        "--cacert",
        cert.caFile,
        "--resolve",
        resolve,
        "-w",
        "\n%{http_version}",
        `${url}/hello`,
      ]);
      assert.equal(hello.code, 0, hello.stderr);
      assert.equal(hello.stdout, "hello\n2");
      const r = await spawnHash("curl", [
        "-s",
        "--http2",
        "--cacert",
        cert.caFile,
        "--resolve",
        resolve,
        `${url}/bytes/${BIG}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.sha256, patternSha256(BIG, PATTERN));
    } finally {
      await server.close();
      tmp.remove();
    }
  });
});
