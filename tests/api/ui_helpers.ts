/**
 * Driving the web UI in real headless Chromium (Debian's /usr/bin/chromium via playwright-core):
 * launching it on a running web server, screenshots into test-artifacts/ (git-ignored), and
 * synthetic flows for big lists.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { startWeb, type WebServer } from "../../src/api/web.ts";
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { ROOT } from "../e2e/helpers.ts";
import { withProxy } from "../e2e/https_helpers.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const skipBrowser = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (Debian package chromium)`;

const ARTIFACTS = join(ROOT, "test-artifacts");

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Keep the folder out of git without touching the shared .gitignore.
  writeFileSync(join(ARTIFACTS, ".gitignore"), "*\n");
  return join(ARTIFACTS, name);
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export interface BrowserOptions {
  width?: number;
  height?: number;
  colorScheme?: "light" | "dark";
  /** Page errors matching this are expected (e.g. the proxy going away on purpose). */
  allowErrors?: RegExp;
}

export async function withBrowserOn(
  web: Pick<WebServer, "uiUrl">,
  fn: (page: Page) => Promise<void>,
  options: BrowserOptions = {},
): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: CHROMIUM_ARGS,
  });
  try {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1400, height: options.height ?? 800 },
      colorScheme: options.colorScheme ?? "light",
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    await page.goto(web.uiUrl, { timeout: 30_000 });
    assert.equal(new URL(page.url()).search, "", "the token left the address bar");
    await fn(page);
    const allowed = options.allowErrors ?? /^$/;
    assert.deepEqual(
      errors.filter((e) => !/401|404|Failed to load resource/.test(e) && !allowed.test(e)),
      [],
    );
  } finally {
    await browser.close();
  }
}

/**
 * A proxy with its web UI and a Chromium to open it in, for tests that make their own contexts
 * and pages (routes, held clocks, several pages); all closed after `fn`.
 */
export async function withUiBrowser(
  fn: (web: WebServer, browser: Browser) => Promise<void>,
): Promise<void> {
  await withProxy({}, async (proxy) => {
    const web = await startWeb(proxy, { port: 0 });
    try {
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        await fn(web, browser);
      } finally {
        await browser.close();
      }
    } finally {
      await web.close();
    }
  });
}

export function syntheticFlow(i: number, now = Date.now()): Flow {
  const request = new FlowRequest({
    method: i % 3 === 0 ? "POST" : "GET",
    scheme: "https",
    host: `host${i % 50}.example`,
    port: 443,
    path: `/item/${i}`,
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({ Host: `host${i % 50}.example` }),
    timestampStart: now,
  });
  request.body = new Uint8Array(0);
  request.timestampEnd = now;
  const flow = new Flow({ address: "127.0.0.1", port: 40000 + (i % 1000), tls: null }, request);
  const response = new FlowResponse({
    status: i % 7 === 0 ? 404 : 200,
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({ "Content-Type": "application/json" }),
    timestampStart: now + 5,
  });
  response.setBody(`{"i":${i}}`);
  response.timestampEnd = now + 7;
  flow.response = response;
  return flow;
}

/**
 * Waits until the list's rows show `expected` in this column, in this order (a sort is answered
 * by the proxy, so the rows change a round trip after the click); fails with what was shown.
 */
export async function expectColumn(
  page: Page,
  column: string,
  expected: string[],
  ms = 20_000,
): Promise<void> {
  const shown = () =>
    page.$$eval(`.row[data-id] .cell.${column}`, (els) => els.map((e) => e.textContent ?? ""));
  const end = Date.now() + ms;
  let last: string[] = [];
  while (Date.now() < end) {
    last = await shown();
    if (last.join("\n") === expected.join("\n")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(last, expected, `the ${column} column after ${ms} ms`);
}
