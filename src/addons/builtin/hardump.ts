/**
 * --set hardump=FILE: keeps finished flows and writes them as one HAR 1.2 file when the proxy
 * stops, as mitmproxy's option does. Flows are held in memory until then.
 */
import fs from "node:fs";
import type { Flow } from "../../flow/flow.ts";
import { flowsToHar } from "../../flow/har.ts";
import { VERSION } from "../../version.ts";
import type { Logger } from "../../log.ts";
import type { Addon } from "../types.ts";

export function hardump(path: string, options: { bodyLimit: number }): Addon {
  const flows: Flow[] = [];
  let log: Logger | null = null;
  return {
    name: "hardump",
    load(ctx) {
      log = ctx.log;
    },
    flow_done(flow) {
      flows.push(flow);
    },
    done() {
      const har = flowsToHar(flows, {
        creator: { name: "mitm.ts", version: VERSION },
        bodyLimit: options.bodyLimit,
      });
      fs.writeFileSync(path, JSON.stringify(har, null, 2) + "\n");
      log?.info(`wrote ${flows.length} flows to ${path} (HAR)`);
    },
  };
}
