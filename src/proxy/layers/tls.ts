/**
 * TLS with the client: the proxy as the TLS server, presenting a leaf for the name the client
 * asked for. The ClientHello was peeked by the next-layer decision and is handed over with its
 * bytes. Order (after mitmproxy's tls layer):
 *   1. server first, when the origin must be known before answering the client (eager
 *      connection strategy): dial it and shake hands with the client's SNI and ALPN offers, so
 *      the ALPN the origin picked is the one offered to the client. An origin that speaks none
 *      of them (alert no_application_protocol: an h2-only origin, an HTTP/1.1 client) is dialled
 *      again offering h2 too; the HTTP layer translates;
 *   2. the tls_start_client hook chooses the leaf (the CA lives outside the core);
 *   3. StartTls on the client connection; a refusal (a client that does not trust our CA) is
 *      reported through the tls_failed_client hook and closes the connection.
 * Then the child layer (HTTP over TLS) gets the connection.
 */
import { acceptsEcdsa, type ClientHello } from "../../tls/client_hello.ts";
import { Flow, FlowRequest } from "../../flow/flow.ts";
import { HeaderList } from "../../http/headers.ts";
import { CallHook, CloseConnection, Log, OpenConnection, StartTls } from "../core/commands.ts";
import { formatEndpoint, Server, sniFor, tlsState } from "../core/connection.ts";
import type { Context } from "../core/context.ts";
import { type Event, Start } from "../core/events.ts";
import { type CommandGenerator, Layer } from "../core/layer.ts";

/** The protocols the layers behind TLS speak, in preference order. */
export const SUPPORTED_ALPN: readonly string[] = ["h2", "http/1.1"];

/** The protocols to accept with the option `http2` (false: HTTP/1.1 only). */
export function supportedAlpn(http2: boolean): readonly string[] {
  return http2 ? SUPPORTED_ALPN : ["http/1.1"];
}

/**
 * What the tls_clienthello hook gets (the same shape as the addon API's TlsClientHelloData):
 * set `ignoreConnection` to pass the connection through untouched.
 */
export interface ClientHelloData {
  client: { id: string; address: string; port: number; timestampStart: number };
  host: string;
  port: number;
  sni: string | null;
  alpn: string[];
  versions: number[];
  ignoreConnection: boolean;
}

/** What the tls_start_client hook gets and fills in. */
export interface TlsStartClientData {
  clientId: string;
  /** The name to issue the leaf for: SNI, else the server's host. */
  name: string;
  sni: string | null;
  alpnOffers: string[];
  /** The origin's certificate names, when its handshake came first (upstream_cert). */
  upstreamNames?: string[];
  /** The client accepts an ECDSA certificate (else it needs RSA). */
  ecdsa?: boolean;
  /** Set by the hook: the certificate and key to present (opaque to the core). */
  identity: unknown;
}

/** What the tls_failed_client / tls_failed_server hooks get. */
export interface TlsFailedData {
  clientId: string;
  /** host:port of the origin the client wanted. */
  server: string;
  sni: string | null;
  error: string;
  /** The client's ClientHello, to say why a handshake failed (what the client offered). */
  hello: ClientHello;
}

/**
 * What the origin is offered first when its handshake comes before the client's: the client's
 * protocols in the client's order, so that a dual-stack origin speaks the client's own (an
 * HTTP/1.1 WebSocket to it stays HTTP/1.1). A client that sent no ALPN speaks HTTP/1.1 (it is
 * intercepted as HTTP): the origin is offered that, so that an h2-only one says it does not
 * speak it (rather than accepting no ALPN and refusing HTTP/1.1 after the handshake).
 */
export function firstOriginOffers(
  clientAlpn: readonly string[],
  supported: readonly string[],
): string[] {
  if (clientAlpn.length === 0) return ["http/1.1"];
  return clientAlpn.filter((p) => supported.includes(p));
}

/**
 * The ALPN protocols to offer an origin on the next attempt, or null for none. Only when its
 * handshake failed for want of a common protocol (the alert no_application_protocol, as
 * src/runtime reports it): first the protocols the proxy translates from that the offer lacked
 * (h2 for an HTTP/1.1 client); then, for a client that sent no ALPN, none, as the client did.
 */
export function retryOffers(
  error: string,
  offered: readonly string[],
  supported: readonly string[],
  clientSentAlpn: boolean,
): string[] | null {
  if (!error.includes("no_application_protocol") || offered.length === 0) return null;
  const more = supported.filter((p) => !offered.includes(p));
  if (more.length > 0) return [...offered, ...more];
  return clientSentAlpn ? null : [];
}

export type ChildFactory = (context: Context) => Layer;

export type ClientTlsState =
  | "start"
  | "serverHandshake"
  | "clientHandshake"
  | "established"
  | "failed";

export class ClientTlsLayer extends Layer {
  state: ClientTlsState = "start";
  readonly hello: ClientHello;
  readonly #received: Uint8Array;
  readonly #makeChild: ChildFactory;
  child: Layer | null = null;

  constructor(context: Context, hello: ClientHello, received: Uint8Array, child: ChildFactory) {
    super(context);
    this.hello = hello;
    this.#received = received;
    this.#makeChild = child;
  }

  override toString(): string {
    return `ClientTlsLayer(${this.state})`;
  }

  protected *run(event: Event): CommandGenerator {
    if (this.child !== null) {
      yield this.child.handleEvent(event);
      return;
    }
    if (!(event instanceof Start) || this.state !== "start") return;
    const client = this.context.client;
    let server = this.context.server;
    const hello = this.hello;
    client.tls = tlsState(hello.sni, hello.alpn.slice());
    const where = server ? formatEndpoint(server.address) : "?";
    const supported = supportedAlpn(this.context.options.http2);
    let offer = supported.filter((p) => hello.alpn.includes(p));

    // The proxy's own site (mitm.it) has no origin to ask first.
    const eager = this.context.options.connectionStrategy === "eager" &&
      server?.address.host !== this.context.options.onboarding?.host;
    if (server !== null && server.tls === null && (server.open || eager)) {
      // Server first: the origin is (or is to be) connected already (SOCKS5 dials before it
      // replies), so its handshake goes first and its ALPN choice is what the client is offered.
      this.state = "serverHandshake";
      // The client's protocols go to the origin in the client's order; never an IP address as SNI.
      let offered = firstOriginOffers(hello.alpn, supported);
      server.tls = tlsState(sniFor(hello.sni ?? server.address.host), offered);
      // A connection from the shared pool comes with its handshake done.
      let error = (server.open ? null : (yield new OpenConnection(server)) as string | null) ??
        (server.tls.established ? null : (yield new StartTls(server)) as string | null);
      const tried = [offered];
      for (;;) {
        const again = error === null
          ? null
          : retryOffers(error, offered, supported, hello.alpn.length > 0);
        if (again === null) break;
        // The origin speaks none of the protocols offered (an h2-only origin, an HTTP/1.1
        // client): dial it again offering what the HTTP layer translates from.
        yield new Log(
          `${where}: the origin speaks none of ${offered.join(", ")}; dialling again offering ${
            again.length > 0 ? again.join(", ") : "no ALPN"
          }`,
          "info",
        );
        if (server.open) yield new CloseConnection(server);
        server = this.#redial(server, again);
        offered = again;
        tried.push(again);
        error = ((yield new OpenConnection(server)) as string | null) ??
          ((yield new StartTls(server)) as string | null);
      }
      if (error !== null && tried.length > 1) {
        const offers = tried.map((o) => o.length > 0 ? o.join(", ") : "no ALPN").join(" | ");
        error = `${error} (ALPN offers tried: ${offers})`;
      }
      if (error !== null) {
        // The client still gets its handshake, so that its requests are answered 502 saying
        // why (each dials the origin again and fails the same way).
        yield new Log(`TLS with the origin for ${where} failed: ${error}`, "info");
        yield new CallHook<TlsFailedData>("tls_failed_server", {
          clientId: client.id,
          server: where,
          sni: hello.sni,
          error,
          hello,
        });
        if (server.open) yield new CloseConnection(server);
      } else {
        // The origin chose: offer the client that first (no translation), then the rest the
        // connection layers translate between; no ALPN if the origin chose none (or the client
        // sent none).
        const chosen = server.tls?.alpn ?? null;
        offer = chosen !== null && hello.alpn.length > 0
          ? [chosen, ...offer.filter((p) => p !== chosen)]
          : [];
      }
    }

    this.state = "clientHandshake";
    const data = (yield new CallHook<TlsStartClientData>("tls_start_client", {
      clientId: client.id,
      name: hello.sni ?? server?.address.host ?? "localhost",
      sni: hello.sni,
      alpnOffers: hello.alpn.slice(),
      upstreamNames: server?.tls?.peerNames ?? [],
      ecdsa: acceptsEcdsa(hello),
      identity: null,
    })) as TlsStartClientData;
    if (data.identity === null || data.identity === undefined) {
      yield* this.#fail("tls_failed_client", where, "no certificate to present (no CA loaded)");
      return;
    }
    const error = (yield new StartTls(client, data.identity, offer, this.#received)) as
      | string
      | null;
    if (error !== null) {
      yield* this.#fail("tls_failed_client", where, error);
      return;
    }
    this.state = "established";
    this.child = this.#makeChild(this.context);
    this.passThrough(this.child);
    yield this.child.handleEvent(new Start());
  }

  /**
   * A fresh connection to the same origin (by the same way: an upstream proxy's tunnel too),
   * offering `alpn`; it becomes the server of this tunnel, which the HTTP layer then adopts.
   */
  #redial(old: Server, alpn: string[]): Server {
    const server = new Server(old.address, old.via);
    server.tunnel = old.tunnel;
    server.viaAuth = old.viaAuth;
    server.tls = tlsState(old.tls?.sni ?? null, alpn);
    this.context.server = server;
    return server;
  }

  *#fail(hook: string, where: string, error: string): CommandGenerator {
    this.state = "failed";
    const client = this.context.client;
    const side = hook === "tls_failed_client" ? "client" : "origin";
    // The client's failures are explained once per host and cause by whoever handles the hook.
    yield new Log(
      `TLS with the ${side} for ${where} failed: ${error}`,
      side === "client" ? "debug" : "info",
    );
    yield new CallHook<TlsFailedData>(hook, {
      clientId: client.id,
      server: where,
      sni: this.hello.sni,
      error,
      hello: this.hello,
    });
    // The failure is a flow too (the CONNECT it happened in, carrying the error), so that the
    // live output, recordings and the API show it, as mitmproxy does.
    const flow = this.#failedFlow(side, error);
    if (flow !== null) yield new CallHook("error", flow);
    if (this.context.server?.open) yield new CloseConnection(this.context.server);
    yield new CloseConnection(client);
    if (flow !== null) yield new CallHook("flow_done", flow, true);
  }

  #failedFlow(side: "client" | "origin", error: string): Flow | null {
    const server = this.context.server;
    if (server === null) return null;
    const client = this.context.client;
    const now = this.context.options.now();
    const name = this.hello.sni ?? server.address.host;
    const request = new FlowRequest({
      method: "CONNECT",
      scheme: "https",
      host: server.address.host,
      port: server.address.port,
      path: "",
      httpVersion: "HTTP/1.1",
      headers: new HeaderList(),
      timestampStart: client.timestampStart ?? now,
    });
    const peer = { address: client.peer.host, port: client.peer.port, tls: null };
    const flow = new Flow(peer, request);
    const message = side === "client"
      ? `client TLS handshake failed: the client does not trust the proxy's certificate for ${name} (${error})`
      : `TLS handshake with the origin ${formatEndpoint(server.address)} failed: ${error}`;
    flow.error = { message, timestamp: now };
    return flow;
  }
}
