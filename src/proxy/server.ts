/** The proxy server: listen, run a session per client connection, shut down cleanly. */
import { formatAuthority } from "../http1/mod.ts";
import { type Logger, silentLogger } from "../log.ts";
import { type Options, resolveOptions } from "../options.ts";
import { network as defaultNetwork } from "../runtime/mod.ts";
import type { Address, Conn, Network } from "../runtime/types.ts";
import type { ProxyContext } from "./context.ts";
import { OriginPool } from "./origin_pool.ts";
import { ClientSession } from "./session.ts";

export interface ProxyServer {
  /** The address actually bound (the port is real even when 0 was asked for). */
  readonly address: Address;
  /** http://host:port, for HTTP_PROXY and curl -x. */
  readonly url: string;
  readonly options: Options;
  /** Client connections currently open. */
  readonly connectionCount: number;
  /** Stops listening, closes every connection, and resolves when all sessions have ended. */
  close(): Promise<void>;
}

export interface ProxyDeps {
  network?: Network;
  log?: Logger;
}

/**
 * Starts the proxy.
 *
 * ```ts
 * const proxy = await startProxy({ listen_port: 0 });
 * console.log(`HTTP_PROXY=${proxy.url}`);
 * await proxy.close();
 * ```
 */
export async function startProxy(
  overrides: Partial<Options> = {},
  deps: ProxyDeps = {},
): Promise<ProxyServer> {
  const options = resolveOptions(overrides);
  const network = deps.network ?? defaultNetwork;
  const log = deps.log ?? silentLogger;
  const pool = new OriginPool(options.origin_pool_size, options.origin_idle_timeout * 1000);
  const sessions = new Map<Conn, Promise<void>>();
  let ctx: ProxyContext | null = null;
  let closing = false;

  const onConn = (conn: Conn) => {
    if (closing || ctx === null) return conn.close();
    const done = new ClientSession(conn, ctx).run().catch((e) => {
      log.error(`internal error on a client connection: ${e?.stack ?? e}`);
      conn.close();
    }).finally(() => sessions.delete(conn));
    sessions.set(conn, done);
  };

  const listener = await network.listen(
    { host: options.listen_host, port: options.listen_port },
    onConn,
  );
  const address = listener.address;
  const url = `http://${formatAuthority(address.host, address.port)}`;
  ctx = {
    options,
    network,
    pool,
    log,
    listen: address,
    proxyUrl: url,
    limits: { maxHeadBytes: options.max_head_bytes, maxHeaderCount: options.max_header_count },
  };

  return {
    address,
    url,
    options,
    get connectionCount() {
      return sessions.size;
    },
    async close() {
      if (closing) return;
      closing = true;
      const stopped = listener.close();
      for (const conn of sessions.keys()) conn.close();
      pool.closeAll();
      await Promise.all([stopped, ...sessions.values()]);
      pool.closeAll();
    },
  };
}
