/**
 * Where a CONNECT's origin is dialled before the client hears 200. Through an upstream proxy it
 * is (and the upstream's CONNECT answered), so that the upstream's refusal (a 407, an unreachable
 * origin) becomes the client's 502. With the eager strategy (mitmproxy's default) it is too, so
 * that an unreachable origin is the CONNECT's 502 with the reason; an origin that speaks first on
 * this connection is relayed with its greeting by the layers inside the tunnel. The proxy's own
 * site (mitm.it) is answered inside the tunnel: nothing is dialled for it, nor for an origin the
 * shared pool has a TLS connection to.
 */
import { originFailureText } from "../../../http/responses.ts";
import { formatAuthority } from "../../../http1/target.ts";
import type { HttpRequestHead } from "../../../http/message.ts";
import { Server } from "../../core/connection.ts";
import type { Context } from "../../core/context.ts";
import { OpenConnection } from "../../core/commands.ts";
import type { CommandGenerator } from "../../core/layer.ts";
import type { HttpMode } from "./mode.ts";

export interface ConnectTarget {
  server: Server;
  /** Why the origin could not be reached (the 502's message and text), or null. */
  failure: { message: string; text: string } | null;
}

export function* dialConnectTarget(
  context: Context,
  mode: HttpMode,
  head: HttpRequestHead,
): CommandGenerator<ConnectTarget> {
  const server = new Server({ host: head.host, port: head.port });
  const options = context.options;
  if (head.host === options.onboarding?.host) return { server, failure: null };
  const where = formatAuthority(head.host, head.port);
  if (mode.kind === "upstream") {
    // The tunnel goes through the upstream proxy; inside it, this proxy still intercepts.
    server.via = { host: mode.host, port: mode.port };
    server.tunnel = true;
    server.viaAuth = options.upstreamAuth;
    const error = (yield new OpenConnection(server)) as string | null;
    const failure = error === null
      ? null
      : { message: error, text: originFailureText(where, error) };
    return { server, failure };
  }
  if (options.connectionStrategy !== "eager" || options.pooledTlsOrigin?.(head.host, head.port)) {
    return { server, failure: null };
  }
  const error = (yield new OpenConnection(server)) as string | null;
  if (error === null) return { server, failure: null };
  return {
    server,
    failure: {
      message: `could not connect to ${where}: ${error}`,
      text: originFailureText(where, error),
    },
  };
}
