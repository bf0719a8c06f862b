/**
 * Reading the flows to replay from recordings (JSON lines) or HAR files, with a clear error for a
 * file that cannot be read, and the flows that cannot be replayed set aside with a count.
 */
import { OptionError } from "../options.ts";
import type { Flow } from "../flow/flow.ts";
import { readFlows } from "../flow/record_file.ts";
import { expandHome } from "../ca/store.ts";

export interface LoadedFlows {
  flows: Flow[];
  /** Lines or entries that were not flows, over all files. */
  invalid: number;
  /** Flows left out because they cannot be replayed (see `usable`). */
  unusable: number;
}

/**
 * Reads every file in order. `usable` decides which flows are kept. Throws OptionError (one line)
 * naming the option when a file cannot be read.
 */
export function loadFlows(
  option: string,
  files: readonly string[],
  usable: (flow: Flow) => boolean,
): LoadedFlows {
  const out: LoadedFlows = { flows: [], invalid: 0, unusable: 0 };
  for (const file of files) {
    let result;
    try {
      result = readFlows(expandHome(file));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === "ENOENT"
        ? "no such file"
        : (e as Error).message;
      throw new OptionError(`option ${option}: cannot read ${file} (${why})`);
    }
    out.invalid += result.skipped.length + (result.tornTail ? 1 : 0);
    for (const flow of result.flows) {
      if (usable(flow)) out.flows.push(flow);
      else out.unusable++;
    }
  }
  return out;
}

/** A recorded response that can be sent again: whole body kept, not a protocol switch. */
export function hasReplayableResponse(flow: Flow): boolean {
  const r = flow.response;
  if (r === null || flow.websocket !== null || r.status < 200) return false;
  return r.body !== null || r.bodySize === 0;
}

/** A recorded request that can be sent again: its whole body was kept. */
export function hasReplayableRequest(flow: Flow): boolean {
  const r = flow.request;
  return flow.websocket === null && r.path !== "*" && (r.body !== null || r.bodySize === 0);
}
