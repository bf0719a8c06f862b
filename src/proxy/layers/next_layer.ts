/**
 * The next-layer decision: what is this byte stream? Used after CONNECT, SOCKS5 and in
 * transparent mode, where the proxy knows the destination but not the protocol. It peeks at the
 * client's first bytes (nothing is consumed: they are handed to the chosen layer):
 *   - a TLS ClientHello: intercept (ClientTlsLayer, then HTTP) or pass through untouched, as
 *     the ignore/allow settings and the tls_clienthello hook decide;
 *   - an HTTP request line: the HTTP layer;
 *   - anything else, or a client that waits for the server to speak first: TCP passthrough.
 */
import { looksLikeTls, parseClientHello } from "../../tls/client_hello.ts";
import { Arm, CallHook, CloseConnection, type Command, Disarm, Log } from "../core/commands.ts";
import { formatEndpoint } from "../core/connection.ts";
import type { Context } from "../core/context.ts";
import { ConnectionClosed, DataReceived, type Event, Start, Wakeup } from "../core/events.ts";
import { type CommandGenerator, Layer } from "../core/layer.ts";
import { HttpLayer } from "./http/layer.ts";
import type { HttpMode } from "./http/mode.ts";
import { startsWithPreface } from "./http/prior_knowledge.ts";
import { TcpLayer } from "./tcp.ts";
import { type ClientHelloData, ClientTlsLayer } from "./tls.ts";

export type Decision = "undecided" | "tls" | "tls-passthrough" | "http" | "tcp" | "closed";

export class NextLayer extends Layer {
  decision: Decision = "undecided";
  child: Layer | null = null;
  readonly mode: HttpMode;
  #buffer: Uint8Array[] = [];
  #size = 0;
  #timer: Arm | null = null;

  /** `early` holds bytes of the stream a previous layer already read (after a CONNECT head). */
  constructor(context: Context, mode: HttpMode, early: Uint8Array | null = null) {
    super(context);
    this.mode = mode;
    if (early !== null && early.length > 0) this.#push(early);
  }

  override toString(): string {
    return `NextLayer(${this.decision})`;
  }

  protected *run(event: Event): CommandGenerator {
    if (this.child !== null) {
      yield this.child.handleEvent(event);
      return;
    }
    const client = this.context.client;
    if (event instanceof Start) {
      if (this.#size > 0) {
        yield* this.#decide(false);
        return;
      }
      // Some protocols (SMTP, SSH) wait for the server's greeting: do not wait forever.
      this.#timer = new Arm(this.context.options.clientFirstWaitMs);
      yield this.#timer;
    } else if (event instanceof DataReceived && event.conn === client) {
      this.#push(event.data);
      if (this.#serverEarly.length > 0) {
        const h2c = this.context.options.http2 ? startsWithPreface(this.#bytes()) : "no";
        if (h2c === "maybe") return;
        if (h2c === "yes") {
          // An HTTP/2 origin sends its SETTINGS as soon as it is connected (RFC 9113 section
          // 3.4), before an h2c client's preface reached it: they are the HTTP layer's.
          yield* this.#decide(false);
          const early = this.#serverEarly;
          this.#serverEarly = [];
          this.#serverEarlySize = 0;
          const server = this.context.server;
          const child = this.child as Layer | null; // #decide made it
          if (child !== null && server !== null) {
            for (const chunk of early) {
              yield child.handleEvent(new DataReceived(server, chunk));
            }
          }
          return;
        }
        // The origin spoke first: whatever the client says now, this is not HTTP or TLS.
        yield this.#start("tcp", this.#relayServerFirst(this.#bytes()), false);
        return;
      }
      yield* this.#decide(false);
    } else if (event instanceof ConnectionClosed && event.conn === client) {
      if (this.#size === 0) {
        const out: Command[] = [];
        this.#disarm(out);
        this.decision = "closed";
        out.push(new CloseConnection(client));
        yield out;
        return;
      }
      yield* this.#decide(true);
    } else if (event instanceof DataReceived && event.conn === this.context.server) {
      // The origin, dialled before the tunnel opened, speaks first (SMTP, SSH greet): its
      // greeting is kept for the raw relay that starts when the client's wait is over (or at
      // once, should it grow large).
      this.#serverEarly.push(event.data.slice());
      this.#serverEarlySize += event.data.length;
      if (this.#serverEarlySize > SERVER_EARLY_MAX) {
        yield this.#start(
          "tcp",
          this.#relayServerFirst(this.#size > 0 ? this.#bytes() : null),
          false,
        );
      }
    } else if (event instanceof Wakeup && event.command === this.#timer) {
      this.#timer = null;
      if (this.#size === 0) yield this.#start("tcp", this.#relayServerFirst(null), false);
    }
  }

  /** Bytes an origin sent before the client spoke, kept for the relay. */
  #serverEarly: Uint8Array[] = [];
  #serverEarlySize = 0;

  /** A raw relay with what each side sent so far. */
  #relayServerFirst(clientBytes: Uint8Array | null): TcpLayer {
    const parts = this.#serverEarly;
    this.#serverEarly = [];
    this.#serverEarlySize = 0;
    let server: Uint8Array | null = null;
    if (parts.length === 1) server = parts[0];
    else if (parts.length > 1) {
      server = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        server.set(p, o);
        o += p.length;
      }
    }
    if (clientBytes !== null) {
      this.#buffer = [];
      this.#size = 0;
    }
    return new TcpLayer(this.context, clientBytes, server);
  }

  #push(chunk: Uint8Array): void {
    this.#buffer.push(chunk);
    this.#size += chunk.length;
  }

  #bytes(): Uint8Array {
    if (this.#buffer.length !== 1) {
      const out = new Uint8Array(this.#size);
      let o = 0;
      for (const c of this.#buffer) {
        out.set(c, o);
        o += c.length;
      }
      this.#buffer = [out];
    }
    return this.#buffer[0];
  }

  /** Decides if the bytes so far suffice; `eof`: no more will come, decide now. */
  *#decide(eof: boolean): CommandGenerator {
    const bytes = this.#bytes();
    const server = this.context.server;
    if (looksLikeTls(bytes)) {
      const r = parseClientHello(bytes);
      if (r.kind === "need-more" && !eof) return;
      if (r.kind !== "hello") {
        const why = r.kind === "invalid" ? r.reason : "incomplete ClientHello";
        yield new Log(`${client(this)}: ${why}; passing the connection through`, "info");
        yield this.#start("tcp", new TcpLayer(this.context, bytes), false);
        return;
      }
      const hello = r.hello;
      const host = server?.address.host ?? hello.sni ?? "";
      const port = server?.address.port ?? 443;
      const c = this.context.client;
      const data = (yield new CallHook<ClientHelloData>("tls_clienthello", {
        client: {
          id: c.id,
          address: c.peer.host,
          port: c.peer.port,
          timestampStart: c.timestampStart ?? 0,
        },
        host,
        port,
        sni: hello.sni,
        alpn: hello.alpn.slice(),
        versions: hello.versions.slice(),
        ignoreConnection: !this.context.options.intercepts(host, port, hello.sni),
      })) as ClientHelloData;
      if (data.ignoreConnection || server === null) {
        yield this.#start("tls-passthrough", new TcpLayer(this.context, bytes), false);
        return;
      }
      const mode = this.mode;
      const tls = new ClientTlsLayer(
        this.context,
        hello,
        bytes,
        (ctx) =>
          new HttpLayer(ctx, tunnelMode(mode), "https", (inner) => new NextLayer(inner, mode)),
      );
      yield this.#start("tls", tls, false);
      return;
    }
    const h2c = this.context.options.http2 ? startsWithPreface(bytes) : "no";
    if (h2c === "maybe" && !eof) return;
    if (h2c === "yes" || looksLikeHttp(bytes)) {
      if (
        server !== null &&
        !this.context.options.intercepts(server.address.host, server.address.port, null)
      ) {
        // allow_hosts / ignore_hosts leave this destination alone: plain HTTP is relayed
        // untouched, as a ClientHello to it would be.
        yield this.#start("tcp", new TcpLayer(this.context, bytes), false);
        return;
      }
      const mode = this.mode;
      const http = new HttpLayer(
        this.context,
        tunnelMode(mode),
        "http",
        (inner) => new NextLayer(inner, mode),
        h2c === "yes",
      );
      yield this.#start("http", http, true);
      return;
    }
    if (bytes.length < 8 && !eof && couldBeHttp(bytes)) return;
    yield this.#start("tcp", new TcpLayer(this.context, bytes), false);
  }

  /**
   * Hands over: the child starts, and gets the peeked bytes if it reads them as events. Returns
   * the commands (the child's pauses are its own).
   */
  #start(decision: Decision, child: Layer, replay: boolean): Command[] {
    const out: Command[] = [];
    this.#disarm(out);
    this.decision = decision;
    this.child = child;
    this.passThrough(child);
    for (const command of child.handleEvent(new Start())) out.push(command);
    if (replay && this.#size > 0) {
      const bytes = this.#bytes();
      this.#buffer = [];
      this.#size = 0;
      const data = child.handleEvent(new DataReceived(this.context.client, bytes));
      for (const command of data) out.push(command);
    }
    return out;
  }

  #disarm(out: Command[]): void {
    if (this.#timer !== null) {
      out.push(new Disarm(this.#timer));
      this.#timer = null;
    }
  }
}

/** How much of an origin's early greeting is kept before relaying without waiting for the client. */
const SERVER_EARLY_MAX = 64 * 1024;

/** Requests inside a tunnel go where the tunnel goes; the listener's mode said how to get there. */
function tunnelMode(mode: HttpMode): HttpMode {
  return mode.kind === "reverse" ? mode : { kind: "transparent" };
}

function client(layer: NextLayer): string {
  const s = layer.context.server;
  return s ? formatEndpoint(s.address) : layer.context.client.label;
}

/** An HTTP/1 request line starts with a method token and a space: "GET ", "OPTIONS ". */
function looksLikeHttp(b: Uint8Array): boolean {
  const n = Math.min(b.length, 24);
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0x20) return i > 0;
    if (!(c >= 0x41 && c <= 0x5a) && c !== 0x2d) return false;
  }
  return false;
}

/** Too few bytes to tell yet, but so far uppercase letters as a method would be. */
function couldBeHttp(b: Uint8Array): boolean {
  for (const c of b) if (!(c >= 0x41 && c <= 0x5a) && c !== 0x2d) return false;
  return true;
}
