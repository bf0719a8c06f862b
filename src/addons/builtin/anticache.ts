/** --anticache: conditional request headers removed, so origins answer in full (never 304). */
import type { Addon } from "../types.ts";

export function anticache(): Addon {
  return {
    name: "anticache",
    requestheaders(flow) {
      flow.request.headers.delete("if-none-match");
      flow.request.headers.delete("if-modified-since");
    },
  };
}
