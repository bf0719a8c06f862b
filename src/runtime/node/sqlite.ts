/**
 * SQLite for the flow store: bun:sqlite on Bun, node:sqlite (DatabaseSync) elsewhere (Deno 2.9,
 * Node). Both are synchronous and take the same SQL, so the store above this has one schema and
 * one set of queries. Only positional parameters are used, and values are numbers, strings,
 * null or Uint8Array (node:sqlite refuses booleans).
 */
import process from "node:process";

export type SqlValue = number | bigint | string | null | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number | bigint };
  /** The first row, or undefined. */
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
}

export interface SqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

declare const Bun: unknown;

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

// Loaded synchronously through getBuiltinModule: a literal `import "bun:sqlite"` would not resolve
// on Deno, a dynamic one would make every importer wait on a top-level await, and the Node types
// this project type-checks with predate node:sqlite.
const builtin = (process as unknown as { getBuiltinModule(id: string): unknown })
  .getBuiltinModule.bind(process);
const BunDatabaseCtor: BunDatabaseClass | null = typeof Bun !== "undefined"
  ? (builtin("bun:sqlite") as { Database: BunDatabaseClass }).Database
  : null;

/** Which SQLite binding this runtime uses (for benchmarks and reports). */
export const sqliteBinding: string = BunDatabaseCtor ? "bun:sqlite" : "node:sqlite";

/** Opens (creating it when missing, unless readOnly) the database file at `path`. */
export function openSqlite(path: string, options: { readOnly?: boolean } = {}): SqlDatabase {
  if (BunDatabaseCtor) {
    const db = new BunDatabaseCtor(
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
  const { DatabaseSync } = builtin("node:sqlite") as { DatabaseSync: NodeDatabaseClass };
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
