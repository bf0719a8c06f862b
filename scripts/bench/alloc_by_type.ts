/**
 * A Bun preload that counts the objects the process makes, by JavaScriptCore's type names
 * (Object, Array, Generator, Promise, Map ...), to compare what two builds allocate per unit of
 * work:
 *
 *   bun --smol --preload ./scripts/bench/alloc_by_type.ts cli.ts -p 8080 -q -k --no-web 2>counts
 *   (load it, e.g. loadgen.mjs --mode newconn; the last line of `counts` is the running total)
 *
 * Every 50 ms it takes `heapStats()` and adds each type's growth since the last one. Cells made
 * since the last collection count as live, so the growth between two looks is what was made
 * in between; a window where the total shrank (a collection ran) is left out and counted as
 * skipped. Prints the 25 largest sums every 2 s. Divide by the work done meanwhile.
 */
import { heapStats } from "bun:jsc";

let previous = heapStats();
const sums: Record<string, number> = {};
let windows = 0;
let skipped = 0;
setInterval(() => {
  const current = heapStats();
  windows++;
  if (current.objectCount < previous.objectCount) skipped++;
  else {
    const counts = current.objectTypeCounts as Record<string, number>;
    const before = previous.objectTypeCounts as Record<string, number>;
    for (const [type, n] of Object.entries(counts)) {
      const grown = n - (before[type] ?? 0);
      if (grown > 0) sums[type] = (sums[type] ?? 0) + grown;
    }
  }
  previous = current;
}, 50).unref();
setInterval(() => {
  const top = Object.entries(sums).sort((a, b) => b[1] - a[1]).slice(0, 25);
  console.error(JSON.stringify({ windows, skipped, top }));
}, 2000).unref();
