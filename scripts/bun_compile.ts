/**
 * How the single executable is built with Bun, shared by the binary's tests and the bench so
 * that both measure what `npm run compile` ships (package.json and deno.json spell out the same).
 * `--smol` is passed on to the executable: a smaller JavaScript heap collected more often kept
 * the peak RSS of 1 GiB HTTPS transfers under 150 MB at the same MB/s (docs/RUNTIME.md).
 */
export function bunCompileArgs(entry: string, outfile: string): string[] {
  return ["build", "--compile", "--compile-exec-argv=--smol", entry, "--outfile", outfile];
}
