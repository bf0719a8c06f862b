/**
 * Logs how long each exchange took: connecting, TLS, waiting for the first byte, and in total.
 * Uses flow_done, which observes finished flows without delaying traffic.
 *   mitm -s examples/log_timings.ts
 */
import type { Addon, AddonContext, Flow } from "../mod.ts";

let log: AddonContext["log"] | null = null;

function ms(from?: number, to?: number | null): string {
  return from !== undefined && to !== undefined && to !== null ? `${to - from} ms` : "-";
}

export function timingLine(flow: Flow): string {
  const { request, response, server } = flow;
  const parts = [
    `${request.method} ${request.url}`,
    `status=${response?.status ?? "error"}`,
    `connect=${ms(server?.timestampTcpStart, server?.timestampTcpEnd)}`,
    `tls=${ms(server?.timestampTlsStart, server?.timestampTlsEnd)}`,
    `ttfb=${ms(request.timestampStart, response?.timestampStart)}`,
    `total=${ms(request.timestampStart, response?.timestampEnd ?? flow.error?.timestamp)}`,
  ];
  return `timing: ${parts.join(" ")}`;
}

export default {
  name: "log-timings",
  load(ctx) {
    log = ctx.log;
  },
  flow_done(flow) {
    log?.info(timingLine(flow));
  },
} satisfies Addon;
