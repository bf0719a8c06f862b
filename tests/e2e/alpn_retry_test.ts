// ALPN with the default (eager) connection strategy through the whole proxy: the origin's
// handshake comes first and is offered the client's protocols. An HTTP/1.1-only client (curl
// --http1.1, node:https, which sends no ALPN and so is taken as HTTP/1.1) to an h2-only
// node:http2 origin: the origin refuses http/1.1 (the alert no_application_protocol), so the
// proxy dials it again offering h2 too and translates. A dual-stack origin keeps getting
// http/1.1 from such a client (one dial, no translation).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { CertificateAuthority } from "../../src/ca/mod.ts";
import type { Flow } from "../../src/flow/flow.ts";
import https from "node:https";
import tls from "node:tls";
import { Buffer } from "node:buffer";
import { testCa } from "../fixtures/ca.ts";
import { connectThrough, curlVia, eventually, testCaFile, withProxy } from "./https_helpers.ts";

type Origin = { port: number; handshakes: number; close(): Promise<void> };

let h2Only: Origin;
let dualStack: Origin;

/** A node:http2 origin answering "<protocol> <method> <path>"; `allowHTTP1` adds HTTP/1.1. */
async function origin(allowHTTP1: boolean): Promise<Origin> {
  const { ca } = await CertificateAuthority.create();
  const leaf = await ca.issue(["localhost"]);
  const server = http2.createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, allowHTTP1 });
  const o: Origin = { port: 0, handshakes: 0, close: () => Promise.resolve() };
  server.on("secureConnection", () => o.handshakes++);
  server.on("request", (req, res) => {
    res.setHeader("content-type", "text/plain");
    res.end(`${req.httpVersion} ${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  o.port = (server.address() as { port: number }).port;
  o.close = () => new Promise<void>((r) => server.close(() => r()));
  return o;
}

before(async () => {
  h2Only = await origin(false);
  dualStack = await origin(true);
});

after(async () => {
  await h2Only.close();
  await dualStack.close();
});

function recorder() {
  const flows: Flow[] = [];
  return { flows, addon: { name: "recorder", flow_done: (f: Flow) => void flows.push(f) } };
}

describe("ALPN with the origin's handshake first (eager, the default)", () => {
  test("curl --http1.1 to an h2-only origin: dialled again offering h2, translated", async () => {
    const rec = recorder();
    await withProxy({ ssl_insecure: true }, async (proxy, log) => {
      await proxy.addons.add(rec.addon);
      const r = await curlVia(`http://127.0.0.1:${proxy.address.port}`, [
        "-s",
        "--http1.1",
        "--cacert",
        await testCaFile(),
        `https://localhost:${h2Only.port}/only-h2?x=1`,
      ]);
      assert.equal(r.stdout, "2.0 GET /only-h2?x=1", r.stderr);
      assert.ok(await eventually(() => rec.flows.length > 0, 10_000), "a flow was recorded");
      const flow = rec.flows[0];
      assert.equal(flow.request.httpVersion, "HTTP/1.1");
      assert.equal(flow.response?.httpVersion, "HTTP/2.0");
      assert.equal(flow.client.tls?.alpn, "http/1.1");
      assert.equal(flow.server?.tls?.alpn, "h2");
      assert.ok(!log.some((l) => l.includes("TLS with the origin")), log.join("\n"));
      const retries = log.filter((l) => l.includes("dialling again offering"));
      assert.equal(retries.length, 1, log.join("\n"));
      assert.match(retries[0], new RegExp(`localhost:${h2Only.port}`));
    });
  });

  test("node:https (no ALPN) to an h2-only origin: offered http/1.1, then h2 too", async () => {
    const rec = recorder();
    await withProxy({ ssl_insecure: true }, async (proxy, log) => {
      await proxy.addons.add(rec.addon);
      const authority = `localhost:${h2Only.port}`;
      const tunnel = await connectThrough(proxy.address.port, authority);
      const ca = (await testCa()).ca.certPem;
      const text = await new Promise<string>((resolve, reject) => {
        const req = https.request({
          host: "localhost",
          port: h2Only.port,
          path: "/from-node",
          ca,
          createConnection: () => tls.connect({ socket: tunnel, servername: "localhost", ca }),
        } as https.RequestOptions, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(`${res.statusCode} ${Buffer.concat(chunks)}`));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
      tunnel.destroy();
      assert.equal(text, "200 2.0 GET /from-node");
      assert.ok(await eventually(() => rec.flows.length > 0, 10_000), "a flow was recorded");
      const flow = rec.flows[0];
      assert.equal(flow.request.httpVersion, "HTTP/1.1");
      assert.equal(flow.response?.httpVersion, "HTTP/2.0");
      assert.equal(flow.server?.tls?.alpn, "h2");
      assert.ok(
        log.some((l) => l.includes("dialling again offering http/1.1, h2")),
        log.join("\n"),
      );
    });
  });

  test("curl --http1.1 to a dual-stack origin: offered http/1.1 only, once, no translation", async () => {
    const rec = recorder();
    const before = dualStack.handshakes;
    await withProxy({ ssl_insecure: true }, async (proxy, log) => {
      await proxy.addons.add(rec.addon);
      const r = await curlVia(`http://127.0.0.1:${proxy.address.port}`, [
        "-s",
        "--http1.1",
        "--cacert",
        await testCaFile(),
        `https://localhost:${dualStack.port}/both`,
      ]);
      assert.equal(r.stdout, "1.1 GET /both", r.stderr);
      assert.ok(await eventually(() => rec.flows.length > 0, 10_000), "a flow was recorded");
      const flow = rec.flows[0];
      assert.equal(flow.response?.httpVersion, "HTTP/1.1");
      assert.equal(flow.server?.tls?.alpn, "http/1.1");
      assert.ok(!log.some((l) => l.includes("dialling again")), log.join("\n"));
    });
    assert.equal(dualStack.handshakes - before, 1);
  });
});
