/**
 * DriverServices from the runtime: its network, its TLS (src/runtime/tls.ts on both ends), the
 * CA's leaves for the tls_start_client hook, and the caller's hooks and log for the rest.
 */
import type { LeafCache } from "../../ca/leaf_cache.ts";
import { connectTls, startTlsServer } from "../../runtime/tls.ts";
import type { Network } from "../../runtime/types.ts";
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
  log(level: DriverLogLevel, message: string): void;
  tlsTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export function runtimeServices(o: RuntimeServicesOptions): DriverServices {
  const timeoutMs = o.tlsTimeoutMs ?? 10_000;
  const tls: DriverTls = {
    accept: (conn, received, identity, alpn) =>
      startTlsServer(conn, received, {
        identity: identity as { certPem: string; keyPem: string },
        alpn: [...alpn],
        timeoutMs,
      }),
    connect: (conn, options) =>
      connectTls({
        transport: conn,
        host: options.host,
        servername: options.sni,
        alpn: [...options.alpn],
        verify: o.verifyUpstream,
        extraCa: o.extraCa,
        timeoutMs,
      }),
  };
  return {
    network: o.network,
    tls,
    async hook(name, data) {
      if (name === "tls_start_client") {
        // The CA answers this one: the core only asks which certificate to present.
        const d = data as TlsStartClientData;
        if (o.leaves !== null) d.identity = await o.leaves.get([d.name]);
        return;
      }
      await o.hook(name, data);
    },
    log: o.log,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    closeFlushMs: 2000,
  };
}
