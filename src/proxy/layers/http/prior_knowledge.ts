/**
 * h2c with prior knowledge (RFC 9113 section 3.3) on a port that speaks HTTP/1 proxy requests:
 * the first bytes decide. `PriorKnowledgeSniffer` starts the HTTP/1 layer at once (its idle
 * deadline runs from the connection's start) and holds back bytes only while they could still
 * be the client preface ("P" also begins POST, PUT and PATCH); once the whole preface arrived,
 * it swaps in an HTTP layer speaking HTTP/2.
 */
import { Arm, Disarm } from "../../core/commands.ts";
import type { Context } from "../../core/context.ts";
import { ConnectionClosed, DataReceived, type Event, Start } from "../../core/events.ts";
import { type CommandGenerator, Layer } from "../../core/layer.ts";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** Whether the bytes are the client preface ("yes"), a prefix of it ("maybe"), or not. */
export function startsWithPreface(b: Uint8Array): "yes" | "maybe" | "no" {
  const n = Math.min(b.length, PREFACE.length);
  for (let i = 0; i < n; i++) if (b[i] !== PREFACE.charCodeAt(i)) return "no";
  return n === PREFACE.length ? "yes" : "maybe";
}

/** Makes the HTTP layer: `http2` when the client sent the h2c preface. */
export type HttpLayerFactory = (context: Context, http2: boolean) => Layer;

export class PriorKnowledgeSniffer extends Layer {
  child: Layer | null = null;
  /** Still deciding: nothing but a prefix of the preface has arrived. */
  #sniffing: boolean;
  #held: Uint8Array = new Uint8Array(0);
  /** Timers the HTTP/1 layer armed before the swap (its idle deadline), to disarm then. */
  readonly #armed: Arm[] = [];
  readonly #make: HttpLayerFactory;

  constructor(context: Context, make: HttpLayerFactory) {
    super(context);
    this.#make = make;
    this.#sniffing = context.options.http2;
  }

  protected *run(event: Event): CommandGenerator {
    if (event instanceof Start && this.child === null) {
      this.child = this.#make(this.context, false);
      for (const command of this.child.handleEvent(event)) {
        if (this.#sniffing && command instanceof Arm) this.#armed.push(command);
        yield command;
      }
      // Nothing to decide (HTTP/2 is off): every later event goes straight to the child.
      if (!this.#sniffing) this.passThrough(this.child);
      return;
    }
    const client = this.context.client;
    if (this.#sniffing && event instanceof DataReceived && event.conn === client) {
      const bytes = concat(this.#held, event.data);
      const verdict = startsWithPreface(bytes);
      if (verdict === "maybe") {
        this.#held = bytes;
        return;
      }
      this.#sniffing = false;
      this.#held = new Uint8Array(0);
      if (verdict === "yes") {
        for (const timer of this.#armed) yield new Disarm(timer);
        this.child = this.#make(this.context, true);
        yield this.child.handleEvent(new Start());
      }
      this.#armed.length = 0;
      yield this.child!.handleEvent(new DataReceived(client, bytes));
      // Decided: from now on events go straight to the child, without a generator per event.
      this.passThrough(this.child!);
      return;
    }
    if (this.#sniffing && event instanceof ConnectionClosed && event.conn === client) {
      this.#sniffing = false;
      if (this.#held.length > 0) {
        yield this.child!.handleEvent(new DataReceived(client, this.#held));
      }
    }
    if (this.child !== null) yield this.child.handleEvent(event);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
