/**
 * SQLite for the flow store through bun:sqlite. Synchronous, and the same SQL as node:sqlite
 * (node/sqlite.ts), so the store above this has one schema and one set of queries.
 */
import process from "node:process";
import type { SqlDatabase, SqlRow, SqlValue } from "../types.ts";

interface BunStatement {
  run(...params: SqlValue[]): { changes: number };
  get(...params: SqlValue[]): SqlRow | null;
  all(...params: SqlValue[]): SqlRow[];
}
interface BunDatabase {
  exec(sql: string): void;
  prepare(sql: string): BunStatement;
  close(): void;
}
type BunDatabaseClass = new (
  path: string,
  options: { create?: boolean; readwrite?: boolean; readonly?: boolean },
) => BunDatabase;

/** Which SQLite binding this runtime uses (for benchmarks and reports). */
export const sqliteBinding = "bun:sqlite";

let Database: BunDatabaseClass | null = null;

/** Opens (creating it when missing, unless readOnly) the database file at `path`. */
export function openSqlite(path: string, options: { readOnly?: boolean } = {}): SqlDatabase {
  // Loaded synchronously through getBuiltinModule, on first use: a literal `import "bun:sqlite"`
  // would not resolve on Deno (this file is loaded on every runtime), and a dynamic one would make
  // every importer wait on a top-level await.
  Database ??= ((process as unknown as { getBuiltinModule(id: string): unknown })
    .getBuiltinModule("bun:sqlite") as { Database: BunDatabaseClass }).Database;
  const db = new Database(
    path,
    options.readOnly ? { readonly: true } : { create: true, readwrite: true },
  );
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const st = db.prepare(sql);
      return {
        run: (...p) => st.run(...p),
        get: (...p) => st.get(...p) ?? undefined,
        all: (...p) => st.all(...p),
      };
    },
    close: () => db.close(),
  };
}
