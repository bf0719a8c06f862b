/**
 * SQLite for the flow store through node:sqlite (DatabaseSync): Deno 2.9 and Node. Synchronous,
 * and the same SQL as bun:sqlite (bun/sqlite.ts), so the store above this has one schema and one
 * set of queries. Only positional parameters are used, and values are numbers, strings, null or
 * Uint8Array (node:sqlite refuses booleans).
 */
import process from "node:process";
import type { SqlDatabase, SqlRow, SqlValue } from "../types.ts";

interface NodeStatement {
  run(...params: SqlValue[]): { changes: number | bigint };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}
type NodeDatabaseClass = new (path: string, options: { readOnly?: boolean }) => {
  exec(sql: string): void;
  prepare(sql: string): NodeStatement;
  close(): void;
};

/** Which SQLite binding this runtime uses (for benchmarks and reports). */
export const sqliteBinding = "node:sqlite";

/** Opens (creating it when missing, unless readOnly) the database file at `path`. */
export function openSqlite(path: string, options: { readOnly?: boolean } = {}): SqlDatabase {
  // Loaded synchronously through getBuiltinModule: a dynamic import would make every importer
  // wait on a top-level await, and the Node types this project type-checks with predate
  // node:sqlite.
  const { DatabaseSync } = (process as unknown as { getBuiltinModule(id: string): unknown })
    .getBuiltinModule("node:sqlite") as { DatabaseSync: NodeDatabaseClass };
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  return {
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const st = db.prepare(sql);
      return {
        run: (...p) => st.run(...p),
        get: (...p) => st.get(...p) as SqlRow | undefined,
        all: (...p) => st.all(...p) as SqlRow[],
      };
    },
    close: () => db.close(),
  };
}
