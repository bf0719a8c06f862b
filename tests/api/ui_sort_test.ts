/// <reference lib="dom" />
/**
 * Sorting the web UI's flow list in headless Chromium, with flows a real client made through the
 * proxy to a 127.0.0.1 origin: header clicks and keys (Enter, Space) sort through the proxy's
 * store (arrow and aria-sort say the order), live flows go where a sort by start time puts them
 * and into the "new flows" hint otherwise, and a sorted list longer than its first page loads
 * the rest in order as it scrolls. Screenshots go to test-artifacts/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startWeb, type WebServer } from "../../src/api/web.ts";
import { withProxy } from "../e2e/https_helpers.ts";
import { connect, readUntil } from "../e2e/helpers.ts";
import { viaProxy, waitFor, withOrigin } from "./helpers.ts";
import { artifact, expectColumn, skipBrowser as skip, withBrowserOn } from "./ui_helpers.ts";

interface Summary {
  id: string;
  request: { method: string; path: string; url: string };
  response: { bodySize: number } | null;
}

/** The flows as the API lists them (arrival order), fetched by the page with its cookie. */
function summaries(page: Page): Promise<Summary[]> {
  return page.evaluate(async () => (await (await fetch("/api/flows")).json()).flows);
}

/** Paths ordered by `key` (ties: arrival), as the store must order them. */
function orderBy(flows: Summary[], key: (f: Summary) => number | string, descending = false) {
  const out = flows.map((f, i) => ({ f, i, k: key(f) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i))
    .map((x) => x.f.request.path);
  return descending ? out.reverse() : out;
}

const header = (column: string) => `.row.head .cell.${column}`;

async function sortState(page: Page, column: string): Promise<[string | null, string]> {
  return [
    await page.getAttribute(header(column), "aria-sort"),
    (await page.textContent(`${header(column)} button.sort`)) ?? "",
  ];
}

async function withUi(
  fn: (
    page: Page,
    send: (path: string, body?: string) => Promise<void>,
    web: WebServer,
    proxyPort: number,
  ) => Promise<void>,
) {
  await withOrigin(async (origin) => {
    await withProxy({}, async (proxy) => {
      const web = await startWeb(proxy, { port: 0 });
      const send = async (path: string, body?: string) => {
        const answer = await viaProxy(
          proxy.address.port,
          `http://127.0.0.1:${origin.port}${path}`,
          {
            method: body === undefined ? "GET" : "POST",
            body,
          },
        );
        assert.match(answer, /^HTTP\/1.1 200/);
      };
      try {
        await withBrowserOn(web, (page) => fn(page, send, web, proxy.address.port));
      } finally {
        await web.close();
      }
    });
  });
}

test("the list sorts by a header's column through the store, by mouse and keys, and live", {
  timeout: 180_000,
  skip,
}, async () => {
  await withUi(async (page, send) => {
    await send("/zeta");
    await send("/alpha", "x".repeat(400));
    await send("/json");
    await send("/Mid", "y".repeat(50));
    await send("/png");
    await send("/big");
    await page.waitForSelector(".row[data-id].s-2xx:has(.path:text-is('/big'))");
    const flows = await waitFor("6 answered flows", async () => {
      const all = await summaries(page);
      return all.length === 6 && all.every((f) => f.response) && all;
    }, 20_000);
    const size = (f: Summary) => f.response!.bodySize;

    // Mouse: ascending, then descending; the arrow and aria-sort follow.
    await page.click(`${header("size")} button.sort`);
    await expectColumn(page, "path", orderBy(flows, size));
    assert.deepEqual(await sortState(page, "size"), ["ascending", "Size ▲"]);
    await page.click(`${header("size")} button.sort`);
    await expectColumn(page, "path", orderBy(flows, size, true));
    assert.deepEqual(await sortState(page, "size"), ["descending", "Size ▼"]);
    assert.deepEqual(await sortState(page, "path"), ["none", "Path"]);

    // Keys: the header is a button; Enter sorts (no details open), Space reverses.
    const lower = (f: Summary) => f.request.path.toLowerCase();
    await page.focus(`${header("path")} button.sort`);
    await page.keyboard.press("Enter");
    await expectColumn(page, "path", orderBy(flows, lower));
    assert.equal(await page.$("#details"), null, "Enter sorted instead of opening a flow");
    await page.keyboard.press(" ");
    await expectColumn(page, "path", orderBy(flows, lower, true));
    assert.deepEqual(await sortState(page, "path"), ["descending", "Path ▼"]);

    // Sorted by path, a new flow is counted in the hint, and sorted in when asked.
    await send("/new");
    await page.waitForSelector("#new-flows:has-text('1 new flow')", { timeout: 20_000 });
    assert.ok(
      !(await page.$$eval(".row[data-id] .path", (e) => e.map((x) => x.textContent)))
        .includes("/new"),
    );
    await page.screenshot({ path: artifact("web-ui-sorted.png") });
    await page.click("#show-new-flows");
    const seven = await summaries(page);
    await expectColumn(page, "path", orderBy(seven, lower, true));
    assert.equal(await page.$("#new-flows"), null);

    // Sorted by start, newest first: a new flow appears at the top, no hint.
    await page.click(`${header("start")} button.sort`);
    await page.click(`${header("start")} button.sort`);
    await expectColumn(page, "path", seven.map((f) => f.request.path).reverse());
    await send("/newest");
    await expectColumn(page, "path", ["/newest", ...seven.map((f) => f.request.path).reverse()]);
    assert.equal(await page.$("#new-flows"), null);

    // The third click goes back to arrival order; the sort is kept over a reload.
    await page.click(`${header("size")} button.sort`);
    await page.reload();
    await page.waitForSelector(`${header("size")}[aria-sort=ascending]`);
    const eight = await summaries(page);
    await expectColumn(page, "path", orderBy(eight, size));
    await page.click(`${header("size")} button.sort`);
    await page.click(`${header("size")} button.sort`);
    await expectColumn(page, "path", eight.map((f) => f.request.path));
    assert.deepEqual(await sortState(page, "size"), ["none", "Size"]);
  });
});

test("a sorted list longer than its first page loads the rest in order as it scrolls", {
  timeout: 240_000,
  skip,
}, async () => {
  await withUi(async (page, send) => {
    // 260 flows whose path order is not their arrival order (the first page holds 200).
    const n = 260;
    const paths = Array.from({ length: n }, (_, i) => `/p${String((i * 37) % n).padStart(3, "0")}`);
    for (const p of paths) await send(p);
    await waitFor("260 flows", async () => (await summaries(page)).length === n, 30_000);
    await page.click(`${header("path")} button.sort`);
    const sorted = paths.slice().sort();
    await waitFor(
      "the sorted first page",
      async () => (await page.textContent(".row[data-id] .path")) === "/p000",
      20_000,
    );
    // The list is as long as all 260 (placeholders below the first page), 200 of them loaded:
    // the rows that fill the window first, the rest of the 200 right after.
    await page.waitForSelector("#stats:has-text('260 flows (200 loaded)')", { timeout: 20_000 });
    assert.equal(await page.$eval("#spacer", (el) => el.style.height), `${n * 22}px`);
    const rows = await page.$$eval(".row[data-id]", (e) => e.length);
    await expectColumn(page, "path", sorted.slice(0, rows));
    await page.$eval("#viewport", (el) => (el.scrollTop = el.scrollHeight));
    await waitFor("the last page", async () => {
      await page.$eval("#viewport", (el) => (el.scrollTop = el.scrollHeight));
      const shown = await page.$$eval(".row[data-id] .path", (e) => e.map((x) => x.textContent));
      return shown.at(-1) === sorted.at(-1) && !(await page.$(".row.placeholder"));
    }, 30_000);
    const tail = await page.$$eval(".row[data-id] .path", (e) => e.map((x) => x.textContent ?? ""));
    assert.deepEqual(tail, sorted.slice(n - tail.length), "the rows at the bottom, in order");
  });
});

test("the mark, port, comment and HTTP version headers sort through the store", {
  timeout: 180_000,
  skip,
}, async () => {
  await withUi(async (page, send, _web, proxyPort) => {
    await send("/one");
    // An HTTP/1.0 request: its version sorts before HTTP/1.1.
    const old = await connect(proxyPort);
    const origin = await waitFor("the first flow", async () => (await summaries(page))[0]);
    const originPort = new URL(origin.request.url).port;
    old.write(`GET http://127.0.0.1:${originPort}/two HTTP/1.0\r\n\r\n`);
    await readUntil(old, () => false, 10_000);
    old.destroy();
    for (const p of ["/three", "/four"]) await send(p);
    await page.waitForSelector(".row[data-id]:has(.path:text-is('/four'))");
    const flows = await summaries(page);
    const id = (path: string) => flows.find((f) => f.request.path === path)!.id;
    /** The rows in this order of paths (the path cell also holds badges: h1.0, ✎). */
    const expectRows = async (paths: string[]) => {
      const all = await summaries(page);
      const want = paths.map((p) => all.find((f) => f.request.path === p)!.id);
      await waitFor(`rows ${paths.join(" ")}`, async () => {
        const shown = await page.$$eval(".row[data-id]", (e) => e.map((x) => x.dataset.id));
        return shown.join(" ") === want.join(" ");
      }, 20_000);
    };
    // Marks and comments as the UI's actions set them (PATCH with the page's cookie).
    const patch = (path: string, body: object) =>
      page.evaluate(async ([flowId, json]) => {
        const res = await fetch(`/api/flows/${flowId}`, {
          method: "PATCH",
          headers: { "Content-Type": "application/json" },
          body: json,
        });
        if (!res.ok) throw new Error(`PATCH: ${res.status}`);
      }, [id(path), JSON.stringify(body)] as const);
    await patch("/two", { marked: true, comment: "b" });
    await patch("/four", { marked: true });
    await patch("/three", { comment: "a" });
    await page.waitForSelector(".row.marked:has(.path:text-is('/four'))");

    // ★ twice: marked flows first (the latest first), then the others newest first.
    await page.click(`${header("mark")} button.sort`);
    await expectRows(["/one", "/three", "/two", "/four"]);
    await page.click(`${header("mark")} button.sort`);
    await expectRows(["/four", "/two", "/three", "/one"]);
    assert.deepEqual(await sortState(page, "mark"), ["descending", "★ ▼"]);
    await page.screenshot({ path: artifact("web-ui-sorted-by-mark.png") });

    // The comment and HTTP version columns are not shown by default: choose them, then sort.
    await page.click("#columns");
    await page.check("#columns-menu input[data-col=comment]");
    await page.check("#columns-menu input[data-col=version]");
    await page.click("#columns");
    await page.click(`${header("comment")} button.sort`);
    await expectRows(["/one", "/four", "/three", "/two"]);
    await expectColumn(page, "comment", ["", "", "a", "b"]);
    await page.click(`${header("version")} button.sort`);
    await expectRows(["/two", "/one", "/three", "/four"]);
    await expectColumn(page, "version", ["1.0", "1.1", "1.1", "1.1"]);
    assert.deepEqual(await sortState(page, "comment"), ["none", "Comment"]);

    // A flow to another port (refused: 9) sorts last descending, the origin's port above it.
    await viaProxy(proxyPort, "http://127.0.0.1:9/refused");
    // Sorted by version, it waits in the "new flows" bar.
    await page.waitForSelector("#new-flows:has-text('1 new flow')", { timeout: 20_000 });
    await page.click("#show-new-flows");
    await page.click(`${header("port")} button.sort`);
    await expectRows(["/refused", "/one", "/two", "/three", "/four"]);
    await page.click(`${header("port")} button.sort`);
    assert.deepEqual(await sortState(page, "port"), ["descending", "Port ▼"]);
    await expectRows(["/four", "/three", "/two", "/one", "/refused"]);
  });
});
