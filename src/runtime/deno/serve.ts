/**
 * Serves a Web-standard fetch handler (a Hono app's `fetch`) over HTTP: Bun.serve on Bun,
 * Deno.serve on Deno. Both stream response bodies, which Server-Sent Events need.
 */
import { toNetError } from "../shared/net_errors.ts";
import type { Address } from "../types.ts";

export type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface HttpServer {
  readonly address: Address;
  /** Stops listening and closes every connection, open streams included. */
  close(): Promise<void>;
}

declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch: FetchHandler;
    /** Seconds a connection may stay silent; event streams send a heartbeat well within it. */
    idleTimeout?: number;
    error?: (e: Error) => Response;
  }): { hostname: string; port: number; stop(closeActive?: boolean): Promise<void> | void };
} | undefined;

/** Listens on `address` and answers every request with `handler`; rejects with a NetError. */
export function serveHttp(address: Address, handler: FetchHandler): Promise<HttpServer> {
  try {
    if (typeof Bun !== "undefined") {
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
    }
    const server = Deno.serve(
      { hostname: address.host, port: address.port, onListen: () => {} },
      handler,
    );
    return Promise.resolve({
      address: { host: address.host, port: server.addr.port },
      close: () => server.shutdown(),
    });
  } catch (e) {
    const name = (e as Error)?.name;
    const code = name === "AddrInUse"
      ? "EADDRINUSE"
      : name === "AddrNotAvailable"
      ? "EADDRNOTAVAIL"
      : name === "PermissionDenied"
      ? "EACCES"
      : "";
    return Promise.reject(toNetError(code ? { code, message: (e as Error).message } : e));
  }
}
