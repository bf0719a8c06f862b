/**
 * Server-sent events in the web UI, in headless Chromium: an origin on 127.0.0.1 keeps a
 * text/event-stream open and sends events when the test says so; curl reads it through the proxy.
 * The events show live, one row each, while the stream is open, and the whole body once it ends.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { startWeb } from "../../src/api/web.ts";
import { withProxy } from "../e2e/https_helpers.ts";
import { artifact, skipBrowser as skip, withBrowserOn } from "./ui_helpers.ts";

/** An origin with one event stream at /sse, written to by the test. */
async function withEventOrigin(
  fn: (port: number, stream: () => Promise<ServerResponse>) => Promise<void>,
): Promise<void> {
  let opened: (res: ServerResponse) => void = () => {};
  const open = new Promise<ServerResponse>((resolve) => (opened = resolve));
  const server = createServer((req, res) => {
    if (req.url !== "/sse") return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    res.write(": welcome\n\nretry: 1500\nevent: greeting\nid: 1\ndata: first\n\n");
    opened(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await fn((server.address() as AddressInfo).port, () => open);
  } finally {
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** curl reading the stream through the proxy; resolves with what it printed once it exits. */
function curlThrough(proxyPort: number, url: string): Promise<string> {
  const child = spawn("curl", [
    "-sN",
    "--max-time",
    "60",
    "-x",
    `http://127.0.0.1:${proxyPort}`,
    url,
  ]);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  return new Promise((resolve) => child.on("close", () => resolve(out)));
}

const eventRows = (page: Page) =>
  page.$$eval(
    "#details table.sse-events tbody tr",
    (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent).join("|")),
  );

async function waitRows(page: Page, want: string[]): Promise<void> {
  const end = Date.now() + 30_000;
  let got: string[] = [];
  while (Date.now() < end) {
    got = await eventRows(page);
    if (got.join("\n") === want.join("\n")) return;
    await page.waitForTimeout(100);
  }
  assert.deepEqual(got, want);
}

test("an event stream's events, one row each, live while it is open", {
  timeout: 120_000,
  skip,
}, async () => {
  await withEventOrigin(async (originPort, stream) => {
    await withProxy({}, async (proxy) => {
      const web = await startWeb(proxy, { port: 0 });
      try {
        await withBrowserOn(web, async (page) => {
          const read = curlThrough(proxy.address.port, `http://127.0.0.1:${originPort}/sse`);
          const res = await stream();
          await page.click(".row[data-id]:has(.path:text-is('/sse'))", { timeout: 30_000 });
          await page.click("#details [data-tab=response]");
          // Live: what came so far, said to be partial, refreshed while the stream is open.
          await waitRows(page, ["1|(comment)|||: welcome", "2|greeting|1|1500 ms|first"]);
          await page.waitForSelector("#details .partial");
          res.write("data: second\ndata: line\n\n");
          await waitRows(page, [
            "1|(comment)|||: welcome",
            "2|greeting|1|1500 ms|first",
            "3|message|1||second\nline",
          ]);
          await page.screenshot({ path: artifact("web-ui-sse-live.png") });
          // Marked while open: the mark is on the live flow, so the stream's end keeps it.
          await page.click("#details #mark");
          await page.waitForSelector("#details #mark:text-is('Unmark (m)')");
          res.end("id: 9\ndata: last\n\n");
          const printed = await read;
          assert.match(printed, /data: last/);
          // Ended: the whole body from the store, no longer partial.
          await waitRows(page, [
            "1|(comment)|||: welcome",
            "2|greeting|1|1500 ms|first",
            "3|message|1||second\nline",
            "4|message|9||last",
          ]);
          assert.equal(await page.$("#details .partial"), null);
          const flows = await page.evaluate(() => fetch("/api/flows").then((r) => r.json()));
          assert.deepEqual(
            (flows as { flows: { marked: boolean }[] }).flows.map((f) => f.marked),
            [true],
          );
        });
      } finally {
        await web.close();
      }
    });
  });
});
