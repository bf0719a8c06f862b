/**
 * The runtime the process is on, and the Network implementation chosen for it. The only module
 * outside src/runtime/ that others import from this folder (besides types.ts).
 */
import process from "node:process";
import { bunNetwork } from "./bun/net.ts";
import { denoNetwork } from "./deno/net.ts";
import { nodeNetwork } from "./node/net.ts";
import type { Network } from "./types.ts";

export * from "./types.ts";
export {
  connectTls,
  type PeerCertificate,
  type ServerIdentity,
  startTlsServer,
  type TlsClientSession,
  type TlsSession,
} from "./node/tls.ts";
export { listenTransparent, normalizeHost, type SockAddr } from "./shared/original_dst.ts";
export { closeWhenFlushed } from "./shared/conn_parts.ts";
export { watchedTimeout } from "./shared/watched_time.ts";
export { installLastResort } from "./shared/last_resort.ts";

declare const Bun: { version: string } | undefined;
declare const Deno: { version: { deno: string } } | undefined;

export interface RuntimeInfo {
  name: "deno" | "bun" | "node";
  version: string;
}

export const runtime: RuntimeInfo = typeof Bun !== "undefined"
  ? { name: "bun", version: Bun.version }
  : typeof Deno !== "undefined"
  ? { name: "deno", version: Deno.version.deno }
  : { name: "node", version: process.versions.node };

/**
 * Each runtime's own sockets measured fastest there (docs/RUNTIME.md): Bun.listen/Bun.connect on
 * Bun, Deno.listen/Deno.connect on Deno; node:net elsewhere.
 */
export const network: Network = runtime.name === "bun"
  ? bunNetwork
  : runtime.name === "deno"
  ? denoNetwork
  : nodeNetwork;

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
export {
  openSqlite,
  type SqlDatabase,
  sqliteBinding,
  type SqlRow,
  type SqlStatement,
  type SqlValue,
} from "./node/sqlite.ts";
export { startModuleWorker } from "./bun/worker.ts";
