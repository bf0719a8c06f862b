/**
 * DriverServices from the runtime: its network, its TLS (RuntimeTls in src/runtime/types.ts, on
 * both ends), the CA's leaves for the tls_start_client hook, the WebSocket handshake check
 * (layers/http/websocket_upgrade.ts) and relay (websocket_relay.ts), and the caller's hooks and log
 * for the rest.
 */
import { AddonManager } from "../../addons/manager.ts";
import type { LeafCache } from "../../ca/leaf_cache.ts";
import { isIpAddress } from "../../ca/authority.ts";
import { type Logger, silentLogger } from "../../log.ts";
import { driveWebSocket } from "./websocket_relay.ts";
import { acceptWebSocket } from "../layers/http/websocket_upgrade.ts";
import type { WebSocketHandshakeData, WebSocketRelayData } from "../layers/http/websocket.ts";
import {
  type Conn,
  connectTls,
  type Network,
  type ServerIdentity,
  startTlsServer,
} from "../../runtime/mod.ts";
import type { TlsStartClientData } from "../layers/tls.ts";
import type { DriverLogLevel, DriverServices, DriverTls } from "./services.ts";

export interface RuntimeServicesOptions {
  network: Network;
  /** Leaves for intercepted TLS; null: no CA, TLS with clients is refused. */
  leaves: LeafCache | null;
  /** Check origin certificates (ssl_insecure off). */
  verifyUpstream: boolean;
  /** PEM CA certificates trusted for origins besides the built-in roots. */
  extraCa?: string[];
  hook(name: string, data: unknown): Promise<void> | void;
  /** For the WebSocket relay's websocket_message / websocket_end hooks. */
  addons?: AddonManager;
  logger?: Logger;
  log(level: DriverLogLevel, message: string): void;
  tlsTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** NSS key-log lines of every TLS session, with clients and with origins (keylog_file). */
  keylog?: ((line: Uint8Array) => void) | null;
}

const EMPTY = new Uint8Array(0);

export function runtimeServices(o: RuntimeServicesOptions): DriverServices {
  const logger = o.logger ?? silentLogger;
  const timeoutMs = o.tlsTimeoutMs ?? 10_000;
  const tls: DriverTls = {
    accept: (conn, received, identity, alpn, firstRead) =>
      startTlsServer(conn, received, {
        identity: identity as ServerIdentity,
        alpn: [...alpn],
        timeoutMs,
        onKeylog: o.keylog ?? undefined,
        firstRead,
      }),
    connect: async (conn, options) => {
      const tls = await connectTls({
        transport: conn,
        host: options.host,
        servername: options.sni,
        alpn: [...options.alpn],
        verify: o.verifyUpstream,
        extraCa: o.extraCa,
        timeoutMs,
        onKeylog: o.keylog ?? undefined,
        firstRead: options.firstRead,
      });
      const cert = tls.certificate;
      const peerNames = cert
        ? [...cert.altNames, ...(cert.commonName ? [cert.commonName] : [])]
        : [];
      return {
        conn: tls.conn,
        alpn: tls.alpn,
        version: tls.version,
        peerNames,
        cipher: tls.cipher,
        certificates: tls.chain,
      };
    },
  };
  // The CA answers this one: the core only asks which certificate to present.
  // A leaf issued before is answered at once: no promise, and the handshake goes on in the
  // same turn (most handshakes are for names seen before).
  const startClient = (d: TlsStartClientData): Promise<void> | void => {
    if (o.leaves === null) return;
    const names = leafNames(d);
    const keyType = d.ecdsa ? "ecdsa" : "rsa";
    const leaf = o.leaves.cached(names, keyType);
    if (leaf !== undefined) d.identity = leaf;
    else {
      return o.leaves.get(names, keyType).then((issued) => {
        d.identity = issued;
      });
    }
  };
  // Checking Sec-WebSocket-Accept needs (async) SHA-1: the core asks, this answers.
  const handshake = async (d: WebSocketHandshakeData) => {
    const accepted = await acceptWebSocket(d.flow, d.offer, logger);
    d.deflate = accepted?.deflate ?? null;
  };
  return {
    network: o.network,
    tls,
    hook(name, data) {
      if (name === "tls_start_client") return startClient(data as TlsStartClientData);
      if (name === "websocket_handshake") return handshake(data as WebSocketHandshakeData);
      // Not wrapped in a promise: a hook no addon implements is answered at once.
      return o.hook(name, data);
    },
    log: o.log,
    relayWebSocket: async (client, server, pending, data, inFlight) => {
      const { flow, deflate } = data as WebSocketRelayData;
      try {
        await driveWebSocket({
          flow,
          client: { conn: client, read: reader(client, inFlight.a), leftover: pending.a ?? EMPTY },
          server: { conn: server, read: reader(server, inFlight.b), leftover: pending.b ?? EMPTY },
          deflate,
          addons: o.addons ?? new AddonManager(logger),
          log: logger,
        });
        return null;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    },
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    closeFlushMs: 2000,
  };
}

/** Reads `conn`, starting with the result of a read already in flight. */
function reader(conn: Conn, first: Promise<Uint8Array | null> | null) {
  return (): Promise<Uint8Array | null> => {
    const read = first ?? conn.read();
    first = null;
    return read;
  };
}

/**
 * The names for a leaf: the one asked for, then the origin's own (upstream certificate
 * sniffing) when they are plain host names or IP addresses.
 */
function leafNames(d: TlsStartClientData): string[] {
  const names = [d.name];
  for (const n of d.upstreamNames ?? []) {
    if (n && !names.includes(n) && (isIpAddress(n) || /^[\w*.-]+$/.test(n))) names.push(n);
  }
  return names;
}
