/** Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) through a proxy. */
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** Chromium with every request through `proxyUrl`, loopback hosts included. */
export function launchThroughProxy(
  proxyUrl: string,
  env: Record<string, string | undefined>,
): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    env,
    args: [
      `--proxy-server=${proxyUrl}`,
      // Chromium goes direct to loopback hosts unless told otherwise.
      "--proxy-bypass-list=<-loopback>",
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
}
