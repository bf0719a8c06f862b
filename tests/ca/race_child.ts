/**
 * Not a test: a process that store_test.ts starts twice at once (on Deno and on Bun) to race two
 * first starts. It loads the store module, prints "ready", waits for a line on stdin, calls
 * loadOrCreateCa(argv dir) and prints one JSON line with what it got.
 */
import fs from "node:fs";
import process from "node:process";
import { caFiles, loadOrCreateCa } from "../../src/ca/store.ts";

const dir = process.argv[process.argv.length - 1];
process.stdout.write("ready\n");
await new Promise<void>((resolve) => {
  process.stdin.once("data", () => resolve());
});
process.stdin.pause();
const existedBefore = fs.existsSync(caFiles(dir).key);
try {
  const loaded = await loadOrCreateCa(dir);
  process.stdout.write(
    JSON.stringify({
      ok: true,
      existedBefore,
      created: loaded.created,
      origin: loaded.origin,
      certPem: loaded.ca.certPem,
    }) + "\n",
  );
} catch (e) {
  process.stdout.write(
    JSON.stringify({ ok: false, error: String((e as Error).stack ?? e) }) + "\n",
  );
}
process.exit(0);
