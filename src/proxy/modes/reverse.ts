/**
 * reverse mode: the proxy is the server its clients talk to, and sends every request to one
 * origin. Clients may speak plain HTTP or TLS (told apart by the first bytes; the leaf is named
 * by the SNI, else the origin's host), whatever the origin speaks.
 */
import type { ModeHandler } from "../session.ts";
import { runTunnel } from "../tunnel.ts";
import type { ModeServer } from "./spec.ts";

export function reverseHandler(origin: ModeServer): ModeHandler {
  return (session) =>
    runTunnel(session, { host: origin.host, port: origin.port }, "pooled", {
      originScheme: origin.scheme,
      setHost: !session.ctx.options.keep_host_header,
    });
}
