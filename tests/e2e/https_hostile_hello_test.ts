/**
 * No first TLS flight may end the proxy. One proxy process (the CLI, on the runtime running the
 * tests) meets clients whose ClientHello its TLS stack rejects: h2-only ALPN, RSA-only cipher
 * suites or signature algorithms, TLS 1.1 only, TLS 1.3 with only a CCM suite, a valid hello
 * followed by garbage, a truncated hello, a record of garbage. After each, that same process must
 * still be running and serve an ordinary HTTPS request. (On Deno, pushing the ClientHello into
 * node:tls before its handshake had started made a rejected hello an uncaught TypeError that ended
 * the process.)
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import {
  connect,
  type ProxyProcess,
  rawServer,
  readUntil,
  run,
  startProxyProcess,
} from "./helpers.ts";
import {
  connectThrough,
  curlVia,
  type HttpsOrigin,
  httpsOrigin,
  makeOriginCert,
  tempDir,
  testCaFile,
} from "./https_helpers.ts";

let proxy: ProxyProcess;
let origin: HttpsOrigin;
let caFile: string;
let tmp: { dir: string; remove: () => void };

/** openssl s_client through the proxy with `extra` arguments; its output. */
async function sClientVia(extra: string[]): Promise<string> {
  const r = await run("openssl", [
    "s_client",
    "-proxy",
    `127.0.0.1:${proxy.port}`,
    "-connect",
    `localhost:${origin.port}`,
    "-servername",
    "localhost",
    "-CAfile",
    caFile,
    ...extra,
  ], { timeoutMs: 30_000, input: "" });
  return r.stdout + r.stderr;
}

/** The proxy process is alive and still intercepts an ordinary HTTPS request. */
async function stillServes(event: string): Promise<void> {
  const r = await curlVia(proxy.url, ["--cacert", caFile, `https://localhost:${origin.port}/ok`]);
  assert.equal(proxy.child.exitCode, null, `proxy exited after ${event}:\n${proxy.output()}`);
  assert.equal(r.code, 0, `after ${event}: ${r.stderr}\n${proxy.output()}`);
  assert.match(r.stdout, /hello from the origin: GET \/ok/, `after ${event}`);
}

/** A real ClientHello (openssl's), captured by a plain TCP server. */
async function capturedHello(): Promise<Buffer> {
  let resolveHello!: (b: Buffer) => void;
  const hello = new Promise<Buffer>((r) => (resolveHello = r));
  const server = await rawServer((s) => {
    readUntil(s, (b) => b.length >= 5 && b.length >= 5 + b.readUInt16BE(3)).then((b) => {
      resolveHello(b);
      s.destroy();
    }, () => s.destroy());
  });
  try {
    await run("openssl", ["s_client", "-connect", `127.0.0.1:${server.port}`], {
      timeoutMs: 10_000,
      input: "",
    });
    return await hello;
  } finally {
    await server.close();
  }
}

/** Sends `bytes` into a CONNECT tunnel and waits until the proxy closes it (or 10 s pass). */
async function sendIntoTunnel(bytes: Uint8Array, closeWrite: boolean): Promise<void> {
  const s: net.Socket = await connectThrough(proxy.port, `localhost:${origin.port}`);
  s.write(bytes);
  if (closeWrite) s.end();
  await readUntil(s, () => false, 10_000).catch(() => {});
  s.destroy();
}

describe("a ClientHello the proxy's TLS stack rejects ends only its own connection", {
  timeout: 180_000,
}, () => {
  before(async () => {
    tmp = tempDir();
    const cert = await makeOriginCert(tmp.dir, ["localhost"]);
    origin = await httpsOrigin(cert);
    caFile = await testCaFile();
    proxy = await startProxyProcess(["--set", `ssl_verify_upstream_trusted_ca=${cert.caFile}`]);
    await stillServes("start");
  });

  after(async () => {
    await proxy?.stop();
    await origin?.close();
    tmp?.remove();
  });

  for (
    const [what, args] of [
      ["an h2-only ALPN list", ["-alpn", "h2"]],
      ["TLS 1.2 with only AES128-SHA", ["-tls1_2", "-cipher", "AES128-SHA"]],
      ["RSA-only signature algorithms", ["-sigalgs", "RSA+SHA256"]],
      ["TLS 1.1 only", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]],
      ["TLS 1.3 with only TLS_AES_128_CCM_SHA256", [
        "-tls1_3",
        "-ciphersuites",
        "TLS_AES_128_CCM_SHA256",
      ]],
    ] as const
  ) {
    test(`openssl s_client with ${what}`, async () => {
      await sClientVia([...args]);
      await stillServes(what);
    });
  }

  test("a raw CONNECT followed by a valid ClientHello and garbage", async () => {
    const hello = await capturedHello();
    const garbage = new Uint8Array(64).fill(0xa5);
    await sendIntoTunnel(new Uint8Array([...hello, ...garbage]), false);
    await stillServes("a ClientHello followed by garbage");
  });

  test("a raw CONNECT followed by a truncated ClientHello", async () => {
    const hello = await capturedHello();
    await sendIntoTunnel(hello.subarray(0, Math.floor(hello.length / 2)), true);
    await stillServes("a truncated ClientHello");
  });

  test("a raw CONNECT followed by a handshake record of garbage", async () => {
    const body = new Uint8Array(200).fill(0x5a);
    body[0] = 1; // ClientHello
    body[1] = 0;
    body[2] = 0;
    body[3] = 196;
    await sendIntoTunnel(new Uint8Array([0x16, 0x03, 0x01, 0x00, 200, ...body]), false);
    await stillServes("a garbage handshake record");
  });

  test("a raw connection that sends a ClientHello without CONNECT", async () => {
    const s = await connect(proxy.port);
    s.write(await capturedHello());
    await readUntil(s, () => false, 10_000).catch(() => {});
    s.destroy();
    await stillServes("a ClientHello sent to the proxy port itself");
  });
});
