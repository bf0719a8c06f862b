/**
 * The proxy server: listen, serve each client connection with the layered core (layered.ts: one
 * driver per connection over the mode's layer stack), shut down cleanly.
 */
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
import {
  installLastResort,
  listenTransparent,
  NetError,
  network as defaultNetwork,
} from "../runtime/mod.ts";
import type { Address, Conn, Listener, Network } from "../runtime/types.ts";
import type { CaContext, TlsContext } from "./shared.ts";
import { AddonManager } from "../addons/manager.ts";
import { ScriptLoader } from "../addons/scripts.ts";
import { hardump } from "../addons/builtin/hardump.ts";
import { recorder } from "../addons/builtin/recorder.ts";
import { rewriteAndReplayAddons } from "../addons/builtin/option_addons.ts";
import { parseFilter } from "../filter/mod.ts";
import type { Addon } from "../addons/types.ts";
import type { Flow } from "../flow/flow.ts";
import { interceptPolicy } from "./tls_policy.ts";
import { normalizeHost, runtime } from "../runtime/mod.ts";
import process from "node:process";
import { textResponse } from "../http/responses.ts";
import { Deadlines, tickFor } from "./driver/deadlines.ts";
import { listenPorts, ModeError, type ModeSpec, parseMode } from "./modes/spec.ts";
import { layeredListener, layeredOriginPool } from "./layered.ts";
import type { RequestInjector } from "./injector.ts";

/** One listener: a mode (--mode) and where it listens. */
export interface ModeListener {
  readonly mode: ModeSpec;
  readonly address: Address;
  /** How clients reach it: http://host:port, or socks5://host:port. */
  readonly url: string;
}

/** Listening failed (the port is taken, ...): which address, and the NetError's reason. */
export class ListenError extends NetError {
  readonly address: Address;
  constructor(address: Address, cause: NetError) {
    super(cause.code, cause.message, { cause });
    this.address = address;
  }
}

export interface ProxyServer {
  /**
   * The address actually bound (the port is real even when 0 was asked for): of the first
   * regular or upstream mode, else of the first mode.
   */
  readonly address: Address;
  /** http://host:port, for HTTP_PROXY and curl -x. */
  readonly url: string;
  /** Every mode's listener, in the order of the modes. */
  readonly listeners: readonly ModeListener[];
  readonly options: Options;
  /** The certificate authority in use (files, and the leaves issued so far). */
  readonly ca: CaContext;
  /** The addons; more can be added (or replaced on reload) while running. */
  readonly addons: AddonManager;
  /** Client connections currently open. */
  readonly connectionCount: number;
  /**
   * Takes requests from inside the process (replay, the API) as events, through the main
   * listener's mode.
   */
  readonly injector: RequestInjector;
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
  // Before anything is created (the CA in confdir): a bad mode is a usage error.
  let modes: ModeSpec[], ports: number[];
  try {
    modes = options.mode.map(parseMode);
    if (modes.length === 0) modes = [parseMode("regular")];
    ports = listenPorts(modes, options.listen_port);
  } catch (e) {
    throw e instanceof ModeError ? new OptionError(e.message) : e;
  }
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
    // Read-only observers (the web UI's store) run at once, without a promise per flow unless a
    // hook returns one.
    const running = addons.observedOnly("flow_done")
      ? addons.notify("flow_done", flow)
      : addons.trigger("flow_done", flow);
    if (running === undefined) return;
    const p: Promise<void> = running.finally(() => observing.delete(p));
    observing.add(p);
  };
  const deadlines = new Deadlines(
    tickFor(
      options.idle_timeout * 1000,
      options.header_timeout * 1000,
      options.origin_idle_timeout * 1000,
      options.read_timeout > 0 ? options.read_timeout * 1000 : Infinity,
      options.body_timeout > 0 ? options.body_timeout * 1000 : Infinity,
    ),
  );
  // Idle origin connections shared by every client connection (the pool key tells connections
  // through an upstream proxy from direct ones).
  const originPool = layeredOriginPool(options, deadlines);
  const sessions = new Map<Conn, Promise<void>>();
  const overflow = new Overflow(options.max_connections, log);
  let closing = false;
  const shared = {
    options,
    network,
    log,
    deadlines,
    ca,
    tls,
    intercepts,
    addons,
    flowDone,
    originPool,
  };
  const listening: { listener: Listener; entry: ModeListener }[] = [];
  const layeredCores: ReturnType<typeof layeredListener>[] = [];
  const injectors = new Map<ModeListener, RequestInjector>();
  try {
    for (const [i, mode] of modes.entries()) {
      let layered: ReturnType<typeof layeredListener> | null = null;
      const serve = (conn: Conn, destination?: Address) => {
        if (closing || layered === null) return conn.close();
        if (overflow.refuses(sessions.size)) return overflow.turnAway(conn, mode);
        const done = layered.serve(conn, destination).catch((e) => {
          log.error(`internal error on a client connection: ${e?.stack ?? e}`);
          conn.close();
        }).finally(() => sessions.delete(conn));
        sessions.set(conn, done);
      };
      const at = { host: options.listen_host, port: ports[i] };
      const listener = await listenFor(mode, network, at, serve, log);
      const address = listener.address;
      const authority = formatAuthority(address.host, address.port);
      const entry: ModeListener = {
        mode,
        address,
        url: `${mode.kind === "socks5" ? "socks5" : "http"}://${authority}`,
      };
      listening.push({ listener, entry });
      layered = layeredListener(shared, mode, address);
      layeredCores.push(layered);
      injectors.set(entry, layered.injector);
    }
  } catch (e) {
    await Promise.all(listening.map((l) => l.listener.close()));
    await scripts.close();
    deadlines.stop();
    throw e;
  }
  const listeners = listening.map((l) => l.entry);
  const main = listeners.find((l) => l.mode.kind === "regular" || l.mode.kind === "upstream") ??
    listeners[0];
  const address = main.address;
  const url = `http://${formatAuthority(address.host, address.port)}`;
  await addons.trigger("running");
  // Nothing a client sends may end the process, not even an error a runtime throws where no
  // caller can catch it: traced to a connection, that connection closes; otherwise one line.
  const removeGuard = installLastResort((line) => log.error(line));

  return {
    address,
    url,
    listeners,
    options,
    ca,
    addons,
    injector: injectors.get(main)!,
    get connectionCount() {
      return sessions.size;
    },
    async close() {
      if (closing) return;
      closing = true;
      const stopped = listening.map((l) => l.listener.close());
      for (const conn of sessions.keys()) conn.close();
      for (const l of layeredCores) l.closeAll();
      originPool.closeAll();
      await Promise.all([...stopped, ...sessions.values()]);
      originPool.closeAll();
      await Promise.all(observing);
      await scripts.close();
      await addons.trigger("done");
      deadlines.stop();
      removeGuard();
    },
  };
}

/**
 * max_connections: a connection over the limit is accepted and turned away at once, so the
 * client learns why instead of waiting in the listen queue. Logged once per burst: when the
 * first one is refused, and how many were when connections are accepted again.
 */
class Overflow {
  readonly #max: number;
  readonly #log: Logger;
  #refused = 0;

  constructor(max: number, log: Logger) {
    this.#max = max;
    this.#log = log;
  }

  /** Whether a new connection is refused with `open` client connections already open. */
  refuses(open: number): boolean {
    if (this.#max === 0 || open < this.#max) {
      if (this.#refused > 0) {
        this.#log.info(
          `accepting connections again; ${this.#refused} were refused over max_connections`,
        );
        this.#refused = 0;
      }
      return false;
    }
    if (this.#refused++ === 0) {
      this.#log.warn(
        `max_connections (${this.#max}) reached: refusing new client connections until some ` +
          `close`,
      );
    }
    return true;
  }

  /**
   * Regular and upstream clients speak HTTP first: they get a 503 that says why. In other modes
   * the client may expect SOCKS5 or TLS, where an HTTP answer would be noise: the connection is
   * just closed. The 503 is followed by a FIN and a short drain, so that the client reads it
   * rather than a reset for the request it may have sent meanwhile.
   */
  turnAway(conn: Conn, mode: ModeSpec): void {
    if (mode.kind !== "regular" && mode.kind !== "upstream") return conn.close();
    const text = `mitm.ts: too many connections (max_connections is ${this.#max}); try again ` +
      `later.`;
    const timer = setTimeout(() => conn.close(), OVERFLOW_LINGER_MS);
    const drain = async () => {
      try {
        await conn.write(textResponse(503, text, true));
        conn.closeWrite();
        while ((await conn.read()) !== null) { /* discard */ }
      } catch { /* gone */ }
      clearTimeout(timer);
      conn.close();
    };
    drain();
  }
}

/** How long a turned-away connection may keep sending before it is closed. */
const OVERFLOW_LINGER_MS = 1000;

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
  return { extraCa, keylog, handshakeFailuresLogged: new Set() };
}

/** The addons that options switch on: rewrites, server replay, recording and the HAR dump. */
function builtinAddons(options: Options): Addon[] {
  const out: Addon[] = rewriteAndReplayAddons(options);
  const bodyLimit = options.stream_large_bodies;
  if (options.record) {
    const filter = options.record_filter ? parseFilter(options.record_filter) : null;
    out.push(recorder(expandHome(options.record), { filter, bodyLimit }));
  }
  if (options.hardump) out.push(hardump(expandHome(options.hardump), { bodyLimit }));
  return out;
}

/**
 * Listens for one mode: transparent mode asks each connection where it was going (a connection
 * that was not redirected gets the regular proxy); the other modes' first layer does the rest.
 */
async function listenFor(
  mode: ModeSpec,
  network: Network,
  at: Address,
  serve: (conn: Conn, destination?: Address) => void,
  log: Logger,
): Promise<Listener> {
  try {
    if (mode.kind !== "transparent") return await network.listen(at, (conn) => serve(conn));
    return await listenTransparent(network, at, (conn, dst) => {
      if (!notRedirected(dst, conn.local)) return serve(conn, dst!);
      log.debug(
        `${conn.remote.host}:${conn.remote.port}: not redirected here; serving it as a regular ` +
          `proxy`,
      );
      serve(conn);
    }, (conn, e) => {
      log.info(`transparent mode: cannot read the original destination (${e}); closing`);
      conn.close();
    });
  } catch (e) {
    if (e instanceof NetError) throw new ListenError(at, e);
    // listenTransparent loads libc through FFI first.
    throw new ListenError(
      at,
      new NetError(
        "permission",
        `transparent mode cannot read original destinations (${(e as Error).message}); it ` +
          `needs Linux, and on Deno the --allow-ffi permission`,
      ),
    );
  }
}

/**
 * True when `destination` is where the connection really arrived: a client that connected to the
 * proxy's port itself, not a redirected one (which then gets the regular proxy).
 */
function notRedirected(destination: Address | null, local: Address): boolean {
  return destination === null ||
    (destination.port === local.port &&
      normalizeHost(destination.host) === normalizeHost(local.host));
}
