/**
 * How mitm.ts runs on Bun and is built into the single executable, shared by the binary's tests
 * and the bench so that both measure what `npm start` and `npm run compile` run (package.json and
 * deno.json spell out the same; tests/e2e/binary_test.ts checks that they do).
 */

/**
 * Bun's own flags for the proxy. `--smol`: a smaller JavaScript heap collected more often kept the
 * peak RSS of 1 GiB HTTPS transfers under 150 MB at the same MB/s (docs/RUNTIME.md).
 */
export const BUN_FLAGS: readonly string[] = ["--smol"];

/**
 * Modules started as worker threads: a second entry point each, or the executable cannot load
 * them (the flow store then writes on the main thread). Relative to cli.ts.
 */
export const WORKER_ENTRIES: readonly string[] = ["src/store/writer_worker.ts"];

/** `bun` arguments that build `entry` into one executable with {@link BUN_FLAGS} built in. */
export function bunCompileArgs(entry: string, outfile: string): string[] {
  const execArgv = BUN_FLAGS.map((f) => `--compile-exec-argv=${f}`);
  const dir = entry.includes("/") ? entry.slice(0, entry.lastIndexOf("/") + 1) : "";
  const workers = WORKER_ENTRIES.map((w) => dir + w);
  return ["build", "--compile", ...execArgv, entry, ...workers, "--outfile", outfile];
}
