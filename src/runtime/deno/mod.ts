/** Deno: its own sockets (Deno.listen / Deno.connect), node:tls, Deno.serve, node:sqlite, Deno FFI. */
import type { Runtime } from "../types.ts";
import { socketCalls } from "./ffi.ts";
import { denoNetwork } from "./net.ts";
import { serveHttp } from "./serve.ts";
import { openSqlite, sqliteBinding } from "./sqlite.ts";
import { denoTls } from "./tls.ts";
import { startModuleWorker } from "./worker.ts";

export const denoRuntime: Runtime = {
  name: "deno",
  // Read when asked: this file is loaded on every runtime.
  get version() {
    return Deno.version.deno;
  },
  network: denoNetwork,
  tls: denoTls,
  serveHttp,
  openSqlite,
  sqliteBinding,
  socketCalls,
  startModuleWorker,
};
