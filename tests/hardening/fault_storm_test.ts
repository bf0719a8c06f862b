/**
 * Faults against the real command-line proxy (a child process): origins that refuse, reset
 * mid-head or mid-body, send garbage, never answer or fail TLS, and clients that leave
 * mid-request or mid-response. Each ends with a clear result and an error on the recorded flow;
 * afterwards the proxy still serves, and its open descriptors (/proc/PID/fd) return to baseline.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProxyProcess } from "../e2e/helpers.ts";
import {
  completeResponse,
  connect,
  eventually,
  exchange,
  rawServer,
  readUntil,
  sleep,
} from "./helpers.ts";

type Server = Awaited<ReturnType<typeof rawServer>>;

/** Origins that misbehave in one way each, on 127.0.0.1. */
async function faultyOrigins() {
  const onHead = (act: (s: net.Socket) => void) => (s: net.Socket) => {
    let buf = "";
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      if (buf.includes("\r\n\r\n")) {
        buf = "";
        act(s);
      }
    });
  };
  const dead = await rawServer(() => {});
  const deadPort = dead.port;
  await dead.close();
  const servers: Record<string, Server> = {
    healthy: await rawServer(
      onHead((s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
    ),
    resetMidHead: await rawServer(onHead((s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Le");
      setTimeout(() => s.resetAndDestroy(), 20);
    })),
    resetMidBody: await rawServer(onHead((s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(100));
      setTimeout(() => s.resetAndDestroy(), 20);
    })),
    garbage: await rawServer(onHead((s) => s.write("\x16\x03\x01 not http at all\r\n\r\n"))),
    silent: await rawServer((s) => s.resume()),
    // Speaks plain TCP where the proxy expects TLS: the handshake fails.
    notTls: await rawServer((s) => s.on("data", () => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"))),
    // Sends a long body slowly, so a client can leave in the middle of it.
    slowBody: await rawServer(onHead((s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + "y".repeat(16384));
    })),
    // Reads a request body that never finishes.
    upload: await rawServer((s) => s.resume()),
  };
  return { servers, deadPort };
}

type Origins = Awaited<ReturnType<typeof faultyOrigins>>;

/** One round of every fault; asserts what each client sees. */
async function storm(proxyPort: number, { servers, deadPort }: Origins): Promise<number> {
  const url = (port: number, path = "/") => `http://127.0.0.1:${port}${path}`;
  const get = (u: string) => `GET ${u} HTTP/1.1\r\nHost: x\r\n\r\n`;
  let faults = 0;

  const refused = await exchange(proxyPort, get(url(deadPort, "/refused")), completeResponse);
  assert.match(refused.text, /^HTTP\/1\.1 502 .*connection refused/s);
  faults++;

  const midHead = await exchange(proxyPort, get(url(servers.resetMidHead.port, "/mid-head")));
  assert.match(midHead.text, /^HTTP\/1\.1 502 /);
  assert.ok(midHead.closed);
  faults++;

  const midBody = await exchange(proxyPort, get(url(servers.resetMidBody.port, "/mid-body")));
  assert.ok(midBody.closed, "a response cut short closes the client connection");
  assert.ok(midBody.text.length < 1000, "the client never gets a complete body");
  faults++;

  const garbage = await exchange(proxyPort, get(url(servers.garbage.port, "/garbage")));
  assert.match(garbage.text, /^HTTP\/1\.1 502 .*status line does not start with HTTP\/1\.x/s);
  faults++;

  const tls = await exchange(
    proxyPort,
    `GET https://127.0.0.1:${servers.notTls.port}/tls HTTP/1.1\r\nHost: x\r\n\r\n`,
    completeResponse,
  );
  assert.match(tls.text, /^HTTP\/1\.1 502 .*TLS handshake failed/s);
  faults++;

  // The origin never answers: the client gives up and leaves.
  const silent = await connect(proxyPort);
  silent.write(get(url(servers.silent.port, "/never")));
  await eventually(() => servers.silent.sockets.length > 0);
  await sleep(50);
  silent.destroy();
  faults++;

  // The client leaves in the middle of its request body.
  const upload = await connect(proxyPort);
  upload.write(
    `POST ${url(servers.upload.port, "/upload")} HTTP/1.1\r\nHost: x\r\n` +
      "Content-Length: 100000\r\n\r\n" + "u".repeat(1000),
  );
  await eventually(() => servers.upload.sockets.length > 0);
  await sleep(50);
  upload.destroy();
  faults++;

  // The client leaves in the middle of the response body.
  const download = await connect(proxyPort);
  download.write(get(url(servers.slowBody.port, "/download")));
  await readUntil(download, (b) => b.length > 1000);
  download.destroy();
  faults++;

  return faults;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Sockets the test's origins still hold open (the proxy should have closed its side). */
function openOriginSockets(servers: Record<string, Server>): number {
  let open = 0;
  for (const [name, server] of Object.entries(servers)) {
    if (name === "healthy") continue; // its connections are pooled by design
    for (const s of server.sockets) if (!s.destroyed && !s.readableEnded) open++;
  }
  return open;
}

test("fault storm: every fault ends clearly, flows carry errors, descriptors return to baseline", {
  timeout: 120_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mitm-storm-"));
  const record = join(dir, "flows.jsonl");
  const origins = await faultyOrigins();
  const { servers } = origins;
  const proxy = await startProxyProcess([
    "--no-web",
    "--set",
    "flow_detail=0",
    "-w",
    record,
  ]);
  const pid = proxy.child.pid!;
  try {
    const healthy = `GET http://127.0.0.1:${servers.healthy.port}/ok HTTP/1.1\r\nHost: x\r\n\r\n`;
    const ok = () => exchange(proxy.port, healthy, (t) => t.endsWith("\r\n\r\nok"));

    // Warm up: one round loads whatever the runtime opens lazily (TLS roots, resolvers, ...).
    await storm(proxy.port, origins);
    assert.match((await ok()).text, /^HTTP\/1\.1 200 OK/);
    await eventually(() => openOriginSockets(servers) === 0, 10_000);
    await sleep(200);
    const baseline = fdCount(pid);

    const rounds = 10;
    let faults = 0;
    for (let i = 0; i < rounds; i++) {
      faults += await storm(proxy.port, origins);
      // The proxy keeps serving others between faults.
      assert.match((await ok()).text, /^HTTP\/1\.1 200 OK/, `healthy request after round ${i}`);
    }

    assert.ok(
      await eventually(() => openOriginSockets(servers) === 0, 10_000),
      `origin connections left open by the proxy: ${openOriginSockets(servers)}`,
    );
    const settled = await eventually(() => fdCount(pid) <= baseline, 10_000);
    assert.ok(settled, `descriptors: baseline ${baseline}, now ${fdCount(pid)}`);

    // Every fault is a recorded flow with an error (the healthy ones have none).
    await proxy.stop();
    const flows = readFileSync(record, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const faulty = flows.filter((f) => !f.request.path.startsWith("/ok"));
    assert.equal(faulty.length, faults + faults / rounds, "one flow per fault (warm-up included)");
    for (const f of faulty) {
      assert.ok(
        f.error?.message,
        `flow ${f.request.path} has an error: ${JSON.stringify(f.error)}`,
      );
      assert.doesNotMatch(f.error.message, /[\r\n]/);
    }
    assert.ok(flows.filter((f) => f.request.path === "/ok").every((f) => f.error === null));
  } finally {
    await proxy.stop();
    for (const s of Object.values(servers)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
