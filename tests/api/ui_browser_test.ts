/**
 * The web UI in real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
 * traffic through the proxy appears live, filtering, details, intercept -> edit -> resume,
 * keyboard selection, and 10,000 flows. Screenshots go to test-artifacts/ (git-ignored).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startWeb } from "../../src/api/web.ts";
import { withProxy } from "../e2e/https_helpers.ts";
import { viaProxy, waitFor, withOrigin } from "./helpers.ts";
import { artifact, skipBrowser as skip, syntheticFlow, withBrowserOn } from "./ui_helpers.ts";

if (skip) console.log(`skipping the web UI browser tests: ${skip}`);

const rowPaths = (page: Page) =>
  page.$$eval(".row[data-id] .path", (els) => els.map((e) => e.textContent));

test("flows appear live; filter, details, intercept -> edit -> resume, j/k", {
  timeout: 180_000,
  skip,
}, async () => {
  await withOrigin(async (origin) => {
    await withProxy({}, async (proxy) => {
      const web = await startWeb(proxy, { port: 0 });
      try {
        await withBrowserOn(web, async (page) => {
          const base = `http://127.0.0.1:${origin.port}`;
          const port = proxy.address.port;
          await page.waitForSelector("#stats:has-text('0 flows')");

          // Live: traffic made now shows up without reloading.
          await viaProxy(port, `${base}/first`);
          await viaProxy(port, `${base}/json`);
          await page.waitForSelector(".row[data-id] .path:text-is('/json')");
          await page.waitForSelector(
            ".row[data-id]:has(.path:text-is('/json')) .status:text-is('200')",
          );
          assert.deepEqual(await rowPaths(page), ["/first", "/json"]);

          // Filter in the filter language, with an inline error for a bad one.
          await page.fill("#filter", "~t json");
          await waitFor("the filtered list", async () => (await rowPaths(page)).join() === "/json");
          await page.fill("#filter", "~t (");
          await page.waitForSelector("#filter-error:not([hidden])");
          assert.match(await page.textContent("#filter-error") ?? "", /bad filter/);
          await page.fill("#filter", "");
          await waitFor("the whole list", async () => (await rowPaths(page)).length === 2);
          assert.equal(await page.isHidden("#filter-error"), true);

          // Details: headers, pretty JSON body, timing.
          await page.click(".row[data-id]:has(.path:text-is('/json'))");
          await page.waitForSelector("#details pre.json");
          assert.match(await page.textContent("#details pre.json") ?? "", /"hello": "world"/);
          assert.match(await page.textContent("#details") ?? "", /Content-Type/);
          await page.click("#details [data-tab=timing]");
          await page.waitForSelector("#details .waterfall .phase[data-phase=request]");
          assert.match(await page.textContent("#details") ?? "", /duration/);

          // Keyboard: k goes up, j goes down.
          await page.click("#viewport");
          await page.keyboard.press("k");
          await page.waitForSelector(".row.selected:has(.path:text-is('/first'))");
          await page.keyboard.press("j");
          await page.waitForSelector(".row.selected:has(.path:text-is('/json'))");

          // Intercept, edit the paused request in the UI, resume.
          await page.fill("#intercept", "~u /held");
          await page.press("#intercept", "Enter");
          await waitFor(
            "the intercept filter",
            () => web.control.interceptor.filter === "~u /held",
          );
          const held = viaProxy(port, `${base}/held`);
          const pausedRow = ".row.paused:has(.path:text-is('/held'))";
          await page.waitForSelector(pausedRow);
          assert.equal(await page.textContent(`${pausedRow} .status`), "paused");
          await page.click(pausedRow);
          await page.click("#edit");
          await page.fill("#edit-first", `GET ${base}/edited`);
          await page.click("#add-header");
          await page.fill(".edit-header:last-child .h-name", "X-Edit");
          await page.fill(".edit-header:last-child .h-value", "from-the-browser");
          await page.screenshot({ path: artifact("web-ui-editing.png") });
          await page.click("#send-edit");
          assert.match(await held, /origin: GET \/edited x-edit=from-the-browser/);
          await page.waitForSelector(
            ".row[data-id]:has(.path:text-is('/edited')) .status:text-is('200')",
          );

          // Replay from the details pane makes a new flow.
          await page.click("#replay");
          await waitFor(
            "the replay",
            () => origin.requests.filter((r) => r.line === "GET /edited").length === 2,
          );
          await page.waitForSelector(".row.replay");
          await page.screenshot({ path: artifact("web-ui.png") });
        });
      } finally {
        await web.close();
      }
    });
  });
});

test("10,000 flows: the list stays small in the DOM and moves quickly", {
  timeout: 180_000,
  skip,
}, async () => {
  await withProxy({}, async (proxy) => {
    const web = await startWeb(proxy, { port: 0 });
    try {
      for (let i = 0; i < 10_000; i++) web.control.store.add(syntheticFlow(i));
      await withBrowserOn(web, async (page) => {
        const started = Date.now();
        await page.waitForSelector("#stats:has-text('10000 flows')", { timeout: 30_000 });
        const loadMs = Date.now() - started;
        const rendered = await page.$$eval(".row[data-id]", (els) => els.length);
        assert.ok(rendered > 10 && rendered < 100, `${rendered} rows in the DOM`);

        // The newest page is there first: j moves down from the row clicked.
        await page.click(".row[data-id]");
        const firstPath = await page.$eval(".row.selected .path", (el) => el.textContent!);
        const firstIndex = Number(/\/item\/(\d+)/.exec(firstPath)![1]);
        const t0 = Date.now();
        for (let i = 0; i < 30; i++) await page.keyboard.press("j");
        await page.waitForSelector(
          `.row.selected:has(.path:text-is('/item/${firstIndex + 30}'))`,
        );
        const keysMs = Date.now() - t0;

        // Scrolling to the top pages older flows in from the store, down to the first one.
        for (let i = 0; i < 40; i++) {
          await page.$eval("#viewport", (el) => (el.scrollTop = 0));
          if (await page.$(".row[data-id] .path:text-is('/item/0')")) break;
          await page.waitForTimeout(200);
        }
        await page.waitForSelector(".row[data-id] .path:text-is('/item/0')");
        assert.ok((await page.$$eval(".row[data-id]", (els) => els.length)) < 100);

        // Scroll to the end: the last flow is there and the DOM is still small.
        await page.$eval("#viewport", (el) => (el.scrollTop = el.scrollHeight));
        await page.waitForSelector(".row[data-id] .path:text-is('/item/9999')");
        assert.ok((await page.$$eval(".row[data-id]", (els) => els.length)) < 100);

        // A live flow arriving on top of 10,000 still shows up.
        web.control.store.add(syntheticFlow(10_000));
        await page.waitForSelector(".row[data-id] .path:text-is('/item/10000')");
        await page.screenshot({ path: artifact("web-ui-10k.png") });
        assert.ok(loadMs < 15_000, `loading took ${loadMs} ms`);
        assert.ok(keysMs < 10_000, `30 key presses took ${keysMs} ms`);
        console.log(`10,000 flows: loaded in ${loadMs} ms, 30 x j in ${keysMs} ms`);
      });
    } finally {
      await web.close();
    }
  });
});
