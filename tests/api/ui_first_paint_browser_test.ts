/// <reference lib="dom" />
/**
 * The rows the server puts in the page, in headless Chromium: with the script blocked they are a
 * real list (the newest flows at the bottom of the window, in order, every value shown as text,
 * styled under the page's policy); with the script, its first render shows the same rows in the
 * same places, and the list then works as always (details, filter); a click on the server's rows
 * before that render is done on the live row; a chosen theme is the page's from its first paint.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { waitFor } from "./helpers.ts";
import { artifact, skipBrowser as skip, syntheticFlow, withUiBrowser } from "./ui_helpers.ts";

const NASTY_HOST = `"><script>alert(1)</script>`;
const NASTY_PATH = `/a'b"c&d<img src=x onerror=alert(2)>$&</script>`;

interface Shown {
  id: string;
  top: number;
  cells: string[];
}

/** The rows in the list's window, top to bottom: id, position and each cell's text. */
function rowsInView(page: Page): Promise<Shown[]> {
  return page.$$eval(".row[data-id]", (rows) => {
    const view = document.getElementById("viewport")!.getBoundingClientRect();
    return rows.map((r) => ({
      id: (r as HTMLElement).dataset.id!,
      box: r.getBoundingClientRect(),
      cells: [...r.querySelectorAll(".cell")].map((c) => c.textContent ?? ""),
    }))
      .filter((r) => r.box.bottom > view.top + 1 && r.box.top < view.bottom - 1)
      .sort((a, b) => a.box.top - b.box.top)
      .map((r) => ({ id: r.id, top: Math.round(r.box.top), cells: r.cells }));
  });
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("dialog", (d) => {
    errors.push(`a dialog: ${d.message()}`);
    void d.dismiss();
  });
  return errors;
}

test("the server's rows: a real list before the script, the same rows in place after it", {
  timeout: 180_000,
  skip,
}, async () => {
  await withUiBrowser(async (web, browser) => {
    const now = Date.now();
    for (let i = 0; i < 300; i++) web.control.store.add(syntheticFlow(i, now + i));
    const nasty = syntheticFlow(300, now + 300);
    nasty.request.host = NASTY_HOST;
    nasty.request.path = NASTY_PATH;
    web.control.store.add(nasty);
    await web.control.store.sync();
    const context = await browser.newContext({ viewport: { width: 1400, height: 800 } });

    // The page as the server sends it, without its script.
    const bare = await context.newPage();
    const bareErrors = watchErrors(bare);
    await bare.route("**/app.js", (r) => r.abort());
    await bare.goto(web.uiUrl, { timeout: 30_000 });
    const before = await rowsInView(bare);
    const newest = await bare.evaluate(async () =>
      ((await (await fetch("/api/flows?limit=60")).json()).flows as { id: string }[])
        .map((f) => f.id)
    );
    // A window's worth (800 px at 22 px a row), the newest at the bottom, in arrival order.
    assert.ok(before.length >= 25, `${before.length} rows in view`);
    assert.deepEqual(before.map((r) => r.id), newest.slice(-before.length));
    const last = before.at(-1)!;
    assert.equal(last.id, nasty.id);
    // Every value is text: the host and path as they are, no element made of them.
    assert.equal(last.cells[3], NASTY_HOST);
    assert.equal(last.cells[5], NASTY_PATH);
    assert.equal(await bare.$$eval("#list img, #list script", (e) => e.length), 0);
    assert.deepEqual(before[0].cells.slice(1, 5), [
      "GET",
      "https",
      `host${Number(before[0].cells[5].split("/")[2]) % 50}.example`,
      "443",
    ]);
    // Its stylesheet applied (inline, allowed by its hash): the header, the stripes.
    assert.equal(
      await bare.$eval(".row.head", (e) => getComputedStyle(e).fontWeight),
      "600",
    );
    assert.deepEqual(
      bareErrors.filter((e) => !/Failed to load resource/.test(e)),
      [],
      "no policy violation, no script run, no dialog",
    );
    await bare.screenshot({ path: artifact("web-ui-first-paint-without-script.png") });

    // With the script: its first render shows the same rows where they were.
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(web.uiUrl, { timeout: 30_000 });
    await page.waitForSelector("#filter");
    await page.waitForSelector("#stats:has-text('301 flows (200 loaded)')", { timeout: 30_000 });
    const after = await rowsInView(page);
    assert.deepEqual(after, before, "the same rows, texts and places");

    // And it works: details of the hostile flow, then a filter.
    await page.click(`.row[data-id="${nasty.id}"]`);
    await page.waitForSelector("#details");
    assert.ok((await page.textContent("#details"))?.includes(NASTY_HOST));
    await page.fill("#filter", "~d host7.example");
    await waitFor("only host7 rows", async () => {
      const hosts = await page.$$eval(".row[data-id] .host", (e) => e.map((x) => x.textContent));
      return hosts.length === 6 && hosts.every((h) => h === "host7.example");
    }, 20_000);
    assert.deepEqual(errors, []);
  });
});

test("a click on a server's row before the script's first render opens that flow", {
  timeout: 180_000,
  skip,
}, async () => {
  await withUiBrowser(async (web, browser) => {
    const now = Date.now();
    for (let i = 0; i < 50; i++) web.control.store.add(syntheticFlow(i, now + i));
    await web.control.store.sync();
    // Nothing contentful is painted (a style the test adds hides the page: bypassCSP), so the
    // script's first render waits for its time-out, on a clock the test holds.
    const context = await browser.newContext({
      viewport: { width: 1400, height: 800 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.clock.install();
    await page.clock.pauseAt(new Date(Date.now() + 1000));
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (!document.head) return;
        const style = document.createElement("style");
        style.id = "hidden-by-test";
        style.textContent = "html { visibility: hidden !important; }";
        document.head.append(style);
        observer.disconnect();
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(web.uiUrl, { timeout: 30_000 });
    // The script has run (the load event waits for it); its render has not: the server's rows.
    assert.equal(await page.$("#filter"), null);
    const row = await page.$$eval(
      ".row[data-id]",
      (rows) => (rows[3] as HTMLElement).dataset.id!,
    );
    await page.dispatchEvent(`.row[data-id="${row}"]`, "click");
    await page.clock.fastForward(2000);
    await page.clock.resume();
    await page.waitForSelector("#filter", { state: "attached" });
    await page.evaluate(() => document.getElementById("hidden-by-test")!.remove());
    await page.waitForSelector(`.row.focus.selected[data-id="${row}"]`);
    await page.waitForSelector("#details h2.url");
    const path = await page.textContent(`.row[data-id="${row}"] .path`);
    assert.ok((await page.textContent("#details h2.url"))?.endsWith(path!));
    assert.deepEqual(errors, []);
  });
});

test("a theme chosen with the toggle is the page's before its script", {
  timeout: 180_000,
  skip,
}, async () => {
  await withUiBrowser(async (web, browser) => {
    web.control.store.add(syntheticFlow(1));
    await web.control.store.sync();
    const context = await browser.newContext({
      viewport: { width: 1400, height: 800 },
      colorScheme: "light",
    });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(web.uiUrl, { timeout: 30_000 });
    /** The theme of the page as the server sends it (its script blocked). */
    const served = async () => {
      const bare = await context.newPage();
      await bare.route("**/app.js", (r) => r.abort());
      await bare.goto(web.uiUrl, { timeout: 30_000 });
      await bare.waitForSelector(".row[data-id]");
      const seen = await bare.evaluate(() => [
        document.documentElement.dataset.theme ?? "auto",
        getComputedStyle(document.body).backgroundColor,
      ]);
      await bare.close();
      return seen;
    };
    assert.deepEqual(await served(), ["auto", "rgb(255, 255, 255)"]);
    // The toggle goes auto -> dark -> light -> auto.
    await page.click("#theme");
    await page.waitForSelector("#theme:text-is('Theme: dark')");
    assert.deepEqual(await served(), ["dark", "rgb(23, 24, 27)"]);
    await page.click("#theme");
    await page.waitForSelector("#theme:text-is('Theme: light')");
    assert.deepEqual(await served(), ["light", "rgb(255, 255, 255)"]);
    await page.click("#theme");
    await page.waitForSelector("#theme:text-is('Theme: auto')");
    assert.deepEqual(await served(), ["auto", "rgb(255, 255, 255)"]);
    assert.deepEqual(errors, []);
  });
});
