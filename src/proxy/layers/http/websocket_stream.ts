/**
 * An intercepted WebSocket that stays inside its HTTP stream: the client or the origin spoke
 * HTTP/2 (RFC 8441), so that connection carries other streams and cannot go to the driver's
 * relay. Messages are read from the stream's body events with the sans-IO WebSocketRelay, each
 * runs the websocket_message hook (which pauses this stream only, as a slow hook holds up only
 * its own flow in the HTTP/1 relay) and goes on as body events; a peer's end of the body ends
 * the other direction. The origin side is an h2 stream (extended CONNECT) or an HTTP/1.1
 * connection after its 101, read and written raw by the HttpLayer (`UpgradeInStream`); the
 * client side is an h2 stream or, towards an h2 origin, an HTTP/1.1 connection after the 101 it
 * was sent (`ClientInStream`).
 */
import type { Flow } from "../../../flow/flow.ts";
import { WebSocketMessage } from "../../../flow/websocket.ts";
import { CloseCode, closePayload } from "../../../websocket/close.ts";
import { closeInfo, RelayError, WebSocketRelay } from "../../../websocket/relay.ts";
import { CallHook, Command } from "../../core/commands.ts";
import type { Server } from "../../core/connection.ts";
import type { CommandGenerator, Yielded } from "../../core/layer.ts";

/**
 * To the HttpLayer, after an HTTP/1.1 origin's 101 for an h2 client: keep the origin connection
 * out of the pool and carry its bytes as the stream's response body (and the request body as
 * its bytes), instead of splicing two connections.
 */
export class UpgradeInStream extends Command {
  constructor(readonly streamId: number, readonly server: Server) {
    super();
  }
  toString(): string {
    return `UpgradeInStream(#${this.streamId}, ${this.server.id})`;
  }
}

/**
 * To the HttpLayer, after the 101 went to an HTTP/1.1 client whose WebSocket goes on in an h2
 * origin's stream (RFC 8441 towards the origin): read and write the client's connection raw as
 * that stream's request body (and its response body as the client's bytes).
 */
export class ClientInStream extends Command {
  constructor(readonly streamId: number) {
    super();
  }
  toString(): string {
    return `ClientInStream(#${this.streamId})`;
  }
}

/**
 * RFC 6455 section 4.1: a client waits for its handshake's answer before it sends frames. An
 * HTTP/2 client that did not loses nothing: its bytes are kept until the WebSocket is accepted
 * (up to a limit; past it the exchange fails, saying why).
 */
export class EarlyWebSocketData {
  static readonly MAX = 64 * 1024;
  static readonly OVERFLOW = `the client sent over ${EarlyWebSocketData.MAX} bytes of WebSocket ` +
    "data before its handshake was answered";
  #chunks: Uint8Array[] = [];
  #size = 0;

  /** Keeps a copy of `data`; false once the kept bytes would pass the limit. */
  keep(data: Uint8Array): boolean {
    this.#size += data.length;
    if (this.#size > EarlyWebSocketData.MAX) return false;
    this.#chunks.push(data.slice());
    return true;
  }

  /** What was kept, in order; nothing is kept after. */
  take(): Uint8Array[] {
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks;
  }
}

/** How the stream sends: bytes to one side, and the end of one direction. */
export interface StreamWebSocketPorts {
  send(toClient: boolean, bytes: Uint8Array): Yielded;
  end(toClient: boolean): Yielded;
}

export class StreamWebSocket {
  readonly flow: Flow;
  /** Reads the client's frames and encodes frames for the server (masked). */
  readonly #toServer: WebSocketRelay;
  /** Reads the server's frames and encodes frames for the client. */
  readonly #toClient: WebSocketRelay;
  readonly #ports: StreamWebSocketPorts;
  readonly #now: () => number;
  /** Each side's bytes ended (or we ended them after a failure). */
  readonly #ended = { client: false, server: false };
  /** A close frame went to this side: nothing more may follow it. */
  readonly #closeSent = { client: false, server: false };
  #failed = false;

  constructor(flow: Flow, deflate: boolean, ports: StreamWebSocketPorts, now: () => number) {
    this.flow = flow;
    this.#toServer = new WebSocketRelay({ fromClient: true, deflate });
    this.#toClient = new WebSocketRelay({ fromClient: false, deflate });
    this.#ports = ports;
    this.#now = now;
  }

  /** Both directions are over. */
  get done(): boolean {
    return this.#ended.client && this.#ended.server;
  }

  /** Bytes from one peer: whole messages are recorded, shown to the hooks and passed on. */
  *receive(fromClient: boolean, data: Uint8Array): CommandGenerator {
    const relay = fromClient ? this.#toServer : this.#toClient;
    const ws = this.flow.websocket!;
    for (const item of relay.receive(data)) {
      if (this.#failed) return;
      if (item instanceof RelayError) {
        yield* this.#fail(fromClient, item);
        return;
      }
      const message = item.message;
      ws.messages.push(message);
      yield new CallHook("websocket_message", this.flow);
      if (this.#failed) return;
      const to = fromClient ? "server" : "client";
      const bytes = relay.forward(item);
      if (bytes.length > 0 && !this.#closeSent[to]) {
        if (message.type === "close") {
          this.#closeSent[to] = true;
          const { code, reason } = closeInfo(message);
          this.#noteEnd(fromClient, code, reason);
        }
        for (const b of bytes) yield this.#ports.send(!fromClient, b);
      }
      yield* this.#sendInjected();
    }
  }

  /** A peer's bytes ended: 1006 unless a close came first; the other side's direction ends. */
  *peerEnded(fromClient: boolean): CommandGenerator {
    const side = fromClient ? "client" : "server";
    if (this.#ended[side]) return;
    this.#ended[side] = true;
    if (this.flow.websocket!.closeCode === null) {
      const relay = fromClient ? this.#toServer : this.#toClient;
      const how = relay.incomplete
        ? "closed the connection in the middle of a message"
        : "closed the connection without a close frame";
      this.#noteEnd(fromClient, CloseCode.Abnormal, "");
      this.flow.error ??= { message: `WebSocket: the ${side} ${how}`, timestamp: this.#now() };
    }
    yield this.#ports.end(!fromClient);
  }

  /** A peer's stream or connection broke: the flow ends here (the caller cuts both sides). */
  broken(fromClient: boolean, why: string): void {
    const side = fromClient ? "client" : "server";
    if (this.flow.websocket!.closeCode === null) {
      this.#noteEnd(fromClient, CloseCode.Abnormal, "");
      this.flow.error ??= {
        message: `WebSocket: the ${side} connection failed (${why})`,
        timestamp: this.#now(),
      };
    }
    this.#ended.client = this.#ended.server = true;
  }

  /** Messages addons injected (to a side that has not been sent a close yet). */
  *#sendInjected(): CommandGenerator {
    const ws = this.flow.websocket!;
    for (const { toClient, message } of ws.takeInjected()) {
      ws.messages.push(message);
      const to = toClient ? "client" : "server";
      if (this.#closeSent[to] || this.#failed) {
        message.dropped = true;
        continue;
      }
      const relay = toClient ? this.#toClient : this.#toServer;
      yield this.#ports.send(toClient, relay.encode(message));
    }
  }

  /**
   * A peer broke the protocol: both sides get a close frame with the code (RFC 6455 7.1.7) and
   * the end of their direction; the flow is over.
   */
  *#fail(fromClient: boolean, error: RelayError): CommandGenerator {
    const side = fromClient ? "client" : "server";
    this.#failed = true;
    this.#noteEnd(fromClient, error.code, error.reason);
    this.flow.error ??= {
      message:
        `WebSocket: the ${side} broke the protocol (${error.reason}); closed with ${error.code}`,
      timestamp: this.#now(),
    };
    const payload = closePayload(error.code, error.reason);
    for (const to of ["client", "server"] as const) {
      const toClient = to === "client";
      if (!this.#closeSent[to]) {
        this.#closeSent[to] = true;
        const relay = toClient ? this.#toClient : this.#toServer;
        const close = new WebSocketMessage({
          fromClient: !toClient,
          type: "close",
          content: payload,
          timestamp: this.#now(),
        });
        yield this.#ports.send(toClient, relay.encode(close));
      }
      // Ending the direction towards `to` is what the other side's end would do.
      const from = toClient ? "server" : "client";
      if (!this.#ended[from]) {
        this.#ended[from] = true;
        yield this.#ports.end(toClient);
      }
    }
  }

  /** How the connection ended: the first close frame (or hang-up) decides. */
  #noteEnd(byClient: boolean, code: number, reason: string): void {
    const ws = this.flow.websocket!;
    if (ws.closeCode !== null) return;
    ws.closedByClient = byClient;
    ws.closeCode = code;
    ws.closeReason = reason;
  }
}
