/**
 * The bench's "live flow with hooks": reads and sets headers on every request and response, as a
 * typical addon does, so that the cost of running hooks (and of what they touch) is measured.
 */
import type { Addon } from "../../mod.ts";

let seen = 0;

export default {
  name: "bench-hooks",
  request(flow) {
    seen++;
    flow.request.headers.set("x-bench-seen", flow.request.headers.get("user-agent") ?? "");
  },
  response(flow) {
    flow.response?.headers.set("x-bench-count", String(seen));
  },
} satisfies Addon;
