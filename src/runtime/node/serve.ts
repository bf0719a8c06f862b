/**
 * Serving a fetch handler (the web UI and control API) has no node:http implementation here:
 * Deno.serve and Bun.serve are what the proxy runs on (deno/serve.ts, bun/serve.ts).
 */
import { NetError } from "../types.ts";
import type { Address, FetchHandler, HttpServer } from "../types.ts";

/** Rejects: there is no HTTP server for a fetch handler on this runtime. */
export function serveHttp(_address: Address, _handler: FetchHandler): Promise<HttpServer> {
  return Promise.reject(
    new NetError("other", "serving HTTP (the web UI and API) needs Deno or Bun"),
  );
}
