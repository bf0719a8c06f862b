/** Bun: its own sockets (Bun.listen / Bun.connect), TLS in place, Bun.serve, bun:sqlite, bun:ffi. */
import type { Runtime } from "../types.ts";
import { socketCalls } from "./ffi.ts";
import { bunNetwork } from "./net.ts";
import { serveHttp } from "./serve.ts";
import { openSqlite, sqliteBinding } from "./sqlite.ts";
import { bunTls } from "./tls.ts";
import { startModuleWorker } from "./worker.ts";

declare const Bun: { version: string };

export const bunRuntime: Runtime = {
  name: "bun",
  // Read when asked: this file is loaded on every runtime.
  get version() {
    return Bun.version;
  },
  network: bunNetwork,
  tls: bunTls,
  serveHttp,
  openSqlite,
  sqliteBinding,
  socketCalls,
  startModuleWorker,
};
