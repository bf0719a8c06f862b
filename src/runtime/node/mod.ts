/**
 * Node, and the fallback whose parts Deno and Bun share: node:net sockets, node:tls, node:sqlite;
 * no HTTP serving of a fetch handler and no FFI.
 */
import process from "node:process";
import type { Runtime } from "../types.ts";
import { socketCalls } from "./ffi.ts";
import { nodeNetwork } from "./net.ts";
import { serveHttp } from "./serve.ts";
import { openSqlite, sqliteBinding } from "./sqlite.ts";
import { nodeTls } from "./tls.ts";
import { startModuleWorker } from "./worker.ts";

export const nodeRuntime: Runtime = {
  name: "node",
  version: process.versions.node,
  network: nodeNetwork,
  tls: nodeTls,
  serveHttp,
  openSqlite,
  sqliteBinding,
  socketCalls,
  startModuleWorker,
};
