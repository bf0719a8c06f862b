/** SQLite on Deno: node:sqlite (node/sqlite.ts), which Deno 2.9 implements. */
export { openSqlite, sqliteBinding } from "../node/sqlite.ts";
