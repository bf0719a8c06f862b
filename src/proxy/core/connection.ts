/**
 * The connections a layer stack talks about. A layer never holds a socket: it names a
 * Connection, and the driver maps it to the real thing. The objects carry what the layers have
 * learned (address, state, TLS, ALPN) so that layers further down the stack can read it.
 */

import type { CertificateInfo } from "../../flow/flow.ts";

/** Where a connection goes or comes from. */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Bits of a connection's state: a half-closed connection can still read or still write.
 * Open = CanRead | CanWrite.
 */
export const ConnState = {
  Closed: 0,
  CanRead: 1,
  CanWrite: 2,
  Open: 3,
} as const;
export type ConnState = number;

/** What TLS taught us about a connection (both sides of a handshake fill it in). */
export interface TlsState {
  /** Server name: sent by the client (SNI) or the one we send to the origin. */
  sni: string | null;
  /** ALPN protocols offered: by the client in its ClientHello, or by us to the origin. */
  alpnOffers: string[];
  /** The protocol both ends agreed on, or null (no ALPN). Set once the handshake is done. */
  alpn: string | null;
  /** "TLSv1.3" and the like, once established. */
  version: string | null;
  /** True once the handshake finished. */
  established: boolean;
  /**
   * Towards a Server, once established: the names its certificate is for (subject CN and
   * subjectAltName), so a leaf for the client can carry them (upstream_cert).
   */
  peerNames?: string[];
  /** Towards a Server, once established: the cipher suite and the certificate chain, leaf first. */
  cipher?: string | null;
  certificates?: CertificateInfo[];
}

let nextId = 0;

/** A connection id unique in this process ("c1", "s2"): stable names for logs and tests. */
function newId(prefix: string): string {
  nextId++;
  return `${prefix}${nextId}`;
}

export abstract class Connection {
  readonly id: string;
  state: ConnState = ConnState.Closed;
  /** Set while TLS is in use (offered or established) on this connection. */
  tls: TlsState | null = null;
  /** Why the connection failed (one line), once it did. */
  error: string | null = null;
  timestampStart: number | null = null;
  timestampEnd: number | null = null;

  constructor(id: string) {
    this.id = id;
  }

  get open(): boolean {
    return this.state !== ConnState.Closed;
  }

  /** The protocol to speak over this connection: the ALPN choice, else HTTP/1.1. */
  get alpn(): string | null {
    return this.tls?.alpn ?? null;
  }

  abstract get label(): string;

  toString(): string {
    return this.label;
  }
}

/** The connection a client opened to the proxy (accepted by a listener). */
export class Client extends Connection {
  readonly peer: Endpoint;
  readonly local: Endpoint;

  constructor(peer: Endpoint, local: Endpoint, id = newId("c")) {
    super(id);
    this.peer = peer;
    this.local = local;
    this.state = ConnState.Open;
  }

  get label(): string {
    return `client ${this.id} (${formatEndpoint(this.peer)})`;
  }
}

/**
 * The client of a tunnel carried inside one stream of another client connection (a CONNECT on an
 * HTTP/2 stream, RFC 9113 section 8.5): the layers inside the tunnel treat it as any client
 * connection; the driver backs it with one end of an in-memory pipe (`OpenPipe`) whose other end
 * (`PipeEnd`) the HTTP layer reads and writes as the stream's body.
 */
export class CarriedClient extends Client {
  readonly carrier: Client;
  readonly streamId: number;

  constructor(carrier: Client, streamId: number) {
    super(carrier.peer, carrier.local);
    this.carrier = carrier;
    this.streamId = streamId;
  }

  override get label(): string {
    return `client ${this.id} (stream ${this.streamId} of ${this.carrier.id}, ${
      formatEndpoint(this.peer)
    })`;
  }
}

/** The proxy's end of the pipe behind a CarriedClient: its bytes are the stream's body. */
export class PipeEnd extends Connection {
  readonly carried: CarriedClient;

  constructor(carried: CarriedClient) {
    super(newId("p"));
    this.carried = carried;
    this.state = ConnState.Open;
  }

  get label(): string {
    return `pipe ${this.id} (stream ${this.carried.streamId} of ${this.carried.carrier.id})`;
  }
}

/** A connection the proxy opens: to an origin, or to the upstream proxy in `via`. */
export class Server extends Connection {
  address: Endpoint;
  /** The upstream proxy this connection goes through, if any. */
  via: Endpoint | null;
  /**
   * With `via`: open a CONNECT tunnel through it to `address` (for TLS and raw tunnels), rather
   * than talking HTTP to the upstream proxy itself (absolute-form requests).
   */
  tunnel = false;
  /** Proxy-Authorization for the upstream proxy, or null. */
  viaAuth: string | null = null;
  /**
   * The driver gave this server a connection another exchange left idle (the shared origin
   * pool): it is open, with its TLS established, and has no connect or handshake times.
   */
  reused = false;
  /**
   * DNS lookup, TCP connect and TLS handshake times (ms since the epoch), for HAR timings. No
   * lookup (an IP address): the DNS times stay null.
   */
  timestampDnsStart: number | null = null;
  timestampDnsEnd: number | null = null;
  timestampTcpStart: number | null = null;
  timestampTcpEnd: number | null = null;
  timestampTlsStart: number | null = null;
  timestampTlsEnd: number | null = null;

  constructor(address: Endpoint, via: Endpoint | null = null, id = newId("s")) {
    super(id);
    this.address = address;
    this.via = via;
  }

  get label(): string {
    return `server ${this.id} (${formatEndpoint(this.address)})`;
  }
}

/** host:port, bracketing IPv6. */
export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** A fresh TlsState with nothing negotiated yet. */
export function tlsState(sni: string | null, alpnOffers: string[] = []): TlsState {
  return { sni, alpnOffers, alpn: null, version: null, established: false };
}

/**
 * The SNI to send for a host: none for an IP address (RFC 6066 section 3: "Literal IPv4 and
 * IPv6 addresses are not permitted in HostName").
 */
export function sniFor(host: string): string | null {
  return host.includes(":") || /^[0-9.]+$/.test(host) ? null : host;
}
