/** `mitm read FILE [FILTER]` (and -r) and `mitm har FILE [FILTER] [-o OUT]`. */
import fs from "node:fs";
import process from "node:process";
import { formatFlow } from "../addons/builtin/dumper.ts";
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { flowsToHar } from "../flow/har.ts";
import { streamFlows } from "../flow/record_file.ts";
import { looksLikeSqlite, sessionFlows, StoreFileError } from "../store/open_file.ts";
import { VERSION } from "../version.ts";

export class ReadError extends Error {}

/**
 * Each readable flow of a recording or a saved session, in order; skipped lines are reported on
 * stderr. A session answers the filter itself (with its indexes); `filtered` says so.
 */
async function* flowsIn(
  file: string,
  filter: Filter | null,
  filtered: { done: boolean },
): AsyncGenerator<Flow> {
  if (!fs.existsSync(file)) throw new ReadError(`cannot read ${file}: no such file`);
  if (looksLikeSqlite(file)) {
    filtered.done = true;
    try {
      yield* sessionFlows(file, filter);
    } catch (e) {
      if (e instanceof StoreFileError) throw new ReadError(e.message);
      throw e;
    }
    return;
  }
  for await (const item of streamFlows(file)) {
    if ("flow" in item) yield item.flow;
    else if (item.torn) {
      console.error(
        `mitm: ${file}: skipped the last line (${item.line}), cut off while it was being written`,
      );
    } else console.error(`mitm: ${file}: skipped line ${item.line}: ${item.skipped}`);
  }
}

/** Prints the flows like the live output; returns how many matched. */
export async function readCommand(
  file: string,
  filter: Filter | null,
  detail: number,
  color: boolean,
): Promise<number> {
  let shown = 0;
  const filtered = { done: false };
  for await (const flow of flowsIn(file, filter, filtered)) {
    if (filter && !filtered.done && !filter(flow)) continue;
    shown++;
    if (detail > 0) process.stdout.write(formatFlow(flow, detail, color));
  }
  return shown;
}

/** Writes the matching flows as HAR 1.2 to `out` (standard output when undefined). */
export async function harCommand(
  file: string,
  filter: Filter | null,
  out: string | undefined,
  bodyLimit: number,
): Promise<number> {
  const flows: Flow[] = [];
  const filtered = { done: false };
  for await (const flow of flowsIn(file, filter, filtered)) {
    if (!filter || filtered.done || filter(flow)) flows.push(flow);
  }
  const har = flowsToHar(flows, { creator: { name: "mitm.ts", version: VERSION }, bodyLimit });
  const text = JSON.stringify(har, null, 2) + "\n";
  if (out === undefined) process.stdout.write(text);
  else fs.writeFileSync(out, text);
  return flows.length;
}
