/**
 * End-to-end helpers for replay: record real traffic through the proxy into a file, then run a
 * proxy with options (server replay, rewrites) and drive it with curl.
 */
import { join } from "node:path";
import type { Options } from "../../src/options.ts";
import { curlVia, parseCurlI, type RunningProxy, withAddons } from "../addons/helpers.ts";

export { curlVia, parseCurlI };

/** Runs `fn` with a proxy that records every flow into `file`; the file is complete afterwards. */
export async function recordInto(
  file: string,
  fn: (p: RunningProxy) => Promise<void>,
  options: Partial<Options> = {},
): Promise<void> {
  await withAddons([], fn, { record: file, ...options });
}

/** Runs `fn` with a proxy started with `options` (no extra addons). */
export function withOptions(
  options: Partial<Options>,
  fn: (p: RunningProxy) => Promise<void>,
): Promise<void> {
  return withAddons([], fn, options);
}

/** curl through the proxy; returns status and body (throws when curl fails). */
export async function get(
  proxyUrl: string,
  args: string[],
): Promise<{ status: number; body: string; headers: [string, string][] }> {
  const r = await curlVia(proxyUrl, ["-i", ...args]);
  if (r.code !== 0) throw new Error(`curl ${args.join(" ")} exited with ${r.code}: ${r.stderr}`);
  return parseCurlI(r.stdout);
}

export function fileIn(dir: string, name: string): string {
  return join(dir, name);
}
