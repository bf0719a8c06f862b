/// <reference lib="dom" />
/**
 * The web UI with 100,000 flows in the store, in headless Chromium: how long until the list's
 * first rows are painted after opening the page, and how long a filter takes to apply (from the
 * moment the filter box's 250 ms typing pause ends to the filtered rows on screen; typed once the
 * UI has loaded the newest 200 flows). Medians of a few rounds; a benchmark, not a test. First
 * paint is given three ways: as the benchmark sees it (from page.goto, so with Playwright's round
 * trips and the page's load event), as the page sees it (performance.now() when the first row
 * enters the DOM: from the start of navigation), and when that row's text was painted (Element
 * Timing's renderTime, on the same clock). "Live" is when the script's own list was painted (its
 * newest row, once its toolbar is in the page): where the page came with rows of HTML, the
 * script's first render takes their place after they are painted.
 *
 *   node_modules/.bin/bun scripts/bench_ui.ts [flows=100000] [rounds=3]
 */
import process from "node:process";
import { chromium } from "playwright-core";
import { startWeb } from "../src/api/web.ts";
import { withProxy } from "../tests/e2e/https_helpers.ts";
import { CHROMIUM, CHROMIUM_ARGS, syntheticFlow } from "../tests/api/ui_helpers.ts";

const count = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
/** What the page notes (performance.now() and Element Timing, from the start of navigation). */
interface Marks {
  firstRowAt?: number;
  paintedAt?: number;
  liveAt?: number;
  livePaintedAt?: number;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await withProxy({ flow_store_max_bytes: 8 * 2 ** 30 }, async (proxy) => {
  const web = await startWeb(proxy, { port: 0 });
  const now = Date.now();
  for (let i = 0; i < count; i++) web.control.store.add(syntheticFlow(i, now + i));
  // Written to the SQLite store before the browser opens (the list reads it from there).
  await web.control.store.sync();
  console.log(`${web.control.store.size} flows in the store`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const paints: number[] = [];
  const inPage: number[] = [];
  const painted: number[] = [];
  const live: number[] = [];
  const filters: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
      await page.addInitScript(() => {
        const g = globalThis as Marks;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            const { identifier, renderTime } = e as PerformanceEntry & {
              identifier: string;
              renderTime: number;
            };
            if (identifier === "first-row") g.paintedAt ??= renderTime;
            if (identifier === "live-row") g.livePaintedAt ??= renderTime;
          }
        }).observe({ type: "element", buffered: true });
        new MutationObserver((_, observer) => {
          // The first row with its path cell (rows in the page's HTML may be seen half parsed).
          const path = document.querySelector(".row[data-id] .cell.path");
          if (path && g.paintedAt === undefined) {
            g.firstRowAt ??= performance.now();
            // Its text is reported (Element Timing) once it is painted. Until a row is painted,
            // the first row of each change is watched: the script's render replaces the rows the
            // page came with, and when it comes before their paint, its rows are the first painted.
            path.setAttribute("elementtiming", "first-row");
          }
          // The script's own list (its toolbar is there): the newest row, at the bottom.
          if (g.liveAt === undefined && document.getElementById("filter")) {
            const paths = document.querySelectorAll(".row[data-id] .cell.path");
            const newest = paths[paths.length - 1];
            if (newest && newest.getAttribute("elementtiming") === null) {
              g.liveAt = performance.now();
              newest.setAttribute("elementtiming", "live-row");
            }
          }
          if (g.paintedAt !== undefined && g.liveAt !== undefined) observer.disconnect();
        }).observe(document, { childList: true, subtree: true });
      });
      const t0 = Date.now();
      await page.goto(web.uiUrl);
      await page.waitForSelector(".row[data-id]", { timeout: 120_000 });
      paints.push(Date.now() - t0);
      inPage.push(Math.round(
        await page.evaluate(() => (globalThis as { firstRowAt?: number }).firstRowAt ?? NaN),
      ));
      await page.waitForFunction(
        () => (globalThis as Marks).paintedAt !== undefined,
        undefined,
        { timeout: 120_000 },
      );
      painted.push(Math.round(
        await page.evaluate(() => (globalThis as { paintedAt?: number }).paintedAt ?? NaN),
      ));
      await page.waitForFunction(
        () => (globalThis as Marks).livePaintedAt !== undefined,
        undefined,
        { timeout: 120_000 },
      );
      live.push(Math.round(
        await page.evaluate(() => (globalThis as Marks).livePaintedAt ?? NaN),
      ));
      // The filter is timed on a started UI: once its first load is done (the newest 200 in),
      // not while the script is still starting after the first paint.
      await page.waitForSelector("#stats:has-text('(200 loaded)')", { timeout: 120_000 });
      const shown = await page.$$eval(".row[data-id]", (e) => e.length);
      // The filter: time from the debounced request going out to the filtered rows shown.
      await page.fill("#filter", "~d host7.example");
      const t1 = Date.now();
      await page.waitForSelector("#stats:has-text('shown of')", { timeout: 120_000 });
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll(".row[data-id] .host")].every((e) =>
            e.textContent === "host7.example"
          ),
        undefined,
        { timeout: 120_000 },
      );
      filters.push(Date.now() - t1 - 250);
      console.log(
        `round ${r + 1}: first paint ${paints[r]} ms (in the page ${inPage[r]} ms, ` +
          `painted ${painted[r]} ms, live ${live[r]} ms; ` +
          `${shown} rows in the DOM), ` +
          `filter ${filters[r]} ms after the 250 ms typing pause`,
      );
      await page.close();
    }
  } finally {
    await browser.close();
    await web.close();
  }
  console.log(
    `${count} flows: first paint ${median(paints)} ms (in the page ${median(inPage)} ms, ` +
      `painted ${median(painted)} ms, live ${median(live)} ms), ` +
      `filter applied ${median(filters)} ms ` +
      `(medians of ${rounds})`,
  );
});
