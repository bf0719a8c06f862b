/**
 * The runtime the process is on (bun/, deno/ or node/, each folder's mod.ts one `Runtime`), and
 * what it provides: its network, TLS, HTTP serving, SQLite, FFI and workers. The only module
 * outside src/runtime/ that others import from this folder (besides types.ts). Every runtime's
 * folder is imported statically (the Bun binary is bundled: `bun build --compile` follows static
 * imports only); each touches its runtime's globals only when used.
 */
import process from "node:process";
import { bunRuntime } from "./bun/mod.ts";
import { denoRuntime } from "./deno/mod.ts";
import { nodeRuntime } from "./node/mod.ts";
import { listenTransparent as listenRedirected, type SockAddr } from "./shared/original_dst.ts";
import type { Address, Conn, Listener, Network, Runtime, RuntimeTls } from "./types.ts";

export * from "./types.ts";
export { normalizeHost, type SockAddr } from "./shared/original_dst.ts";
export { closeWhenFlushed } from "./shared/conn_parts.ts";
export { watchedTimeout } from "./shared/watched_time.ts";
export { installLastResort } from "./shared/last_resort.ts";

declare const Bun: unknown;
declare const Deno: unknown;

/** The runtime's name and version, as reports show them. */
export type RuntimeInfo = Pick<Runtime, "name" | "version">;

export const runtime: Runtime = typeof Bun !== "undefined"
  ? bunRuntime
  : typeof Deno !== "undefined"
  ? denoRuntime
  : nodeRuntime;

/**
 * Each runtime's own sockets measured fastest there (docs/RUNTIME.md): Bun.listen/Bun.connect on
 * Bun, Deno.listen/Deno.connect on Deno; node:net elsewhere.
 */
export const network: Network = runtime.network;

/** TLS on a connection the proxy accepted (impersonating an origin): see RuntimeTls. */
export const startTlsServer: RuntimeTls["accept"] = runtime.tls.accept;
/** TLS on a connection the proxy dialled (to an origin): see RuntimeTls. */
export const connectTls: RuntimeTls["connect"] = runtime.tls.connect;

export const serveHttp: Runtime["serveHttp"] = runtime.serveHttp;
export const openSqlite: Runtime["openSqlite"] = runtime.openSqlite;
export const sqliteBinding: string = runtime.sqliteBinding;
export const startModuleWorker: Runtime["startModuleWorker"] = runtime.startModuleWorker;

/**
 * Listens (with `network`) for redirected connections and calls `onConn` with each one and where
 * it was going, read through the runtime's FFI (shared/original_dst.ts).
 */
export function listenTransparent(
  network: Network,
  address: Address,
  onConn: (conn: Conn, originalDst: SockAddr | null) => void,
  onError?: (conn: Conn, error: unknown) => void,
): Promise<Listener> {
  return listenRedirected(runtime.socketCalls, network, address, onConn, onError);
}

/**
 * Calls `handler` on every SIGINT or SIGTERM, with how many have arrived so far (1 for the first);
 * returns a function that removes it. One persistent listener, because Deno calls a listener added
 * while a signal is being dispatched for that same signal.
 */
export function onShutdownSignal(handler: (signal: string, count: number) => void): () => void {
  let count = 0;
  const listener = (signal: string) => handler(signal, ++count);
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return () => {
    process.off("SIGINT", listener);
    process.off("SIGTERM", listener);
  };
}
