/**
 * --block-list '/filter/status': matching requests are answered with the status (empty body)
 * without reaching the origin; 444 closes the connection without answering, as nginx does.
 */
import type { Filter } from "../../filter/mod.ts";
import type { Addon } from "../types.ts";

export interface BlockSpec {
  filter: Filter | null;
  status: number;
}

/** nginx's "close the connection without a response". */
const HANG_UP = 444;

export function blockList(specs: readonly BlockSpec[]): Addon {
  return {
    name: "block_list",
    requestheaders(flow) {
      if (flow.responded || flow.killed) return;
      const spec = specs.find((s) => s.filter === null || s.filter(flow));
      if (spec === undefined) return;
      flow.metadata.blocklisted = true;
      if (spec.status === HANG_UP) flow.kill();
      else flow.respond(spec.status, "");
    },
  };
}
