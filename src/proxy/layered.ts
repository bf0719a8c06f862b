/**
 * The proxy core (sans-IO layers, one driver per client connection) behind the proxy server's
 * listeners. It maps the proxy's options to LayerOptions, the layers' hooks to the AddonManager,
 * and the driver's timers to the shared deadline sweeper.
 *
 * Idle HTTP/1 origin connections go to one pool shared by every client connection of the proxy
 * (origin_pool_size per key, origin_idle_timeout), through the driver's services.
 */
import type { AddonManager } from "../addons/manager.ts";
import type { ClientInfo } from "../addons/types.ts";
import type { Flow } from "../flow/flow.ts";
import { formatAuthority } from "../http1/mod.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
import type { Address, Conn, Network } from "../runtime/types.ts";
import type { CaContext, TlsContext } from "./shared.ts";
import { Client, Server } from "./core/connection.ts";
import { Context, type LayerOptions } from "./core/context.ts";
import type { Layer } from "./core/layer.ts";
import { Driver } from "./driver/driver.ts";
import { runtimeServices } from "./driver/runtime_services.ts";
import type { DriverServices, DriverTimers } from "./driver/services.ts";
import { SharedOriginPool } from "./driver/origin_pool.ts";
import type { Deadlines, Expiring } from "./driver/deadlines.ts";
import type { TlsFailedData } from "./layers/tls.ts";
import type { ServerConnectedData } from "./layers/http/stream.ts";
import { describeHandshakeFailure } from "../tls/handshake_failure.ts";
import {
  RegularMode,
  ReverseMode,
  Socks5Mode,
  TransparentMode,
  UpstreamMode,
} from "./layers/modes.ts";
import { layeredInjector } from "./layered_inject.ts";
import type { ModeSpec } from "./modes/spec.ts";
import { MAGIC_HOST, mitmItAnswer } from "./mitm_it.ts";
import { basicAuthorization, parseCredentials } from "./layers/proxy_auth.ts";

export interface LayeredShared {
  options: Options;
  network: Network;
  log: Logger;
  ca: CaContext;
  tls: TlsContext;
  intercepts: (host: string, port: number, sni: string | null | undefined) => boolean;
  addons: AddonManager;
  deadlines: Deadlines;
  /** Idle origin connections shared by all client connections (layeredOriginPool). */
  originPool: SharedOriginPool;
  /** Runs flow_done without holding up traffic. */
  flowDone(flow: Flow): void;
}

/** Builds what every connection of one listener needs once; `serve` runs one connection. */
export function layeredListener(shared: LayeredShared, mode: ModeSpec, listen: Address) {
  const { options, addons, log } = shared;
  const services = layeredServices(shared);
  const auth = parseCredentials(options.proxyauth);
  const upstream = parseCredentials(options.upstream_auth);
  const base: Omit<LayerOptions, "holdRequestBodies" | "holdResponseBodies"> = {
    maxHeadBytes: options.max_head_bytes,
    maxHeaderCount: options.max_header_count,
    maxBodyBytes: options.body_size_limit || Infinity,
    streamLargeBodies: options.stream_large_bodies,
    // A reverse proxy's origin may be plain HTTP behind a TLS client: no origin handshake first.
    // Server replay's origins may be offline: nothing is dialled until a request needs it.
    connectionStrategy: options.upstream_cert && mode.kind !== "reverse" &&
        options.connection_strategy !== "lazy" && options.server_replay.length === 0
      ? "eager"
      : "lazy",
    // Reverse proxies serve anyone, like the web servers they stand in for.
    proxyAuth: auth && mode.kind !== "reverse" ? basicAuthorization(auth) : null,
    upstreamAuth: upstream ? basicAuthorization(upstream) : null,
    intercepts: (host, port, sni) => shared.intercepts(host, port, sni),
    idleTimeoutMs: options.idle_timeout * 1000,
    headerTimeoutMs: options.header_timeout * 1000,
    readTimeoutMs: options.read_timeout > 0 ? options.read_timeout * 1000 : Infinity,
    originIdleTimeoutMs: options.origin_idle_timeout * 1000,
    bodyTimeoutMs: options.body_timeout > 0 ? options.body_timeout * 1000 : Infinity,
    clientFirstWaitMs: CLIENT_FIRST_WAIT_MS,
    now: () => Date.now(),
    keepHostHeader: options.keep_host_header,
    onboarding: { host: MAGIC_HOST, answer: (path) => mitmItAnswer(shared.ca, path) },
    sharedOriginPool: true,
    keepIdleOrigins: options.origin_pool_size > 0,
    pooledTlsOrigin: (host, port) => shared.originPool.hasTls(host, port),
    http2: options.http2,
    // Addon hooks no addon implements are skipped by the layers (see layeredServices).
    hookListened: (name) => CORE_HOOKS.has(name) || addons.has(name as never),
    hookObserved: (name) => !CORE_HOOKS.has(name) && addons.observedOnly(name as never),
    self: {
      url: `http://${formatAuthority(listen.host, listen.port)}`,
      is: (host, port) => port === listen.port && (host === listen.host || SELF_HOSTS.has(host)),
    },
  };

  // Read per connection: addons (scripts) may come and go while the proxy runs. The object is
  // made again only when what it says changed (a copy of every option per connection was a
  // measurable part of a new connection's cost); layers never change it.
  let lastOptions: LayerOptions | null = null;
  const connectionOptions = (): LayerOptions => {
    const holdRequestBodies = addons.has("request");
    const holdResponseBodies = addons.has("response");
    const announceServers = addons.has("server_connected");
    if (
      lastOptions === null || lastOptions.holdRequestBodies !== holdRequestBodies ||
      lastOptions.holdResponseBodies !== holdResponseBodies ||
      lastOptions.announceServers !== announceServers
    ) {
      lastOptions = { ...base, holdRequestBodies, holdResponseBodies, announceServers };
    }
    return lastOptions;
  };
  const drivers = new Set<Driver>();
  let closing = false;
  /** Serves one client connection; `destination` is the transparent mode's original one. */
  async function serve(conn: Conn, destination?: Address): Promise<void> {
    const client = new Client(conn.remote, conn.local);
    const context = new Context(client, connectionOptions());
    const info: ClientInfo = {
      id: client.id,
      address: conn.remote.host,
      port: conn.remote.port,
      timestampStart: Date.now(),
    };
    if (addons.has("client_connected")) await addons.trigger("client_connected", info);
    try {
      let root: Layer;
      if (destination !== undefined) {
        context.server = new Server({ host: destination.host, port: destination.port });
        root = new TransparentMode(context);
      } else root = firstLayer(mode, context, auth);
      const driver = new Driver(root, client, conn, services);
      drivers.add(driver);
      try {
        await driver.run();
      } finally {
        drivers.delete(driver);
      }
    } catch (e) {
      log.error(`internal error on a client connection: ${(e as Error)?.stack ?? e}`);
      conn.close();
    } finally {
      if (addons.has("client_disconnected")) await addons.trigger("client_disconnected", info);
    }
  }
  /** Shutting down: every connection of every driver closes, origins and relays included. */
  const closeAll = () => {
    closing = true;
    for (const d of drivers) {
      d.abort();
      d.finish();
    }
  };
  const injector = layeredInjector({
    services,
    options: connectionOptions,
    mode,
    drivers,
    isClosing: () => closing,
  });
  return { serve, closeAll, injector };
}

/** Hooks the services answer (or log) themselves, whether or not an addon implements them. */
const CORE_HOOKS = new Set([
  "tls_start_client",
  "websocket_handshake",
  "tls_failed_client",
  "tls_failed_server",
]);

/** Names that reach this machine's listener whatever address it is bound to. */
const SELF_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "0.0.0.0", "::"]);

/** How long a tunnel waits for the client to speak before treating it as server-first TCP. */
const CLIENT_FIRST_WAIT_MS = 3000;

function firstLayer(
  mode: ModeSpec,
  context: Context,
  auth: { username: string; password: string } | null,
): Layer {
  switch (mode.kind) {
    case "regular":
      return new RegularMode(context);
    case "upstream":
      return new UpstreamMode(context, { host: mode.host, port: mode.port });
    case "reverse":
      return new ReverseMode(context, { scheme: mode.scheme, host: mode.host, port: mode.port });
    case "socks5":
      return new Socks5Mode(context, { credentials: auth });
    case "transparent":
      // A connection that was not redirected is served as a regular proxy (see server.ts).
      return new RegularMode(context);
  }
}

/**
 * The driver's services: the runtime's network and TLS, the CA's leaves, and the addons. The
 * core's own hooks are answered here (tls_start_client, websocket_handshake in runtimeServices)
 * or become log lines (a client's failed handshake is explained once per host and cause).
 */
function layeredServices(shared: LayeredShared): DriverServices {
  const { options, addons, log } = shared;
  const services = runtimeServices({
    network: shared.network,
    leaves: shared.ca.leaves,
    verifyUpstream: !options.ssl_insecure,
    extraCa: shared.tls.extraCa,
    keylog: shared.tls.keylog,
    addons,
    logger: log,
    tlsTimeoutMs: options.tls_handshake_timeout * 1000,
    connectTimeoutMs: options.connect_timeout * 1000,
    log: (level, message) => log[level](message),
    hook(name, data) {
      if (name === "flow_done") return shared.flowDone(data as Flow);
      if (name === "tls_failed_client") {
        logClientTlsFailure(shared, data as TlsFailedData);
        return;
      }
      if (name === "tls_failed_server") {
        const d = data as TlsFailedData;
        log.debug(`${name}: ${d.server}: ${d.error}`);
        return;
      }
      if (!addons.has(name as never)) return;
      const d = data as ServerConnectedData;
      const args = name === "server_connected" ? [d.server, d.flow] : [data];
      // Only read-only addons have it: told, not waited for (the layers went on already).
      if (addons.observedOnly(name as never)) {
        addons.notify(name as never, ...args);
        return;
      }
      return addons.trigger(name as never, ...args);
    },
  });
  services.timers = sweptTimers(shared.deadlines);
  services.originPool = shared.originPool;
  return services;
}

/** How many (host, cause) pairs of client handshake failures are remembered as logged. */
const MAX_FAILURES_REMEMBERED = 10_000;

/**
 * A client's failed handshake, explained (an ALPN or cipher mismatch, a client that does not
 * trust the CA), logged once per host and cause.
 */
function logClientTlsFailure(shared: LayeredShared, d: TlsFailedData): void {
  const host = d.sni ?? d.server.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  const failure = describeHandshakeFailure(host, "other", d.error, d.hello);
  const key = `${host}\n${failure.reason}`;
  const logged = shared.tls.handshakeFailuresLogged;
  if (logged.has(key)) return;
  if (logged.size >= MAX_FAILURES_REMEMBERED) logged.clear(); // bounded: a long run repeats
  logged.add(key);
  shared.log.info(failure.text);
}

/** The proxy's shared origin pool for this core, its idle timers on the shared sweeper. */
export function layeredOriginPool(options: Options, deadlines: Deadlines): SharedOriginPool {
  return new SharedOriginPool(
    options.origin_pool_size,
    options.origin_idle_timeout * 1000,
    sweptTimers(deadlines),
  );
}

/**
 * Timers on the shared sweeper: arming and disarming (around every keep-alive request) is a set
 * insertion, not a setTimeout/clearTimeout pair; a timer fires up to one sweep tick late.
 */
function sweptTimers(deadlines: Deadlines): DriverTimers {
  return {
    set: (ms, fire) => new SweptTimer(deadlines, Date.now() + Math.max(1, ms), fire),
    clear: (handle) => deadlines.unwatch(handle as SweptTimer),
  };
}

/** One armed timer on the sweeper (a class: no closure per timer). */
class SweptTimer implements Expiring {
  watchIndex = -1;
  constructor(
    readonly deadlines: Deadlines,
    public deadline: number,
    readonly fire: () => void,
  ) {
    deadlines.watch(this);
  }
  expire(): void {
    this.deadlines.unwatch(this);
    this.fire();
  }
}
