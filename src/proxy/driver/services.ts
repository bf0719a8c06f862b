/**
 * What the driver needs from outside the core: the network, TLS on both ends, the hooks, the
 * log. The driver takes them as one object, so tests can run it over the in-memory network and
 * the proxy server hands it the runtime's.
 */
import type { Conn, Network } from "../../runtime/types.ts";
import type { SharedOriginPool } from "./origin_pool.ts";
import type { CertificateInfo } from "../../flow/flow.ts";

export interface TlsOutcome {
  conn: Conn;
  alpn: string | null;
  version: string | null;
  /** The peer's certificate names (CN and subjectAltName) when it presented one. */
  peerNames?: string[];
  /** Client side (towards an origin): the cipher suite and the certificate chain, leaf first. */
  cipher?: string | null;
  certificates?: CertificateInfo[];
}

export interface DriverTls {
  /**
   * The server side of a handshake with a client: present `identity` (what the tls_start_client
   * hook chose), choose from `alpn`; `received` are the handshake bytes already read.
   */
  accept(
    conn: Conn,
    received: Uint8Array,
    identity: unknown,
    alpn: readonly string[],
    /** A read of `conn` already started: its bytes are the handshake's. */
    firstRead?: Promise<Uint8Array | null> | null,
  ): Promise<TlsOutcome>;
  /** The client side of a handshake with an origin. */
  connect(
    conn: Conn,
    options: {
      host: string;
      sni: string | null;
      alpn: readonly string[];
      firstRead?: Promise<Uint8Array | null> | null;
    },
  ): Promise<TlsOutcome>;
}

export type DriverLogLevel = "debug" | "info" | "warn" | "error";

/**
 * Where the driver's timers run. The default is one setTimeout per Arm; a proxy with many
 * keep-alive connections can pass a coarse shared clock instead (an idle timer is armed and
 * disarmed around every request): the proxy passes deadlines.ts's sweeper.
 */
export interface DriverTimers {
  set(ms: number, fire: () => void): unknown;
  clear(handle: unknown): void;
}

export const DEFAULT_TIMERS: DriverTimers = {
  set: (ms, fire) => setTimeout(fire, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface DriverServices {
  network: Network;
  tls: DriverTls | null;
  /**
   * Runs hook `name` with `data` (addons in order; one addon's exception is logged, not
   * fatal). Observers such as flow_done may return at once and run in the background.
   */
  hook(name: string, data: unknown): Promise<void> | void;
  log(level: DriverLogLevel, message: string): void;
  /**
   * Relays an intercepted WebSocket between `client` and `server` (positioned just past the
   * handshake; `pending` are the bytes each side already sent) until both are done; resolves
   * with the error that ended it, or null. Without it, "websocket" splices fail.
   */
  relayWebSocket?(
    client: Conn,
    server: Conn,
    pending: { a: Uint8Array | null; b: Uint8Array | null },
    data: unknown,
    /** Reads the driver had already started on either side: their results come first. */
    inFlight: { a: Promise<Uint8Array | null> | null; b: Promise<Uint8Array | null> | null },
  ): Promise<string | null>;
  /**
   * Idle origin connections shared by every driver of the proxy: OpenConnection takes one when
   * its key matches, ParkConnection puts one back. Without it, parked connections are closed.
   */
  originPool?: SharedOriginPool;
  /** Timers for Arm; DEFAULT_TIMERS when absent. */
  timers?: DriverTimers;
  /** Give up on a dial after this long. */
  connectTimeoutMs: number;
  /** How long a closing connection may take to flush what is queued. */
  closeFlushMs: number;
}
