/**
 * Name resolution for origin dials, apart from the TCP connect so that the flow can say how long
 * each took (HAR `timings.dns` and `connect`). node:dns `lookup` is getaddrinfo on Deno and Bun
 * alike: /etc/hosts and the system's resolver, as the runtimes' own connect by name uses.
 */
import { lookup } from "node:dns/promises";
import { toNetError } from "./net_errors.ts";

/** The host's addresses, in the order the system gives them; rejects with a NetError ("dns"). */
export async function resolveHost(host: string): Promise<string[]> {
  let found: { address: string }[];
  try {
    found = await lookup(host, { all: true });
  } catch (e) {
    throw toNetError(e);
  }
  if (found.length === 0) throw toNetError({ code: "ENOTFOUND" });
  return found.map((a) => a.address);
}
