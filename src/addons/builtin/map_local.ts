/**
 * --map-local '|filter|url-regex|path': matching requests are answered from a local file, or
 * from a directory (the part of the URL after the match is the file's path in it). The origin is
 * not contacted. Paths that lead out of the directory get 403; missing files 404.
 */
import { readFileSync } from "node:fs";
import type { Flow } from "../../flow/flow.ts";
import type { Filter } from "../../filter/mod.ts";
import type { Logger } from "../../log.ts";
import type { Addon } from "../types.ts";
import { guessMimeType } from "./mime_types.ts";
import { localFileFor } from "./map_local_path.ts";

export interface MapLocalSpec {
  filter: Filter | null;
  regex: RegExp;
  path: string;
}

const TEXT = { "Content-Type": "text/plain; charset=utf-8" };

export function mapLocal(specs: readonly MapLocalSpec[]): Addon {
  // Non-global copies: exec() on a global regex would carry lastIndex from one URL to the next.
  const rules = specs.map((s) => ({ ...s, regex: new RegExp(s.regex.source) }));
  let log: Logger | null = null;
  return {
    name: "map_local",
    load(ctx) {
      log = ctx.log;
    },
    requestheaders(flow: Flow) {
      if (flow.responded || flow.killed) return;
      const url = flow.request.url;
      for (const rule of rules) {
        if (rule.filter && !rule.filter(flow)) continue;
        const m = rule.regex.exec(url);
        if (m === null) continue;
        const found = localFileFor(rule.path, url.slice(m.index + m[0].length));
        if (found.kind === "refused") {
          log?.info(`map_local: refused ${url}: ${found.why}`);
          flow.respond(403, `mitm.ts map_local: refused: ${found.why}\n`, TEXT);
        } else if (found.kind === "missing") {
          flow.respond(404, `mitm.ts map_local: no local file for ${url}\n`, TEXT);
        } else {
          let body: Uint8Array;
          try {
            body = readFileSync(found.file);
          } catch (e) {
            flow.respond(404, `mitm.ts map_local: cannot read the local file\n`, TEXT);
            log?.info(`map_local: cannot read ${found.file}: ${(e as Error).message}`);
            return;
          }
          flow.respond(200, body, { "Content-Type": guessMimeType(found.file) });
        }
        flow.metadata.mapLocal = found.kind === "file" ? found.file : null;
        return;
      }
    },
  };
}
