/**
 * --map-remote '|filter|url-regex|replacement': the URL of matching requests is rewritten (every
 * match replaced, `$1` for groups) before it is sent; Host follows the new destination.
 */
import type { Flow } from "../../flow/flow.ts";
import type { Filter } from "../../filter/mod.ts";
import type { Logger } from "../../log.ts";
import type { Addon } from "../types.ts";

export interface MapRemoteSpec {
  filter: Filter | null;
  regex: RegExp;
  to: string;
}

export function mapRemote(specs: readonly MapRemoteSpec[]): Addon {
  let log: Logger | null = null;
  return {
    name: "map_remote",
    load(ctx) {
      log = ctx.log;
    },
    requestheaders(flow: Flow) {
      if (flow.responded || flow.killed) return;
      for (const spec of specs) {
        if (spec.filter && !spec.filter(flow)) continue;
        const before = flow.request.url;
        spec.regex.lastIndex = 0;
        const after = before.replace(spec.regex, spec.to);
        if (after === before) continue;
        try {
          flow.request.url = after;
        } catch (e) {
          log?.info(`map_remote: ${before} -> ${after} is not usable: ${(e as Error).message}`);
        }
      }
    },
  };
}
