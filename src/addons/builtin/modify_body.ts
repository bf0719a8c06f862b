/**
 * --modify-body '/filter/regex/replacement': every match of the regex in a matching request or
 * response body (decoded, as text) is replaced (`$1` for groups; `@file` reads the replacement
 * each time). `~q` limits a spec to requests, `~s` to responses. This holds bodies whole for the
 * `request`/`response` hooks, up to stream_large_bodies; larger ones stream through unchanged.
 */
import type { Flow, FlowRequest, FlowResponse } from "../../flow/flow.ts";
import type { Logger } from "../../log.ts";
import type { Addon } from "../types.ts";
import { type RegexSpec, replacementText } from "./rewrite_spec.ts";

export function modifyBody(specs: readonly RegexSpec[]): Addon {
  let log: Logger | null = null;
  const run = (flow: Flow, message: FlowRequest | FlowResponse) => {
    for (const spec of specs) {
      if (spec.filter && !spec.filter(flow)) continue;
      let text: string | null;
      let replacement: string;
      try {
        text = message.text();
        replacement = replacementText(spec.replacement);
      } catch (e) {
        log?.warn(`modify_body: ${flow.request.url}: ${(e as Error).message}`);
        continue;
      }
      if (text === null) continue; // streamed through, not kept
      spec.regex.lastIndex = 0;
      const changed = text.replace(spec.regex, replacement);
      if (changed !== text) message.setText(changed);
    }
  };
  return {
    name: "modify_body",
    load(ctx) {
      log = ctx.log;
    },
    request(flow) {
      if (!flow.responded && !flow.killed) run(flow, flow.request);
    },
    response(flow) {
      if (flow.response) run(flow, flow.response);
    },
  };
}
