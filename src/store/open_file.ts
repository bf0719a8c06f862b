/**
 * Opening what a user names on the command line: a saved session (SQLite), or a `-w` recording
 * (JSON lines) or a HAR file, which are read into a store. Anything else is a StoreFileError with a
 * one-line message.
 */
import fs from "node:fs";
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { streamFlows } from "../flow/record_file.ts";
import { FlowStore, type StoreOptions } from "../api/store.ts";
import { FlowDb } from "./flow_db.ts";
import { looksLikeSqlite, StoreFileError } from "./schema.ts";

export { looksLikeSqlite, StoreFileError };

function mustExist(file: string): void {
  if (!fs.existsSync(file)) throw new StoreFileError(`cannot read ${file}: no such file`);
  if (!fs.statSync(file).isFile()) throw new StoreFileError(`cannot read ${file}: not a file`);
}

export interface OpenedForWeb {
  store: FlowStore;
  /** Flows read from a recording or HAR file (0 for a session opened in place). */
  imported: number;
  /** Lines or entries that were not flows. */
  skipped: number;
}

/**
 * The store `mitm web FILE` shows: FILE itself when it is a session (new flows are added to it),
 * else a new store (the --save-session file, or a temporary one) with FILE's flows read in.
 */
export async function openForWeb(
  file: string,
  options: StoreOptions,
): Promise<OpenedForWeb> {
  mustExist(file);
  if (looksLikeSqlite(file)) {
    return { store: new FlowStore({ ...options, file }), imported: 0, skipped: 0 };
  }
  const store = new FlowStore(options);
  let imported = 0;
  let skipped = 0;
  try {
    for await (const item of streamFlows(file)) {
      if ("flow" in item) {
        store.add(item.flow);
        imported++;
      } else skipped++;
    }
    await store.sync();
  } catch (e) {
    await store.close();
    throw new StoreFileError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (imported === 0 && skipped > 0) {
    await store.close();
    throw new StoreFileError(
      `${file} is not a mitm.ts session, a -w recording or a HAR file (no flow in it)`,
    );
  }
  return { store, imported, skipped };
}

/** The flows of a saved session, in order, read one at a time (`mitm read`, `mitm har`). */
export function* sessionFlows(file: string, filter: Filter | null): Generator<Flow> {
  mustExist(file);
  const db = new FlowDb(file, { readOnly: true });
  try {
    yield* db.flows({ filter });
  } catch (e) {
    if (e instanceof StoreFileError) throw e;
    throw new StoreFileError(`${file} is damaged: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}
