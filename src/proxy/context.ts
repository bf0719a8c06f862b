import type { HeadLimits } from "../http1/mod.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
import type { Address, Network } from "../runtime/types.ts";
import type { AddonManager } from "../addons/manager.ts";
import type { LeafCache, LoadedCa } from "../ca/mod.ts";
import type { OriginPool } from "./origin_pool.ts";
import type { Deadlines } from "./driver/deadlines.ts";
import type { ModeSpec } from "./modes/spec.ts";

/** The certificate authority in use and the leaves it has issued. */
export interface CaContext {
  readonly authority: LoadedCa["ca"];
  readonly files: LoadedCa;
  readonly leaves: LeafCache;
}

export interface TlsContext {
  /** PEM CA certificates trusted for origins, added to the runtime's default trust. */
  readonly extraCa: string[];
  /** Writes one NSS key-log line, when key logging is on. */
  readonly keylog: ((line: Uint8Array) => void) | null;
  /** "host\nreason" of the client handshake failures logged so far (each is logged once). */
  readonly handshakeFailuresLogged: Set<string>;
}

/** What every connection handler shares: settings, the network, the origin pool, the log. */
export interface ProxyContext {
  readonly options: Options;
  readonly network: Network;
  readonly pool: OriginPool;
  readonly log: Logger;
  /** Idle and head timeouts of client sessions, swept by one timer. */
  readonly deadlines: Deadlines;
  /** Head size and field count limits for requests and responses. */
  readonly limits: HeadLimits;
  /** The mode of the listener this connection came in on. */
  readonly mode: ModeSpec;
  /** The Proxy-Authorization value clients must send (proxyauth), or null when none is needed. */
  readonly proxyAuth: string | null;
  /** Where the proxy listens, to recognise requests addressed to the proxy itself. */
  readonly listen: Address;
  /** The proxy's own URL as clients should configure it (http://127.0.0.1:8080). */
  readonly proxyUrl: string;
  readonly ca: CaContext;
  readonly tls: TlsContext;
  /**
   * Whether a TLS connection to host:port with this SNI (null: none; undefined: not known yet,
   * then true unless host:port alone rules interception out) is intercepted.
   */
  readonly intercepts: (host: string, port: number, sni: string | null | undefined) => boolean;
  /** The addons and their hooks. */
  readonly addons: AddonManager;
  /**
   * Hands a finished flow to the flow_done observers without waiting for them (they never delay
   * traffic); close() waits for the ones still running.
   */
  readonly flowDone: (flow: import("../flow/flow.ts").Flow) => void;
}
