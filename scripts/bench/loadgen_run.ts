/** Runs scripts/bench/loadgen.mjs against a proxy and reads its one-line JSON result. */
import path from "node:path";
import type { RunningProxy } from "./proxies.ts";
import { cpuMsOf, run } from "./util.ts";

const LOADGEN = path.join(import.meta.dirname!, "loadgen.mjs");

export interface LoadgenResult {
  requests: number;
  /** Answered including the warm-up. */
  answered: number;
  /** The proxy's CPU time per answered request (ms), where /proc tells. */
  cpuMsPerRequest?: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p99: number | null;
  firstError?: string;
}

/**
 * `runtime` runs loadgen.mjs (an executable path) with `args` after --proxy and --target; rejects
 * if it fails or prints no result within `timeoutMs`.
 */
export async function runLoadgen(
  runtime: string,
  proxy: RunningProxy,
  target: string,
  args: string[],
  timeoutMs: number,
): Promise<LoadgenResult> {
  const cpuBefore = cpuMsOf(proxy.pid);
  const r = await run(runtime, [LOADGEN, "--proxy", proxy.url, "--target", target, ...args], {
    timeoutMs,
  });
  const cpuAfter = cpuMsOf(proxy.pid);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0 || !line.startsWith("{")) {
    throw new Error(`loadgen failed (${r.code}): ${(r.stderr || r.stdout).slice(-300)}`);
  }
  const result = JSON.parse(line) as LoadgenResult;
  if (cpuBefore !== null && cpuAfter !== null && result.answered > 0) {
    result.cpuMsPerRequest = Number(((cpuAfter - cpuBefore) / result.answered).toFixed(3));
  }
  return result;
}
