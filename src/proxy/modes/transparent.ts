/**
 * transparent mode: connections that iptables/nftables REDIRECT sent here, to the destination
 * they were going to (SO_ORIGINAL_DST). TLS is told apart by the first bytes and intercepted
 * (the SNI names the leaf, the original destination is the origin); plain HTTP requests go to
 * the original destination as they are.
 */
import { type Address, normalizeHost } from "../../runtime/mod.ts";
import type { ModeHandler } from "../session.ts";
import { runTunnel } from "../tunnel.ts";

export function transparentHandler(destination: Address): ModeHandler {
  return (session) =>
    runTunnel(session, { host: normalizeHost(destination.host), port: destination.port }, "pooled");
}

/**
 * True when `destination` is where the connection really arrived: a client that connected to the
 * proxy's port itself, not a redirected one (which then gets the regular proxy).
 */
export function notRedirected(destination: Address | null, local: Address): boolean {
  return destination === null ||
    (destination.port === local.port &&
      normalizeHost(destination.host) === normalizeHost(local.host));
}
