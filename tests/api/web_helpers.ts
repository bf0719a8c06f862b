/**
 * End-to-end API helpers: a real proxy and the API served on a socket (startWeb), driven with curl
 * as a script would, and curl through the proxy.
 */
import type { Options, ProxyServer } from "../../mod.ts";
import { startWeb, type WebServer } from "../../src/api/web.ts";
import { curl, type RunResult } from "../e2e/helpers.ts";
import { curlVia, withProxy } from "../e2e/https_helpers.ts";

export interface WebHarness {
  proxy: ProxyServer;
  web: WebServer;
  /** curl against the API with the token; `args` go before the URL. */
  api(path: string, args?: string[]): Promise<RunResult>;
  /** curl against the API, the answer parsed as JSON. */
  apiJson(path: string, args?: string[]): Promise<unknown>;
  /** curl through the proxy. */
  via(args: string[]): Promise<RunResult>;
}

export async function withWeb(
  options: Partial<Options>,
  fn: (h: WebHarness) => Promise<void>,
): Promise<void> {
  await withProxy(options, async (proxy) => {
    const web = await startWeb(proxy, { port: 0, token: "e2e-token-0123456789" });
    const api = (path: string, args: string[] = []) =>
      curl(["-H", `Authorization: Bearer ${web.token}`, ...args, `${web.url}${path}`]);
    try {
      await fn({
        proxy,
        web,
        api,
        apiJson: async (path, args) => JSON.parse((await api(path, args)).stdout),
        via: (args) => curlVia(proxy.url, args),
      });
    } finally {
      await web.close();
    }
  });
}

/** curl arguments that send `value` as a JSON body. */
export function jsonArgs(method: string, value: unknown): string[] {
  return [
    "-X",
    method,
    "-H",
    "Content-Type: application/json",
    "--data-binary",
    JSON.stringify(value),
  ];
}
