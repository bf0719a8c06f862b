/**
 * Starts the web UI and control API for a running proxy.
 *
 * ```ts
 * const proxy = await startProxy({ listen_port: 0 });
 * const web = await startWeb(proxy, { port: 0 });
 * console.log(web.uiUrl); // http://127.0.0.1:PORT/?token=...
 * await web.close();
 * await proxy.close();
 * ```
 */
import type { Hono } from "hono";
import { formatAuthority } from "../http1/target.ts";
import { type HttpServer, serveHttp } from "../runtime/mod.ts";
import type { Address } from "../runtime/types.ts";
import { createApi } from "./app.ts";
import { Control, type ControlledProxy } from "./control.ts";
import type { EventLog } from "./event_log.ts";
import { newToken } from "./security.ts";
import type { FlowStore } from "./store.ts";

export interface WebOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8081; 0 picks a free port. */
  port?: number;
  /** Default: a random one. */
  token?: string;
  /** The flow store to show (a session opened by the caller); default: one from the options. */
  store?: FlowStore;
  /** The log lines GET /api/log serves (give the logger `eventLog.tee(sink)`); default: none. */
  eventLog?: EventLog;
}

export interface WebServer {
  readonly address: Address;
  /** http://host:port */
  readonly url: string;
  /** The address to open in a browser: with ?token=, which logs the browser in. */
  readonly uiUrl: string;
  readonly token: string;
  readonly control: Control;
  readonly app: Hono;
  /** Kills paused flows, ends event streams and stops listening; call before proxy.close(). */
  close(): Promise<void>;
}

export async function startWeb(
  proxy: ControlledProxy,
  options: WebOptions = {},
): Promise<WebServer> {
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? newToken();
  const control = await Control.attach(proxy, {
    store: options.store,
    eventLog: options.eventLog,
  });
  // The port is known only once listening, and the security check needs it: the app is made
  // on the first request.
  let app: Hono | null = null;
  let server: HttpServer;
  // Once closing, new requests are refused: a page reconnecting its event streams meanwhile
  // would otherwise open a stream that keeps the server (and the shutdown) waiting.
  let closing = false;
  const hosts = [host].filter((h) => h !== "0.0.0.0" && h !== "::");
  try {
    server = await serveHttp(
      { host, port: options.port ?? 8081 },
      (req) =>
        closing ? new Response("mitm.ts is shutting down\n", { status: 503 }) : app!.fetch(req),
    );
  } catch (e) {
    await control.close();
    throw e;
  }
  app = createApi(control, { token, port: server.address.port, hosts });
  const url = `http://${formatAuthority(uiHost(host), server.address.port)}`;
  return {
    address: server.address,
    url,
    uiUrl: `${url}/?token=${encodeURIComponent(token)}`,
    token,
    control,
    app,
    async close() {
      closing = true;
      await control.close();
      await server.close();
    },
  };
}

/** The host to print: a wildcard address is opened through loopback. */
function uiHost(host: string): string {
  return host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
}
