// Headless Chromium through the new core: a page with many subresources from a local origin that
// speaks only h2; every flow is HTTP/2.0 on both sides.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http2 from "node:http2";
import { chromium } from "playwright-core";
import { CertificateAuthority, LeafCache } from "../../src/ca/mod.ts";
import { network } from "../../src/runtime/mod.ts";
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS } from "../../src/proxy/core/context.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { Driver } from "../../src/proxy/driver/driver.ts";
import { runtimeServices } from "../../src/proxy/driver/runtime_services.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { testCa } from "../fixtures/ca.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian chromium)`;
const COUNT = 30;

const PAGE = `<!doctype html><html><head><title>h2</title></head><body>
${Array.from({ length: COUNT }, (_, i) => `<script src="/r/${i}.js"></script>`).join("\n")}
<p id="done"></p>
<script>document.getElementById("done").textContent = String(window.loaded || 0);</script>
</body></html>`;

test("headless Chromium loads a page with 30 subresources from an h2-only origin", {
  timeout: 180_000,
  skip,
}, async () => {
  const { ca } = await CertificateAuthority.create();
  const leaf = await ca.issue(["localhost"]);
  const origin = http2.createSecureServer({
    cert: leaf.certPem,
    key: leaf.keyPem,
    allowHTTP1: false,
  });
  origin.on("stream", (stream, headers) => {
    const path = String(headers[":path"]);
    if (path === "/") {
      stream.respond({ ":status": 200, "content-type": "text/html; charset=utf-8" });
      stream.end(PAGE);
    } else if (path.startsWith("/r/")) {
      stream.respond({ ":status": 200, "content-type": "text/javascript" });
      stream.end("window.loaded = (window.loaded || 0) + 1;");
    } else {
      stream.respond({ ":status": 404 });
      stream.end();
    }
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const originPort = (origin.address() as { port: number }).port;

  const proxyCa = await testCa();
  const flows: Flow[] = [];
  const services = runtimeServices({
    network,
    leaves: new LeafCache(proxyCa.ca),
    verifyUpstream: true,
    extraCa: [ca.certPem],
    hook(name, data) {
      if (name === "flow_done") flows.push(data as Flow);
    },
    log() {},
  });
  const listener = await network.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
    const client = new Client(conn.remote, conn.local);
    const ctx = new Context(client, DEFAULT_LAYER_OPTIONS);
    new Driver(new RegularMode(ctx), client, conn, services).run();
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: [
      `--proxy-server=http://127.0.0.1:${listener.address.port}`,
      "--proxy-bypass-list=<-loopback>",
      // The proxy's CA is not in this throwaway profile; the test is about HTTP/2, not trust.
      "--ignore-certificate-errors",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--headless",
    ],
  });
  try {
    const page = await browser.newPage();
    const response = await page.goto(`https://localhost:${originPort}/`, { timeout: 60_000 });
    assert.equal(response?.status(), 200);
    assert.equal(await page.textContent("#done"), String(COUNT));
  } finally {
    await browser.close();
    await listener.close();
    await new Promise<void>((r) => origin.close(() => r()));
  }
  const subresources = flows.filter((f) => f.request.path.startsWith("/r/"));
  assert.equal(subresources.length, COUNT);
  for (const f of [...subresources, flows.find((f) => f.request.path === "/")!]) {
    assert.equal(f.request.httpVersion, "HTTP/2.0");
    assert.equal(f.response?.httpVersion, "HTTP/2.0");
    assert.equal(f.response?.status, 200);
  }
});
