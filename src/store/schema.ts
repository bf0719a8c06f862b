/**
 * The flow store's tables. One row per flow in `flows` holds only what filters and paging read
 * (kept narrow so that a scan over a million rows stays fast); the rest of the flow is in
 * `flow_docs` (its JSON without bodies, and the header blocks filters search), `bodies` (chunks) and
 * `ws_messages`. `seq` is the arrival order and the key everything else hangs on.
 */
import fs from "node:fs";
import { openSqlite, type SqlDatabase } from "../runtime/mod.ts";

/** What `store_info.format` says in a session file; anything else is not ours. */
export const STORE_FORMAT = "mitm.ts flow store";
export const STORE_VERSION = 1;

/** Thrown for a file that is not a session this version can open; the message is one line. */
export class StoreFileError extends Error {}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS flows (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  started REAL NOT NULL,
  method TEXT NOT NULL COLLATE NOCASE,
  host TEXT NOT NULL COLLATE NOCASE,
  url TEXT NOT NULL COLLATE NOCASE,
  status INTEGER,
  req_type TEXT NOT NULL,
  res_type TEXT NOT NULL,
  error INTEGER NOT NULL,
  marked INTEGER NOT NULL,
  websocket INTEGER NOT NULL,
  asset INTEGER NOT NULL,
  req_body INTEGER NOT NULL,
  res_body INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS flows_host ON flows (host);
CREATE INDEX IF NOT EXISTS flows_status ON flows (status);
CREATE INDEX IF NOT EXISTS flows_marked ON flows (seq) WHERE marked = 1;
CREATE TABLE IF NOT EXISTS flow_docs (
  seq INTEGER PRIMARY KEY,
  doc TEXT NOT NULL,
  req_heads TEXT NOT NULL,
  res_heads TEXT NOT NULL,
  req_data BLOB,
  res_data BLOB
);
CREATE TABLE IF NOT EXISTS bodies (
  key INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ws_messages (
  key INTEGER PRIMARY KEY,
  from_client INTEGER NOT NULL,
  type TEXT NOT NULL,
  ts REAL NOT NULL,
  dropped INTEGER NOT NULL,
  injected INTEGER NOT NULL,
  content BLOB NOT NULL
);
`;

/**
 * A body's first chunk is in flow_docs (req_data, res_data: one row per flow for the usual
 * body); the next ones in `bodies`, keyed by BODY_KEY(seq, part, idx). WebSocket messages are keyed
 * by WS_KEY(seq, idx). Integer keys: one B-tree per table, no extra index to write.
 */
export const CHUNKS_PER_FLOW = 1024;
export const WS_PER_FLOW = 2 ** 20;
export const bodyKey = (seq: number, part: number, idx: number): number =>
  seq * CHUNKS_PER_FLOW + part * (CHUNKS_PER_FLOW / 2) + idx;
export const wsKey = (seq: number, idx: number): number => seq * WS_PER_FLOW + idx;

/** Body states in flows.req_body / res_body. */
export const BODY_NONE = 0; // not kept: never matches a body filter
export const BODY_PLAIN = 1; // one chunk, no Content-Encoding: SQL can search it
export const BODY_OTHER = 2; // kept, but only the JS matcher can say

/** The page size of new store files. */
export const PAGE_SIZE = 16384;

const SQLITE_MAGIC = "SQLite format 3\0";

/** True when the file starts like an SQLite database. */
export function looksLikeSqlite(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, "r");
    const head = new Uint8Array(16);
    const n = fs.readSync(fd, head, 0, 16, 0);
    return n === 16 && new TextDecoder("latin1").decode(head) === SQLITE_MAGIC;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** How a store file is opened. */
export interface StoreFileOptions {
  readOnly?: boolean;
  /**
   * false for a file nobody opens after a power cut (the temporary store, deleted at exit): no
   * fsync at all (synchronous=OFF). A killed process still loses nothing committed, as the
   * operating system has every write; only a crash of the machine could damage the file. The
   * fsyncs of the WAL's checkpoints cost the proxy's thread about 2 µs a flow (docs/BENCHMARKS.md).
   */
  durable?: boolean;
}

/**
 * Opens or creates a store file: WAL (a crash loses only the transaction being written, and
 * readers never block the writer), synchronous=NORMAL (a commit is not fsynced; a killed process
 * loses nothing committed, a power cut at most the last commits) or OFF when not `durable`. Throws
 * StoreFileError for a file that is not a flow store, or is damaged.
 */
export function openStoreFile(path: string, options: StoreFileOptions = {}): SqlDatabase {
  const exists = fs.existsSync(path) && fs.statSync(path).size > 0;
  if (exists && !looksLikeSqlite(path)) {
    throw new StoreFileError(`${path} is not a mitm.ts session (not an SQLite database)`);
  }
  let db: SqlDatabase;
  try {
    db = openSqlite(path, options);
  } catch (e) {
    throw new StoreFileError(`cannot open ${path}: ${oneLine(e)}`);
  }
  try {
    // A reader (`mitm read`, `mitm web FILE`) waits up to 5 s for a lock another connection holds
    // for a moment (a checkpoint as a writer closes, recovery after a crash) instead of failing
    // at once with "database is locked". The proxy's own writer never waits on the disk.
    if (options.readOnly) db.exec("PRAGMA busy_timeout = 5000");
    if (!options.readOnly) {
      // A new file gets 16 KiB pages: a flow's document row with a 1 KiB body is about 1.7 KB, and
      // 4 KiB pages hold two of them with a fifth of the page left over; 16 KiB pages hold nine,
      // and a million such flows fit the default 2 GiB budget (docs/BENCHMARKS.md). Files made
      // before keep their page size.
      if (!exists) db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
      const sync = options.durable === false ? "OFF" : "NORMAL";
      db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${sync};`);
    }
    if (exists) checkFormat(db, path);
    if (!options.readOnly) {
      db.exec(SCHEMA);
      const info = db.prepare("INSERT OR IGNORE INTO store_info (key, value) VALUES (?, ?)");
      info.run("format", STORE_FORMAT);
      info.run("version", String(STORE_VERSION));
    }
    if (exists) db.prepare("SELECT count(*) FROM flows").get(); // reads the tables: damage shows here
    return db;
  } catch (e) {
    db.close();
    if (e instanceof StoreFileError) throw e;
    throw new StoreFileError(`${path} is not a usable mitm.ts session: ${oneLine(e)}`);
  }
}

function checkFormat(db: SqlDatabase, path: string): void {
  const table = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'store_info'",
  ).get();
  const format = table &&
    db.prepare("SELECT value FROM store_info WHERE key = 'format'").get()?.value;
  if (format !== STORE_FORMAT) {
    throw new StoreFileError(`${path} is an SQLite database but not a mitm.ts session`);
  }
  const version = Number(
    db.prepare("SELECT value FROM store_info WHERE key = 'version'").get()
      ?.value,
  );
  if (!(version <= STORE_VERSION)) {
    throw new StoreFileError(
      `${path} is a session from a newer mitm.ts (format ${version}); upgrade mitm.ts to open it`,
    );
  }
}

function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/\s+/g, " ").trim();
}
