/**
 * `mitm web FILE` through the real command line, in headless Chromium: the recording's flows are
 * listed, and a flow's comment is added, edited, found with ~comment and deleted in the details
 * pane (PATCH /api/flows/:id underneath).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { flowToJson } from "../../src/flow/serialize.ts";
import { startProxyProcess } from "../e2e/helpers.ts";
import { makeFlow, withTempDir } from "../store/helpers.ts";
import { waitFor } from "./helpers.ts";
import { artifact, skipBrowser as skip, withBrowserOn } from "./ui_helpers.ts";

const TOKEN = "recording-token-1234";

// The path cell's own text (a comment adds a ✎ badge after it).
const rowPaths = (page: Page) =>
  page.$$eval(".row[data-id] .path", (els) => els.map((e) => e.firstChild?.textContent));

test("mitm web FILE shows the recording; comments are added, edited, filtered and deleted", {
  timeout: 120_000,
  skip,
}, async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "rec.jsonl");
    const flows = [makeFlow(1), makeFlow(2), makeFlow(3)];
    fs.writeFileSync(file, flows.map((f) => JSON.stringify(flowToJson(f)) + "\n").join(""));
    const proc = await startProxyProcess(["web", file, "--web-port", "0", "--api-token", TOKEN]);
    try {
      await waitFor("the UI address", () => /Web UI: {2}http/.test(proc.output()));
      const ui = /Web UI: {2}(http:\/\/[^/\s]+)/.exec(proc.output())![1];
      await withBrowserOn({ uiUrl: `${ui}/?token=${TOKEN}` }, async (page) => {
        await waitFor(
          "the recording's flows",
          async () => (await rowPaths(page)).join() === "/item/1,/item/2,/item/3",
        );
        await page.click(".row[data-id]:has(.path:text-is('/item/2'))");

        // Add.
        await page.click("#details #comment-add");
        await page.fill("#comment-input", "looks wrong");
        await page.click("#comment-save");
        await page.waitForSelector("#comment-text:text-is('looks wrong')");
        await page.waitForSelector(".row[data-id]:has(.path:text-is('/item/2')) .badge.comment");

        // Edit (Ctrl+Enter saves); the list's filter finds it.
        await page.click("#comment-edit");
        assert.equal(await page.inputValue("#comment-input"), "looks wrong");
        await page.fill("#comment-input", "reviewed: fine");
        await page.press("#comment-input", "Control+Enter");
        await page.waitForSelector("#comment-text:text-is('reviewed: fine')");
        await page.fill("#filter", "~comment reviewed");
        await waitFor("the filtered list", async () => (await rowPaths(page)).join() === "/item/2");
        await page.screenshot({ path: artifact("web-ui-comment.png") });
        await page.fill("#filter", "");
        await waitFor("the whole list", async () => (await rowPaths(page)).length === 3);

        // Delete.
        await page.click(".row[data-id]:has(.path:text-is('/item/2'))");
        await page.click("#comment-delete");
        await page.waitForSelector("#details #comment-add");
        assert.equal(await page.$(".row[data-id] .badge.comment"), null);

        // What the API says now (the UI was not fooling itself).
        const res = await page.evaluate(() => fetch("/api/flows").then((r) => r.json()));
        const comments = (res as { flows: { comment: string }[] }).flows.map((f) => f.comment);
        assert.deepEqual(comments, ["", "", ""]);
      });
    } finally {
      assert.equal(await proc.stop(), 0);
    }
  });
});
