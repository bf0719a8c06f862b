/**
 * Dialling an origin (or the upstream proxy in front of it): the name is resolved first, then the
 * addresses are connected to in turn, so that the flow can tell the DNS lookup from the TCP
 * connect (HAR `timings.dns` and `connect`). An IP address is connected to at once (no lookup:
 * HAR's -1, "not applicable"); so is a name on a network that cannot resolve (in-memory ones in
 * tests). TLS and the Host header keep the name: only the socket goes to the address.
 */
import { isIP } from "node:net";
import type { Server } from "../core/connection.ts";
import { type Conn, NetError, type Network } from "../../runtime/types.ts";

/** Failures after which the next address of the name is tried (another one may answer). */
const NEXT_ADDRESS = new Set(["refused", "unreachable", "address-not-available"]);

/**
 * Connects to `host`:`port` within `timeoutMs` (lookup and connects together), setting the
 * server's DNS and TCP start times.
 */
export async function dialOrigin(
  network: Network,
  server: Server,
  host: string,
  port: number,
  timeoutMs: number | undefined,
): Promise<Conn> {
  const resolve = network.resolve;
  if (resolve === undefined || isIP(host) !== 0) {
    server.timestampTcpStart = Date.now();
    return await network.connect({ host, port, timeoutMs });
  }
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  server.timestampDnsStart = Date.now();
  const addresses = await withinTime(resolve(host), timeoutMs);
  server.timestampDnsEnd = server.timestampTcpStart = Date.now();
  let failure: unknown = null;
  for (const address of addresses) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      return await network.connect({
        host: address,
        port,
        timeoutMs: left === Infinity ? undefined : left,
      });
    } catch (e) {
      failure = e;
      if (!(e instanceof NetError) || !NEXT_ADDRESS.has(e.code)) throw e;
    }
  }
  throw failure ?? new NetError("timeout", `timed out after ${timeoutMs} ms`);
}

/** The lookup, or a timeout error when it takes longer than `ms` (getaddrinfo has no timeout). */
function withinTime<T>(work: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return work;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new NetError("timeout", `DNS lookup timed out after ${ms} ms`)),
      ms,
    );
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
