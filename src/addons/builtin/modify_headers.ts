/**
 * --modify-headers '/filter/name/value': on matching requests (when their head arrives) and
 * responses (when theirs does), the header is removed and, unless the value is empty, set to the
 * value (`@file`: the file's content, read each time). `~q` limits a spec to requests, `~s` to
 * responses. Only heads are needed, so bodies keep streaming.
 */
import type { Flow } from "../../flow/flow.ts";
import type { HeaderList } from "../../http/headers.ts";
import type { Logger } from "../../log.ts";
import type { Addon } from "../types.ts";
import { replacementText, type RewriteSpec } from "./rewrite_spec.ts";

export function modifyHeaders(specs: readonly RewriteSpec[]): Addon {
  let log: Logger | null = null;
  const run = (flow: Flow, headers: HeaderList) => {
    // Decide first, then change: one spec's change must not decide whether another matches.
    const matching = specs.filter((spec) => spec.filter === null || spec.filter(flow));
    for (const spec of matching) headers.delete(spec.subject);
    for (const spec of matching) {
      let value: string;
      try {
        value = replacementText(spec.replacement).replace(/[\r\n]+$/, "");
      } catch (e) {
        log?.warn(`modify_headers: ${(e as Error).message}`);
        continue;
      }
      if (/[\r\n\0]/.test(value)) {
        log?.warn(`modify_headers: the value for ${spec.subject} has a line break; not set`);
        continue;
      }
      if (value !== "") headers.append(spec.subject, value);
    }
  };
  return {
    name: "modify_headers",
    load(ctx) {
      log = ctx.log;
    },
    requestheaders(flow) {
      if (!flow.responded && !flow.killed) run(flow, flow.request.headers);
    },
    responseheaders(flow) {
      if (flow.response) run(flow, flow.response.headers);
    },
  };
}
