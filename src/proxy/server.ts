/** The proxy server: listen, run a session per client connection, shut down cleanly. */
import fs from "node:fs";
import {
  expandHome,
  LeafCache,
  type LoadedCa,
  loadOrCreateCa,
  parsePem,
  toPem,
} from "../ca/mod.ts";
import { formatAuthority } from "../http1/mod.ts";
import { type Logger, silentLogger } from "../log.ts";
import { OptionError, type Options, resolveOptions } from "../options.ts";
import { network as defaultNetwork } from "../runtime/mod.ts";
import type { Address, Conn, Network } from "../runtime/types.ts";
import type { CaContext, ProxyContext, TlsContext } from "./context.ts";
import { AddonManager } from "../addons/manager.ts";
import { ScriptLoader } from "../addons/scripts.ts";
import { hardump } from "../addons/builtin/hardump.ts";
import { recorder } from "../addons/builtin/recorder.ts";
import { parseFilter } from "../filter/mod.ts";
import type { Addon } from "../addons/types.ts";
import type { Flow } from "../flow/flow.ts";
import { interceptPolicy } from "./tls_policy.ts";
import { runtime } from "../runtime/mod.ts";
import process from "node:process";
import { OriginPool } from "./origin_pool.ts";
import { Deadlines, tickFor } from "./deadlines.ts";
import { ClientSession } from "./session.ts";

export interface ProxyServer {
  /** The address actually bound (the port is real even when 0 was asked for). */
  readonly address: Address;
  /** http://host:port, for HTTP_PROXY and curl -x. */
  readonly url: string;
  readonly options: Options;
  /** The certificate authority in use (files, and the leaves issued so far). */
  readonly ca: CaContext;
  /** The addons; more can be added (or replaced on reload) while running. */
  readonly addons: AddonManager;
  /** Client connections currently open. */
  readonly connectionCount: number;
  /** Stops listening, closes every connection, and resolves when all sessions have ended. */
  close(): Promise<void>;
}

export interface ProxyDeps {
  network?: Network;
  log?: Logger;
  /** Addons to load, in order (their `load` runs before the proxy listens). */
  addons?: Addon[];
  /** Addon script files to load after `addons`, watched and reloaded when they change. */
  scripts?: string[];
  /** A CA already loaded (tests share one); otherwise it is loaded from or created in confdir. */
  ca?: LoadedCa;
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
  const loaded = deps.ca ?? await loadOrCreateCa(expandHome(options.confdir));
  if (loaded.created) log.info(`created a new certificate authority in ${loaded.keyFile}`);
  const ca: CaContext = { authority: loaded.ca, files: loaded, leaves: new LeafCache(loaded.ca) };
  const tls = tlsContext(options, log);
  const intercepts = interceptPolicy(options.ignore_hosts, options.allow_hosts);
  const addons = new AddonManager(log);
  await addons.add(...builtinAddons(options), ...(deps.addons ?? []));
  const scripts = new ScriptLoader(addons, log);
  try {
    for (const file of deps.scripts ?? []) await scripts.load(file);
  } catch (e) {
    await scripts.close();
    throw e;
  }
  // flow_done observers run without holding up traffic; close() waits for those still running.
  const observing = new Set<Promise<void>>();
  const flowDone = (flow: Flow) => {
    if (!addons.has("flow_done")) return;
    const p: Promise<void> = addons.trigger("flow_done", flow).finally(() => observing.delete(p));
    observing.add(p);
  };
  const deadlines = new Deadlines(
    tickFor(
      options.idle_timeout * 1000,
      options.header_timeout * 1000,
      options.origin_idle_timeout * 1000,
    ),
  );
  const pool = new OriginPool(
    options.origin_pool_size,
    options.origin_idle_timeout * 1000,
    deadlines,
  );
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
    deadlines,
    listen: address,
    proxyUrl: url,
    limits: { maxHeadBytes: options.max_head_bytes, maxHeaderCount: options.max_header_count },
    ca,
    tls,
    intercepts,
    addons,
    flowDone,
  };
  await addons.trigger("running");

  return {
    address,
    url,
    options,
    ca,
    addons,
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
      await Promise.all(observing);
      await scripts.close();
      await addons.trigger("done");
      deadlines.stop();
    },
  };
}

/** Extra trusted origin CAs and key logging, from the options. */
function tlsContext(options: Options, log: Logger): TlsContext {
  const extraCa: string[] = [];
  const caFile = options.ssl_verify_upstream_trusted_ca;
  if (caFile) {
    let text: string;
    try {
      text = fs.readFileSync(expandHome(caFile), "utf8");
    } catch (e) {
      throw new OptionError(
        `option ssl_verify_upstream_trusted_ca: cannot read ${caFile} (${(e as Error).message})`,
      );
    }
    for (const b of parsePem(text)) {
      if (b.label === "CERTIFICATE") extraCa.push(toPem("CERTIFICATE", b.der));
    }
    if (extraCa.length === 0) {
      throw new OptionError(
        `option ssl_verify_upstream_trusted_ca: ${caFile} holds no PEM certificate`,
      );
    }
  }
  const keylogFile = options.keylog_file || process.env.SSLKEYLOGFILE || "";
  let keylog: TlsContext["keylog"] = null;
  if (keylogFile) {
    if (runtime.name === "deno") {
      log.warn(
        `warning: TLS key logging is not available on Deno (its node:tls does not report ` +
          `secrets); run on Bun to write ${keylogFile}`,
      );
    }
    const path = expandHome(keylogFile);
    keylog = (line) => fs.appendFileSync(path, line);
  }
  return { extraCa, keylog, distrustLogged: new Set() };
}

/** The addons that options switch on: recording and the HAR dump. */
function builtinAddons(options: Options): Addon[] {
  const out: Addon[] = [];
  const bodyLimit = options.stream_large_bodies;
  if (options.record) {
    const filter = options.record_filter ? parseFilter(options.record_filter) : null;
    out.push(recorder(expandHome(options.record), { filter, bodyLimit }));
  }
  if (options.hardump) out.push(hardump(expandHome(options.hardump), { bodyLimit }));
  return out;
}
