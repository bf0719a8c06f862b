/**
 * Serves a Web-standard fetch handler (a Hono app's `fetch`) over HTTP with Deno.serve, which
 * streams response bodies (Server-Sent Events need that).
 */
import { toNetError } from "../shared/net_errors.ts";
import type { Address, FetchHandler, HttpServer } from "../types.ts";

/** Listens on `address` and answers every request with `handler`; rejects with a NetError. */
export function serveHttp(address: Address, handler: FetchHandler): Promise<HttpServer> {
  try {
    const server = Deno.serve(
      { hostname: address.host, port: address.port, onListen: () => {} },
      handler,
    );
    return Promise.resolve({
      address: { host: address.host, port: server.addr.port },
      close: () => server.shutdown(),
    });
  } catch (e) {
    // Deno's errors name the OS error by class, without a code.
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
