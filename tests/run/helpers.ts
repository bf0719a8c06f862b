/**
 * Helpers for the `mitm run` tests: the real command line running real tools, origins on
 * 127.0.0.1 with certificates from an origin CA the proxy is told to trust, and the recording read
 * back.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readFlows } from "../../src/flow/record_file.ts";
import { testConfdir } from "../fixtures/ca.ts";
import { cliArgv, ROOT, run, type RunResult } from "../e2e/helpers.ts";

export const DENO = join(ROOT, "node_modules", ".bin", "deno");
export const BUN = join(ROOT, "node_modules", ".bin", "bun");

/**
 * `mitm run ARGS` with the test CA's confdir; `env` replaces the environment the proxy (and so
 * the command) starts with.
 */
export async function mitmRun(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<RunResult> {
  const [cmd, argv] = cliArgv([
    "run",
    "--confdir",
    await testConfdir(),
    ...args,
  ]);
  return await run(cmd, argv, {
    timeoutMs: options.timeoutMs ?? 120_000,
    ...options,
  });
}

/** "METHOD URL" of each flow in a recording, in order; [] when there is no file. */
export function recordedRequests(file: string): string[] {
  try {
    readFileSync(file);
  } catch {
    return [];
  }
  return readFlows(file).flows.map((f) => `${f.request.method} ${f.request.url}`);
}

/** Whether `cmd args` runs and exits 0 (a tool that is present and works). */
export async function works(cmd: string, args: string[]): Promise<boolean> {
  const r = await run(cmd, args, { timeoutMs: 60_000 });
  return r.code === 0;
}
