/** What every listener of the proxy shares about certificates: the CA, and TLS settings. */
import type { LeafCache, LoadedCa } from "../ca/mod.ts";

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
