/// <reference lib="dom" />
/**
 * The web UI's first load in headless Chromium, with 1,000 flows in the store: the ?token=
 * address is answered with the page itself (no redirect round trip), with the newest flows in it,
 * and leaves the address bar; one event stream, opened before the UI renders, brings only the rows that fill the window, and
 * the rest of the first 200 follows right after.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "./helpers.ts";
import { artifact, skipBrowser as skip, syntheticFlow, withUiBrowser } from "./ui_helpers.ts";

test("first load: no redirect, one early stream with a window's worth, the rest after", {
  timeout: 180_000,
  skip,
}, async () => {
  await withUiBrowser(async (web, browser) => {
    const n = 1000;
    const now = Date.now();
    for (let i = 0; i < n; i++) web.control.store.add(syntheticFlow(i, now + i));
    await web.control.store.sync();
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    const asked: string[] = [];
    page.on("request", (r) => asked.push(r.url().replace(web.url, "")));
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    const opened = await page.goto(web.uiUrl, { timeout: 30_000 });
    assert.equal(opened?.status(), 200);
    assert.equal(opened?.request().redirectedFrom(), null, "no redirect");
    // With the newest flows in it: the list shows them before the stream's hello.
    assert.match(
      (await opened?.text()) ?? "",
      /<script type="application\/json" id="first-page">/,
    );
    await page.waitForSelector(".row[data-id]");
    assert.equal(new URL(page.url()).search, "", "the token left the address bar");

    await page.waitForSelector(`#stats:has-text('${n} flows (200 loaded)')`, {
      timeout: 30_000,
    });
    const streams = asked.filter((u) => u.startsWith("/api/events"));
    assert.equal(streams.length, 1, `one event stream: ${streams.join(" ")}`);
    const first = Number(new URL(streams[0], web.url).searchParams.get("page"));
    // 800 px of window at 22 px a row, and the list's margin.
    assert.ok(first >= 37 && first < 200, `first page of ${first}`);
    const rest = asked.filter((u) => u.startsWith("/api/flows?before="));
    assert.equal(rest.length, 1, `the rest: ${rest.join(" ")}`);
    assert.equal(new URL(rest[0], web.url).searchParams.get("limit"), String(200 - first));

    // The newest flow is the last row, in view.
    const newest = await page.evaluate(async () =>
      (await (await fetch("/api/flows?limit=1")).json()).flows[0].id
    );
    await waitFor("the newest row at the bottom", async () => {
      const ids = await page.$$eval(".row[data-id]", (e) => e.map((x) => x.dataset.id));
      return ids.at(-1) === newest;
    }, 20_000);
    await page.screenshot({ path: artifact("web-ui-first-load.png") });
    assert.deepEqual(errors, []);
  });
});
