/**
 * The first layer of a listener: one per proxy mode. Each decides where the client's traffic
 * goes and which layer reads it next.
 *   regular      HTTP proxy: absolute-form requests, CONNECT tunnels (the HTTP layer);
 *   reverse      every request goes to one origin, over plain HTTP or TLS from the client;
 *   transparent  the destination is the connection's original one (the driver supplies it);
 *   socks5       a SOCKS5 handshake names the destination;
 *   upstream     plain requests are forwarded to another proxy in absolute-form.
 */
import {
  Socks5Handshake,
  type Socks5Options,
  Socks5Reply,
  socks5Reply,
  socks5ReplyForError,
} from "./socks5.ts";
import { CloseConnection, type Command, Log, OpenConnection, SendData } from "../core/commands.ts";
import { formatEndpoint, Server } from "../core/connection.ts";
import type { Context } from "../core/context.ts";
import {
  ConnectionClosed,
  DataReceived,
  type Event,
  OpenConnectionCompleted,
  Start,
} from "../core/events.ts";
import { type CommandGenerator, Layer } from "../core/layer.ts";
import { HttpLayer } from "./http/layer.ts";
import type { HttpMode } from "./http/mode.ts";
import { PriorKnowledgeSniffer } from "./http/prior_knowledge.ts";
import { NextLayer } from "./next_layer.ts";

/** A layer that, once it knows what follows, hands every event to one child. */
abstract class ModeLayer extends Layer {
  child: Layer | null = null;

  /** The child starts (with the bytes read before it, if any); returns its commands. */
  protected startChild(child: Layer, early: Uint8Array | null = null): readonly Command[] {
    this.child = child;
    this.passThrough(child);
    const out = child.handleEvent(new Start());
    if (early === null || early.length === 0) return out;
    return out.concat(child.handleEvent(new DataReceived(this.context.client, early)));
  }
}

export class RegularMode extends ModeLayer {
  protected *run(event: Event): CommandGenerator {
    if (event instanceof Start && this.child === null) {
      const mode: HttpMode = { kind: "regular" };
      // Proxy requests in HTTP/1, or h2c with prior knowledge (absolute URLs in :scheme and
      // :authority, as curl --http2-prior-knowledge -x sends them).
      yield this.startChild(
        new PriorKnowledgeSniffer(
          this.context,
          (ctx, http2) => new HttpLayer(ctx, mode, "http", (c) => new NextLayer(c, mode), http2),
        ),
      );
      return;
    }
    if (this.child) yield this.child.handleEvent(event);
  }
}

export class UpstreamMode extends ModeLayer {
  constructor(context: Context, readonly upstream: { host: string; port: number }) {
    super(context);
  }
  protected *run(event: Event): CommandGenerator {
    if (event instanceof Start && this.child === null) {
      const mode: HttpMode = { kind: "upstream", ...this.upstream };
      yield this.startChild(
        new HttpLayer(this.context, mode, "http", (ctx) => new NextLayer(ctx, mode)),
      );
      return;
    }
    if (this.child) yield this.child.handleEvent(event);
  }
}

export class ReverseMode extends ModeLayer {
  constructor(
    context: Context,
    readonly origin: { scheme: "http" | "https"; host: string; port: number },
  ) {
    super(context);
  }
  protected *run(event: Event): CommandGenerator {
    if (event instanceof Start && this.child === null) {
      this.context.server = new Server({ host: this.origin.host, port: this.origin.port });
      yield this.startChild(new NextLayer(this.context, { kind: "reverse", ...this.origin }));
      return;
    }
    if (this.child) yield this.child.handleEvent(event);
  }
}

/** The driver puts the original destination in `context.server` before Start. */
export class TransparentMode extends ModeLayer {
  protected *run(event: Event): CommandGenerator {
    if (event instanceof Start && this.child === null) {
      if (this.context.server === null) {
        yield new Log("transparent mode: the original destination is unknown", "warn");
        yield new CloseConnection(this.context.client);
        return;
      }
      yield this.startChild(new NextLayer(this.context, { kind: "transparent" }));
      return;
    }
    if (this.child) yield this.child.handleEvent(event);
  }
}

export type Socks5State = "handshake" | "dialing" | "tunnel" | "failed";

/**
 * SOCKS5: the handshake names the destination, which is dialled at once (the reply must say
 * whether that worked); then the next-layer decision reads the tunnel.
 */
export class Socks5Mode extends ModeLayer {
  state: Socks5State = "handshake";
  readonly #handshake: Socks5Handshake;
  #leftover: Uint8Array | null = null;

  constructor(context: Context, options: Socks5Options) {
    super(context);
    this.#handshake = new Socks5Handshake(options);
  }

  protected *run(event: Event): CommandGenerator {
    if (this.child !== null) {
      yield this.child.handleEvent(event);
      return;
    }
    const client = this.context.client;
    if (event instanceof DataReceived && event.conn === client && this.state === "handshake") {
      const step = this.#handshake.receive(event.data);
      for (const bytes of step.send) yield new SendData(client, bytes);
      if (step.error !== null) {
        this.state = "failed";
        yield new Log(
          `${formatEndpoint(client.peer)}: SOCKS5 handshake failed: ${step.error}`,
          "info",
        );
        yield new CloseConnection(client);
        return;
      }
      if (step.request === null) return;
      const server = new Server({ host: step.request.host, port: step.request.port });
      this.context.server = server;
      this.#leftover = step.request.leftover;
      this.state = "dialing";
      yield this.detached(new OpenConnection(server));
    } else if (event instanceof DataReceived && event.conn === client && this.state === "dialing") {
      this.#leftover = concat(this.#leftover, event.data);
    } else if (event instanceof OpenConnectionCompleted && this.state === "dialing") {
      const server = event.command.conn;
      if (event.error !== null) {
        this.state = "failed";
        yield new SendData(client, socks5Reply(socks5ReplyForError(event.code ?? "other")));
        yield new Log(`SOCKS5 to ${formatEndpoint(server.address)}: ${event.error}`, "info");
        yield new CloseConnection(client);
        return;
      }
      this.state = "tunnel";
      yield new SendData(client, socks5Reply(Socks5Reply.Succeeded, client.local));
      yield this.startChild(new NextLayer(this.context, { kind: "transparent" }, this.#leftover));
    } else if (event instanceof ConnectionClosed && event.conn === client) {
      if (this.state !== "tunnel") yield new CloseConnection(client);
    }
  }
}

function concat(a: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (a === null || a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
