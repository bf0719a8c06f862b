/**
 * Serves a Web-standard fetch handler (a Hono app's `fetch`) over HTTP with Bun.serve, which
 * streams response bodies (Server-Sent Events need that).
 */
import { toNetError } from "../shared/net_errors.ts";
import type { Address, FetchHandler, HttpServer } from "../types.ts";

declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch: FetchHandler;
    /** Seconds a connection may stay silent; event streams send a heartbeat well within it. */
    idleTimeout?: number;
    error?: (e: Error) => Response;
  }): { hostname: string; port: number; stop(closeActive?: boolean): Promise<void> | void };
};

/** Listens on `address` and answers every request with `handler`; rejects with a NetError. */
export function serveHttp(address: Address, handler: FetchHandler): Promise<HttpServer> {
  try {
    const server = Bun.serve({
      hostname: address.host,
      port: address.port,
      fetch: handler,
      idleTimeout: 120,
    });
    return Promise.resolve({
      address: { host: address.host, port: server.port },
      close: async () => {
        await server.stop(true);
      },
    });
  } catch (e) {
    // Bun's errors carry Node-style codes (EADDRINUSE ...).
    return Promise.reject(toNetError(e));
  }
}
