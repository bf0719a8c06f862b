/** `mitm diff A B [--json]`: what changed between two recordings; exit 1 when anything did. */
import fs from "node:fs";
import process from "node:process";
import { matchOptionsFrom } from "../addons/builtin/server_replay.ts";
import { diffFlows, hasDifferences, VOLATILE_HEADERS } from "../diff/flow_diff.ts";
import { diffJson, formatDiff } from "../diff/format.ts";
import type { Flow } from "../flow/flow.ts";
import { readFlows } from "../flow/record_file.ts";
import type { Options } from "../options.ts";

/** Exit status when a recording cannot be read: 2, as diff(1) uses for trouble (1 = differ). */
export const DIFF_TROUBLE = 2;

export class DiffReadError extends Error {}

function load(file: string): Flow[] {
  if (!fs.existsSync(file)) throw new DiffReadError(`cannot read ${file}: no such file`);
  let result;
  try {
    result = readFlows(file);
  } catch (e) {
    throw new DiffReadError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const skipped = result.skipped.length + (result.tornTail ? 1 : 0);
  if (skipped > 0) console.error(`mitm: ${file}: skipped ${skipped} lines that are not flows`);
  return result.flows;
}

/** Prints the differences; resolves with 0 (same), 1 (different) or 2 (unreadable file). */
export function diffCommand(
  a: string,
  b: string,
  options: Options,
  how: { json?: boolean; ignoreHeaders?: string[] },
): number {
  let flowsA, flowsB;
  try {
    flowsA = load(a);
    flowsB = load(b);
  } catch (e) {
    if (!(e instanceof DiffReadError)) throw e;
    console.error(`mitm: ${e.message}.`);
    return DIFF_TROUBLE;
  }
  const diff = diffFlows(flowsA, flowsB, {
    match: matchOptionsFrom(options),
    ignoreHeaders: [...VOLATILE_HEADERS, ...(how.ignoreHeaders ?? [])],
  });
  process.stdout.write(how.json ? diffJson(diff) : formatDiff(diff, { a, b }));
  return hasDifferences(diff) ? 1 : 0;
}
