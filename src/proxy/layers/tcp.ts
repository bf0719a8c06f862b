/**
 * TCP passthrough: dial the context's server and relay bytes both ways untouched. The relay
 * itself is a Splice (the driver copies between the two sockets without the layers looking at
 * each chunk); bytes the client sent before the dial completed are handed to the splice.
 */
import { CloseConnection, Log, OpenConnection, Splice } from "../core/commands.ts";
import { formatEndpoint, type Server } from "../core/connection.ts";
import type { Context } from "../core/context.ts";
import {
  ConnectionClosed,
  DataReceived,
  type Event,
  OpenConnectionCompleted,
  SpliceEnded,
  Start,
} from "../core/events.ts";
import { type CommandGenerator, Layer } from "../core/layer.ts";

export type TcpState = "start" | "dialing" | "relaying" | "done";

export class TcpLayer extends Layer {
  state: TcpState = "start";
  readonly server: Server;
  #early: Uint8Array[] = [];
  #serverEarly: Uint8Array | null;
  #clientEof = false;

  /**
   * `early` holds bytes the client sent that earlier layers already consumed (peeked);
   * `serverEarly` those of a server that spoke first (a greeting) on a connection already open.
   */
  constructor(
    context: Context,
    early: Uint8Array | null = null,
    serverEarly: Uint8Array | null = null,
  ) {
    super(context);
    if (context.server === null) throw new Error("TcpLayer needs a server in its context");
    this.server = context.server;
    if (early !== null && early.length > 0) this.#early.push(early);
    this.#serverEarly = serverEarly;
  }

  override toString(): string {
    return `TcpLayer(${this.state})`;
  }

  protected *run(event: Event): CommandGenerator {
    const client = this.context.client;
    if (event instanceof Start && this.state === "start") {
      if (this.server.open) {
        yield* this.#splice();
        return;
      }
      this.state = "dialing";
      yield this.detached(new OpenConnection(this.server));
    } else if (event instanceof DataReceived && event.conn === client && this.state === "dialing") {
      this.#early.push(event.data);
    } else if (event instanceof ConnectionClosed && event.conn === client) {
      // The client may half-close before the dial completes: the splice sends FIN on for it.
      this.#clientEof = true;
    } else if (event instanceof OpenConnectionCompleted && event.command.conn === this.server) {
      if (event.error !== null) {
        this.state = "done";
        yield new Log(`${formatEndpoint(this.server.address)}: ${event.error}`, "info");
        yield new CloseConnection(client);
        return;
      }
      yield* this.#splice();
    } else if (event instanceof SpliceEnded) {
      this.state = "done";
      if (event.error) yield new Log(`tcp relay: ${event.error}`, "debug");
    }
  }

  *#splice(): CommandGenerator {
    this.state = "relaying";
    const early = concat(this.#early);
    this.#early = [];
    const b = this.#serverEarly;
    this.#serverEarly = null;
    const splice = new Splice(this.context.client, this.server, "raw", { a: early, b });
    if (this.#clientEof) splice.clientEof = true;
    yield this.detached(splice);
  }
}

function concat(parts: Uint8Array[]): Uint8Array | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
