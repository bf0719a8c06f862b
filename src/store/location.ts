/**
 * Where the flow store lives: a file the user named (--save-session FILE, kept), or one in a fresh
 * temporary directory that goes when the store is closed or, failing that, when the process exits.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

export interface StoreLocation {
  path: string;
  /** True for a temporary store: remove() deletes it. */
  temporary: boolean;
  /** Deletes a temporary store's directory (the database must be closed); idempotent. */
  remove(): void;
}

const pendingRemovals = new Set<string>();
let exitHookInstalled = false;

function removeDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch { /* best effort: it is in the temporary directory */ }
  pendingRemovals.delete(dir);
}

export function storeLocation(file: string | undefined): StoreLocation {
  if (file) {
    const full = path.resolve(file);
    const dir = path.dirname(full);
    if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true });
    return { path: full, temporary: false, remove: () => {} };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-flows-"));
  pendingRemovals.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A store not closed (an error on the way out) still leaves nothing behind.
    process.on("exit", () => {
      for (const d of [...pendingRemovals]) removeDir(d);
    });
  }
  return { path: path.join(dir, "flows.db"), temporary: true, remove: () => removeDir(dir) };
}
