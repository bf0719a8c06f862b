/** --record FILE: each finished flow appended as one JSON line (docs/flow-format.md). */
import type { Filter } from "../../filter/mod.ts";
import { FlowRecorder } from "../../flow/record_file.ts";
import type { Addon } from "../types.ts";

export function recorder(
  path: string,
  options: { filter: Filter | null; bodyLimit: number },
): Addon {
  let file: FlowRecorder | null = null;
  return {
    name: "recorder",
    load() {
      file = new FlowRecorder(path, { bodyLimit: options.bodyLimit });
    },
    flow_done(flow) {
      if (file === null || (options.filter && !options.filter(flow))) return;
      file.write(flow);
    },
    done() {
      file?.close();
      file = null;
    },
  };
}
