// HTTPS interception through the new core on real sockets: curl CONNECTs through a regular-mode
// listener, trusts the proxy's test CA, and the proxy talks TLS to an https origin on 127.0.0.1
// whose certificate comes from a second CA.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { execFile } from "node:child_process";
import { CertificateAuthority, LeafCache } from "../../src/ca/mod.ts";
import { network } from "../../src/runtime/mod.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import { runtimeServices } from "../../src/proxy/driver/runtime_services.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { testCa } from "../fixtures/ca.ts";

test("curl -x: CONNECT, intercepted TLS, an https origin; the flow records both TLS sides", async () => {
  const proxyCa = await testCa();
  const { ca: originCa } = await CertificateAuthority.create();
  const originLeaf = await originCa.issue(["127.0.0.1"]);
  const origin = https.createServer(
    { cert: originLeaf.certPem, key: originLeaf.keyPem, ALPNProtocols: ["http/1.1"] },
    (req, res) => {
      const body = `secure hello from ${req.url}`;
      res.writeHead(200, { "Content-Length": Buffer.byteLength(body) });
      res.end(body);
    },
  );
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const originPort = (origin.address() as { port: number }).port;

  const flows: Flow[] = [];
  const failures: unknown[] = [];
  const services = runtimeServices({
    network,
    leaves: new LeafCache(proxyCa.ca),
    verifyUpstream: true,
    extraCa: [originCa.certPem],
    hook(name, data) {
      if (name === "flow_done") flows.push(data as Flow);
      if (name === "tls_failed_client" || name === "tls_failed_server") failures.push(data);
    },
    log() {},
  });
  const drivers: Promise<void>[] = [];
  const listener = await network.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
    const client = new Client(conn.remote, conn.local);
    const ctx = new Context(client, DEFAULT_LAYER_OPTIONS);
    drivers.push(new Driver(new RegularMode(ctx), client, conn, services).run());
  });
  try {
    const out = await curl([
      "-s",
      "--cacert",
      proxyCa.certPemFile,
      "-x",
      `http://127.0.0.1:${listener.address.port}`,
      `https://127.0.0.1:${originPort}/s?x=1`,
    ]);
    assert.equal(out, "secure hello from /s?x=1");
    await Promise.all(drivers);
    assert.deepEqual(failures, []);
    assert.equal(flows.length, 1);
    const flow = flows[0];
    assert.equal(flow.request.url, `https://127.0.0.1:${originPort}/s?x=1`);
    assert.equal(flow.response?.status, 200);
    assert.match(flow.client.tls?.version ?? "", /^TLSv1\.[23]$/);
    // curl offered h2 and http/1.1: it gets h2, translated to the HTTP/1.1-only origin.
    assert.equal(flow.client.tls?.alpn, "h2");
    assert.equal(flow.request.httpVersion, "HTTP/2.0");
    assert.equal(flow.response?.httpVersion, "HTTP/1.1");
    assert.notEqual(flow.server?.tls?.alpn, "h2", "the origin offers HTTP/1.1 only");
    assert.equal(flow.client.tls?.sni, null, "curl sends no SNI for an IP address");
    assert.match(flow.server?.tls?.version ?? "", /^TLSv1\.[23]$/);
    assert.ok((flow.server?.timestampTlsEnd ?? 0) >= (flow.server?.timestampTcpStart ?? Infinity));
  } finally {
    await listener.close();
    await new Promise<void>((r) => origin.close(() => r()));
  }
});

test("a client that refuses our certificate: tls_failed_client with the reason", async () => {
  const proxyCa = await testCa();
  const failures: { error: string }[] = [];
  const flows: Flow[] = [];
  const services = runtimeServices({
    network,
    leaves: new LeafCache(proxyCa.ca),
    verifyUpstream: true,
    hook(name, data) {
      if (name === "tls_failed_client") failures.push(data as { error: string });
      if (name === "flow_done") flows.push(data as Flow);
    },
    log() {},
  });
  const drivers: Promise<void>[] = [];
  const listener = await network.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
    const client = new Client(conn.remote, conn.local);
    drivers.push(
      new Driver(new RegularMode(new Context(client)), client, conn, services).run(),
    );
  });
  const caDir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-core-"));
  const emptyCa = path.join(caDir, "none.pem");
  fs.writeFileSync(emptyCa, (await CertificateAuthority.create()).ca.certPem);
  try {
    // curl trusts another CA only: it must refuse the leaf and hang up.
    await assert.rejects(
      curl([
        "-s",
        "--cacert",
        emptyCa,
        "-x",
        `http://127.0.0.1:${listener.address.port}`,
        "https://127.0.0.1:9/",
      ]),
    );
    await Promise.all(drivers);
    assert.equal(failures.length, 1);
    assert.ok(failures[0].error.length > 0);
    assert.equal(flows.length, 1, "the failure is a flow");
    assert.match(flows[0].error?.message ?? "", /^client TLS handshake failed: /);
    assert.equal(flows[0].request.method, "CONNECT");
  } finally {
    await listener.close();
    fs.rmSync(caDir, { recursive: true, force: true });
  }
});

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["--max-time", "30", ...args], (e, stdout) => {
      if (e) reject(e);
      else resolve(String(stdout));
    });
  });
}
