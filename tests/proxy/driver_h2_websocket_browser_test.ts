// Headless Chromium opens a WebSocket through the new core to an h2-only origin that takes RFC
// 8441: Chromium's page connection is h2 and the proxy announces SETTINGS_ENABLE_CONNECT_PROTOCOL,
// so the WebSocket goes as an extended CONNECT on it; the proxy relays it (and a hook changes a
// message) as an extended CONNECT to the origin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { AddonManager } from "../../src/addons/manager.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { silentLogger } from "../../src/log.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { h2WebSocketOrigin, layeredProxy } from "./h2_driver_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian chromium)`;

const PAGE = `<!doctype html><html><body><p id="done"></p><script>
const ws = new WebSocket("wss://" + location.host + "/ws");
const got = [];
ws.onopen = () => { ws.send("change me"); ws.send("plain"); };
ws.onmessage = (e) => {
  got.push(e.data);
  if (got.length === 2) { document.getElementById("done").textContent = got.join("|"); ws.close(1000); }
};
ws.onerror = () => { document.getElementById("done").textContent = "error"; };
</script></body></html>`;

test("headless Chromium: a WebSocket over HTTP/2 (RFC 8441) through the proxy", {
  timeout: 180_000,
  skip,
}, async () => {
  const origin = await h2WebSocketOrigin(PAGE);
  const done: Flow[] = [];
  const addons = new AddonManager(silentLogger);
  await addons.add({
    name: "change",
    websocket_message(flow: Flow) {
      const m = flow.websocket!.messages.at(-1)!;
      if (m.fromClient && m.text === "change me") m.text = "changed";
    },
    flow_done(flow: Flow) {
      done.push(flow);
    },
  });
  const p = await layeredProxy((ctx) => new RegularMode(ctx), {}, {
    addons,
    hook(name, data) {
      if (!addons.has(name as never)) return;
      return addons.trigger(name as never, data as never);
    },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: [
      `--proxy-server=http://127.0.0.1:${p.port}`,
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
    const response = await page.goto(`https://localhost:${origin.port}/`, { timeout: 60_000 });
    assert.equal(response?.status(), 200);
    await page.waitForFunction('document.getElementById("done").textContent !== ""', null, {
      timeout: 60_000,
    });
    assert.equal(await page.textContent("#done"), "h2 echo: changed|h2 echo: plain");
  } finally {
    await browser.close();
    await p.close().catch(() => {});
    await origin.close();
  }
  const ws = done.find((f) => f.websocket !== null);
  assert.ok(ws, "a WebSocket flow");
  assert.equal(ws.request.httpVersion, "HTTP/2.0", "Chromium used extended CONNECT");
  assert.equal(ws.response?.httpVersion, "HTTP/2.0");
  assert.deepEqual(
    ws.websocket!.messages.filter((m) => m.fromClient && m.type === "text").map((m) => m.text),
    ["changed", "plain"],
  );
});
