/** `mitm read FILE [FILTER]` (and -r) and `mitm har FILE [FILTER] [-o OUT]`. */
import fs from "node:fs";
import { formatFlow } from "../addons/builtin/dumper.ts";
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { flowsToHar } from "../flow/har.ts";
import { type FlowLine, streamFlows } from "../flow/record_file.ts";
import { VERSION } from "../version.ts";
import { fsReason } from "./startup_checks.ts";
import { writeStdout } from "./stdout.ts";

export class ReadError extends Error {}

/** Skipped lines kept back while no flow has been seen (a file of flows says them all). */
const HELD_BACK = 20;

/**
 * Each readable flow of a recording, in order; skipped lines are reported on stderr. Until the
 * first flow the reports are held back: a file in which no line is a flow is not a recording with
 * bad lines but not a recording at all, and that is one line (a ReadError), not one per line.
 */
async function* flowsIn(file: string): AsyncGenerator<Flow> {
  if (!fs.existsSync(file)) throw new ReadError(`cannot read ${file}: no such file`);
  if (fs.statSync(file).isDirectory()) {
    throw new ReadError(`cannot read ${file}: it is a directory`);
  }
  let sawFlow = false;
  const held: string[] = [];
  let heldOver = 0;
  let firstSkip: string | null = null;
  const report = (message: string) => {
    if (sawFlow) console.error(message);
    else if (held.length < HELD_BACK) held.push(message);
    else heldOver++;
  };
  for await (const item of readable(file)) {
    if ("flow" in item) {
      if (!sawFlow) {
        sawFlow = true;
        for (const m of held) console.error(m);
        if (heldOver > 0) console.error(`mitm: ${file}: and ${heldOver} more skipped lines`);
      }
      yield item.flow;
    } else if (item.torn) {
      firstSkip ??= `line ${item.line} is cut off`;
      report(
        `mitm: ${file}: skipped the last line (${item.line}), cut off while it was being written`,
      );
    } else {
      firstSkip ??= `line ${item.line}: ${item.skipped}`;
      report(`mitm: ${file}: skipped line ${item.line}: ${item.skipped}`);
    }
  }
  if (!sawFlow && firstSkip !== null) {
    throw new ReadError(
      `${file} is not a recording (-w) or HAR file: no line in it is a flow (${
        firstSkip.length > 120 ? firstSkip.slice(0, 117) + "..." : firstSkip
      })`,
    );
  }
}

/** The file's lines, with a file-system error (permission denied, ...) as a ReadError. */
async function* readable(file: string): AsyncGenerator<FlowLine> {
  try {
    yield* streamFlows(file);
  } catch (e) {
    const reason = fsReason(e);
    if (reason === null) throw e;
    throw new ReadError(`cannot read ${file}: ${reason}`);
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
  for await (const flow of flowsIn(file)) {
    if (filter && !filter(flow)) continue;
    shown++;
    if (detail > 0) await writeStdout(formatFlow(flow, detail, color));
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
  for await (const flow of flowsIn(file)) if (!filter || filter(flow)) flows.push(flow);
  const har = flowsToHar(flows, { creator: { name: "mitm.ts", version: VERSION }, bodyLimit });
  const text = JSON.stringify(har, null, 2) + "\n";
  if (out === undefined) await writeStdout(text);
  else fs.writeFileSync(out, text);
  return flows.length;
}
