/**
 * Answers requests to blocked domains (and their subdomains) with 403, without contacting them.
 *   BLOCKED=ads.example,tracker.test mitm -s examples/block_domain.ts
 */
import type { Addon } from "../mod.ts";

const blocked = (globalThis.process?.env?.BLOCKED ?? "ads.example")
  .split(",").map((d) => d.trim().toLowerCase()).filter(Boolean);

function isBlocked(host: string): boolean {
  return blocked.some((d) => host === d || host.endsWith("." + d));
}

export default {
  name: "block-domain",
  // requestheaders: answer before the request body is even read.
  requestheaders(flow) {
    if (isBlocked(flow.request.host)) {
      flow.respond(403, `blocked by mitm.ts: ${flow.request.host}\n`, {
        "Content-Type": "text/plain; charset=utf-8",
      });
    }
  },
} satisfies Addon;
