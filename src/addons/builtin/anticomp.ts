/** --anticomp: origins are asked for uncompressed responses, so bodies are readable as sent. */
import type { Addon } from "../types.ts";

export function anticomp(): Addon {
  return {
    name: "anticomp",
    requestheaders(flow) {
      flow.request.headers.set("Accept-Encoding", "identity");
    },
  };
}
