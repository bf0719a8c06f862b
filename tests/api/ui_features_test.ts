/// <reference lib="dom" />
/**
 * The web UI's features in headless Chromium against a real proxy and origin: columns, sorting,
 * status colours, multi-select, export, details tabs (connection, timing waterfall, query table,
 * gzip label, contentview picker, image), intercept (a bad filter keeps the old one, resume all,
 * a binary-safe edit of a paused PNG), keys and help, dark mode, the event log, and the banner
 * when the proxy goes away. Screenshots go to test-artifacts/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startWeb } from "../../src/api/web.ts";
import { withProxy } from "../e2e/https_helpers.ts";
import { withWeb } from "./web_helpers.ts";
import { PNG, viaProxy, waitFor, withOrigin } from "./helpers.ts";
import { artifact, expectColumn, skipBrowser as skip, withBrowserOn } from "./ui_helpers.ts";

const paths = (page: import("playwright-core").Page) =>
  page.$$eval(".row[data-id] .path", (els) => els.map((e) => e.textContent));

test("list: columns, sorting, status colours, multi-select, export, event log", {
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
          await viaProxy(port, `${base}/b?x=1&y=two`);
          await viaProxy(port, `${base}/json`);
          await viaProxy(port, `${base}/a`);
          // A refused origin: the flow fails with a 502 and the open log says so.
          await page.click("#toggle-log");
          await viaProxy(port, "http://127.0.0.1:9/refused");
          await page.waitForSelector(".row[data-id] .path:text-is('/refused')");
          await page.waitForSelector("#event-log .log-line.error:has-text('/refused')");

          // Scheme, port and start time columns; status coloured by class.
          const first = ".row[data-id]:has(.path:text-is('/b?x=1&y=two'))";
          assert.equal(await page.textContent(`${first} .scheme`), "http");
          assert.equal(await page.textContent(`${first} .port`), String(origin.port));
          assert.match(await page.textContent(`${first} .start`) ?? "", /^\d\d:\d\d:\d\d\.\d{3}$/);
          await page.waitForSelector(`${first}.s-2xx`);
          await page.waitForSelector(".row[data-id].failed:has(.path:text-is('/refused'))");

          // Sorting by path: ascending, then descending, then back to arrival order.
          await page.click(".row.head .cell.path");
          await expectColumn(page, "path", ["/a", "/b?x=1&y=two", "/json", "/refused"]);
          await page.click(".row.head .cell.path");
          await expectColumn(page, "path", ["/refused", "/json", "/b?x=1&y=two", "/a"]);
          await page.click(".row.head .cell.path");
          await expectColumn(page, "path", ["/b?x=1&y=two", "/json", "/a", "/refused"]);

          // Choosing columns: the HTTP version column on, the port column off; kept on reload.
          await page.click("#columns");
          await page.check("#columns-menu input[data-col=version]");
          await page.uncheck("#columns-menu input[data-col=port]");
          await page.waitForSelector(`${first} .version:text-is('1.1')`);
          assert.equal(await page.$(`${first} .port`), null);
          await page.reload();
          await page.waitForSelector(`${first} .version`);
          assert.equal(await page.$(`${first} .port`), null);

          // Resizing a column by dragging its edge.
          const host = await page.$(".row.head .cell.host");
          const before = (await host!.boundingBox())!.width;
          const edge = (await page.$(".row.head .cell.host .resizer"))!;
          const box = (await edge.boundingBox())!;
          await page.mouse.move(box.x + 2, box.y + 5);
          await page.mouse.down();
          await page.mouse.move(box.x + 82, box.y + 5, { steps: 4 });
          await page.mouse.up();
          const after = (await host!.boundingBox())!.width;
          assert.ok(after > before + 50, `host column ${before} -> ${after} px`);

          // Multi-select with Ctrl-click, export as JSON lines, then delete both.
          await page.click(first);
          await page.click(".row[data-id]:has(.path:text-is('/a'))", { modifiers: ["Control"] });
          assert.equal(await page.$$eval(".row.selected", (e) => e.length), 2);
          const download = page.waitForEvent("download");
          await page.click("#export-jsonl");
          const file = await (await download).path();
          const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
          assert.deepEqual(lines.map((f) => f.request.path).sort(), ["/a", "/b?x=1&y=two"]);
          assert.equal(lines[0].v, 1);
          await page.screenshot({ path: artifact("web-ui-list.png") });
          await page.click("#delete-selected");
          await waitFor(
            "the deletion",
            async () => (await paths(page)).join() === "/json,/refused",
          );
          assert.equal((await web.control.store.list({})).length, 2);
        });
      } finally {
        await web.close();
      }
    });
  });
});

test("details: tabs, query table, connection, waterfall, gzip label, views, image", {
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
          await viaProxy(port, `${base}/gzip?q=mitm&n=1`, { headers: ["Cookie: a=1; b=2"] });
          await viaProxy(port, `${base}/png`);
          await viaProxy(port, `${base}/json`);
          // By name: the dial looks `localhost` up first (a DNS phase).
          await viaProxy(port, `http://localhost:${origin.port}/by-name`);

          await page.click(".row[data-id]:has(.path:text-is('/gzip?q=mitm&n=1'))");
          await page.waitForSelector("#details .decoded:text-is('decoded from gzip')");
          assert.match(await page.textContent("#details pre.view") ?? "", /zipped text/);

          // Another view: hex of the decoded bytes.
          await page.selectOption("#details .view-picker", "hex");
          await page.waitForSelector("#details pre.view.hex");
          assert.match(await page.textContent("#details pre.hex") ?? "", /7a 69 70 70/);
          await page.selectOption("#details .view-picker", "auto");

          await page.click("#details [data-tab=request]");
          await page.waitForSelector("#details table.query");
          assert.match(await page.textContent("#details table.query") ?? "", /qmitm/);
          assert.match(await page.textContent("#details table.cookies") ?? "", /a1/);

          await page.click("#details [data-tab=connection]");
          const conn = await page.textContent("#details .connection") ?? "";
          assert.match(conn, /client127\.0\.0\.1:\d+/);
          assert.match(conn, new RegExp(`server127\\.0\\.0\\.1:${origin.port}`));

          await page.click("#details [data-tab=timing]");
          await page.waitForSelector("#details .waterfall .phase[data-phase=connect]");
          await page.waitForSelector("#details .waterfall .phase[data-phase=receive]");
          // Start times are local with the zone.
          assert.match(await page.textContent("#details .timing") ?? "", /[+-]\d\d:\d\d/);
          // An IP address is not looked up: no DNS phase.
          assert.equal(await page.$("#details .waterfall .phase[data-phase=DNS]"), null);
          await page.click(".row[data-id]:has(.path:text-is('/by-name'))");
          await page.waitForSelector("#details [data-tab=timing]");
          await page.click("#details [data-tab=timing]");
          await page.waitForSelector("#details .waterfall .phase[data-phase=DNS] .wf-dns");
          const phases = await page.$$eval(
            "#details .waterfall .phase",
            (els) => els.map((e) => (e as HTMLElement).dataset.phase),
          );
          assert.deepEqual(phases.slice(0, 2), ["DNS", "connect"], "the lookup comes first");
          assert.match(
            await page.textContent("#details .phase[data-phase=DNS] .phase-ms") ?? "",
            /^\d+ ms$/,
          );
          await page.screenshot({ path: artifact("web-ui-timing.png") });

          // An image is shown as an image.
          await page.click(".row[data-id]:has(.path:text-is('/png'))");
          await page.waitForSelector("#details img.preview");
          await waitFor(
            "the image to load",
            () => page.$eval("#details img.preview", (i) => (i as HTMLImageElement).naturalWidth),
            10_000,
          );

          // JSON keeps its highlighting classes (span kinds from the shared contentviews).
          await page.click(".row[data-id]:has(.path:text-is('/json'))");
          await page.waitForSelector("#details pre.json .k-key");
          await page.screenshot({ path: artifact("web-ui-details.png") });

          // Edit and resend: a changed request goes out as a new flow (a replay with edits).
          await page.click("#resend");
          await page.fill("#edit-first", `GET ${base}/resent`);
          await page.click("#send-edit");
          await page.waitForSelector(".row.replay:has(.path:text-is('/resent'))");
          await waitFor(
            "the resent request",
            () => origin.requests.some((r) => r.line === "GET /resent"),
          );

          // m marks the selected flow (PATCH /api/flows/:id).
          await page.click(".row[data-id]:has(.path:text-is('/json'))");
          await page.keyboard.press("m");
          await page.waitForSelector(".row.marked:has(.path:text-is('/json'))");

          // Compose: a new request sent through the proxy (POST /api/requests) becomes a flow.
          await page.click("#compose-button");
          await page.fill("#compose-first", `POST ${base}/composed`);
          await page.fill("#compose #edit-body", "hello from compose");
          await page.click("#compose-send");
          await page.waitForSelector(".row:has(.path:text-is('/composed'))");
          await waitFor(
            "the composed request",
            () => origin.requests.some((r) => r.line === "POST /composed"),
          );
          if (await page.$("#compose")) await page.click("#compose >> text=Cancel");

          // Rules at run time: the panel lists them and offers the kinds (GET /api/rules).
          await page.click("#rules-button");
          await page.waitForSelector("#rule-kind");
        });
      } finally {
        await web.close();
      }
    });
  });
});

test("intercept: a bad filter keeps the old one, resume all, binary-safe edit of a PNG", {
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
          // ~q: only at the request (a bare ~u /held would pause the responses too).
          await page.fill("#intercept", "~q & ~u /held");
          await page.press("#intercept", "Enter");
          await waitFor("the filter", () => web.control.interceptor.filter === "~q & ~u /held");

          // A bad filter is refused: the old one stays and the box says so.
          await page.fill("#intercept", "~u (");
          await page.press("#intercept", "Enter");
          await page.waitForSelector("#intercept-error");
          assert.match(await page.textContent("#intercept-error") ?? "", /kept the active filter/);
          assert.equal(await page.inputValue("#intercept"), "~q & ~u /held");
          assert.equal(web.control.interceptor.filter, "~q & ~u /held");

          // Two paused flows: a notice, and Resume all lets both go.
          const held = { timeoutMs: 90_000 };
          const one = viaProxy(port, `${base}/held/1`, held);
          const two = viaProxy(port, `${base}/held/2`, held);
          await page.waitForSelector("#paused-notice:has-text('2 flows are paused')");
          await page.waitForSelector(".row.paused .badge.paused-badge");
          await page.click("#resume-all");
          assert.match(await one, /origin: GET \/held\/1/);
          assert.match(await two, /origin: GET \/held\/2/);
          await page.waitForSelector("#paused-notice", { state: "detached" });

          // A paused PNG response: change only the status; the bytes arrive unchanged.
          await page.fill("#intercept", "~u /png & ~s");
          await page.press("#intercept", "Enter");
          await waitFor("the filter", () => web.control.interceptor.filter === "~u /png & ~s");
          const png = viaProxy(port, `${base}/png`, held);
          await page.click(".row.paused:has(.path:text-is('/png'))");
          await page.click("#edit");
          await page.waitForSelector("#edit-body");
          assert.equal(await page.inputValue("#body-mode"), "hex");
          await page.fill("#edit-first", "203 Edited");
          await page.screenshot({ path: artifact("web-ui-intercept.png") });
          await page.click("#send-edit");
          const answer = await png;
          assert.match(answer, /^HTTP\/1\.1 203 Edited/);
          const body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
          assert.deepEqual(Uint8Array.from(body, (c) => c.charCodeAt(0)), PNG);
        });
      } finally {
        await web.close();
      }
    });
  });
});

test("feel: keys and help, dark mode and its toggle, 1024 px, banner when the proxy is gone", {
  timeout: 180_000,
  skip,
}, async () => {
  await withOrigin(async (origin) => {
    await withProxy({}, async (proxy) => {
      const web = await startWeb(proxy, { port: 0 });
      let closed = false;
      try {
        await withBrowserOn(web, async (page) => {
          const base = `http://127.0.0.1:${origin.port}`;
          const port = proxy.address.port;
          for (const p of ["/one", "/two", "/three"]) await viaProxy(port, `${base}${p}`);
          await page.waitForSelector(".row[data-id] .path:text-is('/three')");
          // Dark by the system's preference.
          const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          assert.equal(await bg(), "rgb(23, 24, 27)");

          await page.click("#viewport");
          await page.keyboard.press("j");
          await page.waitForSelector(".row.selected:has(.path:text-is('/one'))");
          await page.keyboard.press("j");
          await page.waitForSelector("#details");
          await page.keyboard.press("Escape");
          await page.waitForSelector("#details", { state: "detached" });
          await page.keyboard.press("/");
          assert.equal(await page.evaluate(() => document.activeElement?.id), "filter");
          await page.keyboard.press("Escape");
          await page.keyboard.press("i");
          assert.equal(await page.evaluate(() => document.activeElement?.id), "intercept");
          await page.keyboard.press("Escape");
          await page.keyboard.press("?");
          await page.waitForSelector("#help:has-text('resume all paused flows')");
          await page.keyboard.press("Escape");
          await page.waitForSelector("#help", { state: "detached" });
          // d deletes the selected flow.
          await page.click(".row[data-id]:has(.path:text-is('/two'))");
          await page.keyboard.press("d");
          await waitFor(
            "the deletion",
            async () => (await web.control.store.list({})).length === 2,
          );

          // The toggle: dark -> light, kept on reload.
          await page.click("#theme");
          await page.waitForSelector("#theme:has-text('dark')");
          await page.click("#theme");
          await page.waitForSelector("#theme:has-text('light')");
          await waitFor("the light theme", async () => (await bg()) === "rgb(255, 255, 255)");
          await page.reload();
          await page.waitForSelector(".row[data-id] .path:text-is('/three')");
          await waitFor("the light theme", async () => (await bg()) === "rgb(255, 255, 255)");

          // At 1024 px with details open the path column keeps its room.
          await page.click(".row[data-id]:has(.path:text-is('/three'))");
          await page.waitForSelector("#details");
          const w = await page.$eval(".row.selected .path", (e) => e.getBoundingClientRect().width);
          assert.ok(w >= 150, `path column ${w} px wide`);
          await page.screenshot({ path: artifact("web-ui-1024.png") });

          // The proxy goes away: a banner says so.
          await web.close();
          closed = true;
          await page.waitForSelector("#banner:has-text('The proxy is gone')", { timeout: 30_000 });
        }, {
          width: 1024,
          height: 700,
          colorScheme: "dark",
          allowErrors: /ERR_CONNECTION|EventSource/,
        });
      } finally {
        if (!closed) await web.close();
      }
    });
  });
});

test("a failed CONNECT is a row; its details name the target as host:port", {
  timeout: 180_000,
  skip,
}, async () => {
  await withWeb({}, async ({ web, via }) => {
    await withBrowserOn(web, async (page) => {
      // Port 9 on loopback refuses: the tunnel fails, and curl's https request with it.
      assert.notEqual((await via(["-sS", "https://127.0.0.1:9/"])).code, 0);
      await page.click(".row[data-id].failed");
      await page.waitForSelector("#details h2.url");
      assert.equal(
        (await page.textContent("#details h2.url"))?.replace(/\s+/g, " ").trim(),
        "CONNECT 127.0.0.1:9",
      );
    }, { allowErrors: /ERR_CONNECTION/ });
  });
});
