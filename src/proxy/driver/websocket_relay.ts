/**
 * The I/O around an intercepted WebSocket: one loop per direction feeds the peer's bytes to a
 * WebSocketRelay (src/websocket/relay.ts, which does all the protocol work), runs the
 * websocket_message hooks on each whole message, and writes what the relay says to the other
 * peer. It knows nothing of how the connection arrived (absolute-form, CONNECT and TLS, reverse
 * mode): it gets both connections positioned just past the handshake.
 *
 * Backpressure: a loop reads its next chunk only after its writes have room, and a slow hook holds
 * up only its own direction of its own flow.
 */
import type { AddonManager } from "../../addons/manager.ts";
import type { Flow } from "../../flow/flow.ts";
import { type WebSocketData, WebSocketMessage } from "../../flow/websocket.ts";
import type { Logger } from "../../log.ts";
import type { Conn } from "../../runtime/types.ts";
import { CloseCode, closePayload } from "../../websocket/close.ts";
import {
  closeInfo,
  type RelayedMessage,
  RelayError,
  WebSocketRelay,
} from "../../websocket/relay.ts";

/** Reads the next chunk of a connection; null at its end. */
export type ReadFn = () => Promise<Uint8Array | null>;

/** One side of the connection, just past the handshake. */
export interface WebSocketPeer {
  conn: Conn;
  read: ReadFn;
  /** Bytes already read past the handshake head: the first WebSocket bytes. */
  leftover: Uint8Array;
}

export interface WebSocketRun {
  /** The flow of the handshake, with `flow.websocket` set. */
  flow: Flow;
  client: WebSocketPeer;
  server: WebSocketPeer;
  /** permessage-deflate was negotiated. */
  deflate: boolean;
  addons: AddonManager;
  log: Logger;
}

/** After a protocol error, how long the peers get to answer our close frames. */
const FAIL_LINGER_MS = 2000;

/**
 * Relays the WebSocket until both sides are done, then runs websocket_end. The caller runs
 * flow_done afterwards (so a recording holds every message).
 */
export async function driveWebSocket(run: WebSocketRun): Promise<void> {
  await new WebSocketDriver(run).run();
}

class WebSocketDriver {
  readonly #run: WebSocketRun;
  readonly #ws: WebSocketData;
  /** Reads the client's frames and encodes frames for the server (masked). */
  readonly #toServer: WebSocketRelay;
  /** Reads the server's frames and encodes frames for the client. */
  readonly #toClient: WebSocketRelay;
  /** websocket_message hooks in progress: injections wait until they return. */
  #hooksRunning = 0;
  /** A close frame went to this side: nothing more may follow it. */
  readonly #closeSent = { client: false, server: false };
  #failed = false;
  #linger: ReturnType<typeof setTimeout> | undefined;

  constructor(run: WebSocketRun) {
    this.#run = run;
    this.#ws = run.flow.websocket!;
    this.#toServer = new WebSocketRelay({ fromClient: true, deflate: run.deflate });
    this.#toClient = new WebSocketRelay({ fromClient: false, deflate: run.deflate });
  }

  async run(): Promise<void> {
    const { client, server, flow, addons } = this.#run;
    const ws = this.#ws;
    ws.onInject(() => {
      if (this.#hooksRunning === 0) this.#sendInjected().catch(() => this.#closeBoth());
    });
    // A side closed outright (proxy shutdown, reset) can receive nothing more: once what it sent
    // has been passed on, close the other side too, or a silent peer would hold the flow open.
    const fromClient = this.#pump(true);
    const fromServer = this.#pump(false);
    client.conn.closed.then(() => fromClient.then(() => server.conn.close()));
    server.conn.closed.then(() => fromServer.then(() => client.conn.close()));
    try {
      await Promise.all([fromClient, fromServer]);
    } finally {
      ws.onInject(null);
      clearTimeout(this.#linger);
      this.#closeBoth();
    }
    ws.timestampEnd = Date.now();
    if (addons.has("websocket_end")) await addons.trigger("websocket_end", flow);
  }

  /** One direction: read, relay, forward, until that peer is done. */
  async #pump(fromClient: boolean): Promise<void> {
    const { client, server } = this.#run;
    const src = fromClient ? client : server;
    const relay = fromClient ? this.#toServer : this.#toClient;
    try {
      let chunk: Uint8Array | null = src.leftover.length > 0 ? src.leftover : await src.read();
      while (chunk !== null) {
        for (const item of relay.receive(chunk)) {
          if (this.#failed) break;
          if (item instanceof RelayError) this.#fail(fromClient, item);
          else await this.#pass(fromClient, item);
        }
        chunk = await src.read();
      }
      this.#peerEnded(fromClient, relay.incomplete);
      (fromClient ? server : client).conn.closeWrite();
    } catch (e) {
      this.#peerEnded(fromClient, false, (e as Error)?.message ?? String(e));
      this.#closeBoth();
    }
  }

  /** A whole message: record it, let the hooks see (and change) it, send it on. */
  async #pass(fromClient: boolean, item: RelayedMessage): Promise<void> {
    const { flow, addons } = this.#run;
    const message = item.message;
    this.#ws.messages.push(message);
    if (addons.has("websocket_message")) {
      this.#hooksRunning++;
      try {
        await addons.trigger("websocket_message", flow);
      } finally {
        this.#hooksRunning--;
      }
    }
    // The other direction failed the connection while the hooks ran: nothing more goes out.
    if (this.#failed) return;
    const to = fromClient ? "server" : "client";
    const relay = fromClient ? this.#toServer : this.#toClient;
    const bytes = relay.forward(item);
    if (bytes.length > 0 && !this.#closeSent[to]) {
      if (message.type === "close") {
        this.#closeSent[to] = true;
        const { code, reason } = closeInfo(message);
        this.#noteEnd(fromClient, code, reason);
      }
      await this.#write(to, bytes);
    }
    await this.#sendInjected();
  }

  /** Sends what addons injected (to a side that has not been sent a close yet). */
  async #sendInjected(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const { toClient, message } of this.#ws.takeInjected()) {
      this.#ws.messages.push(message);
      const to = toClient ? "client" : "server";
      if (this.#closeSent[to] || this.#failed) {
        message.dropped = true;
        this.#run.log.debug(`${this.#label()}: injected message dropped: the ${to} is closing`);
        continue;
      }
      const relay = toClient ? this.#toClient : this.#toServer;
      const wait = this.#conn(to).write(relay.encode(message));
      if (wait) waits.push(wait);
    }
    await Promise.all(waits);
  }

  /**
   * A peer broke the protocol: both sides get a close frame with the code (the connection is
   * failed, RFC 6455 7.1.7), and both are closed once they answered or FAIL_LINGER_MS passed.
   */
  #fail(fromClient: boolean, error: RelayError): void {
    const side = fromClient ? "client" : "server";
    const flow = this.#run.flow;
    this.#failed = true;
    this.#noteEnd(fromClient, error.code, error.reason);
    flow.error ??= {
      message:
        `WebSocket: the ${side} broke the protocol (${error.reason}); closed with ${error.code}`,
      timestamp: Date.now(),
    };
    this.#run.log.debug(`${this.#label()}: ${flow.error.message}`);
    const payload = closePayload(error.code, error.reason);
    for (const to of ["client", "server"] as const) {
      if (this.#closeSent[to]) continue;
      this.#closeSent[to] = true;
      const relay = to === "client" ? this.#toClient : this.#toServer;
      const close = new WebSocketMessage({
        fromClient: to === "server",
        type: "close",
        content: payload,
        timestamp: Date.now(),
      });
      try {
        this.#conn(to).write(relay.encode(close))?.catch(() => {});
        this.#conn(to).closeWrite();
      } catch { /* already closed */ }
    }
    this.#linger = setTimeout(() => this.#closeBoth(), FAIL_LINGER_MS);
  }

  /** A peer's bytes ended (or its connection broke): 1006 unless a close came first. */
  #peerEnded(fromClient: boolean, midMessage: boolean, broken?: string): void {
    if (this.#ws.closeCode !== null) return;
    const side = fromClient ? "client" : "server";
    const how = broken !== undefined
      ? `connection failed (${broken})`
      : midMessage
      ? "closed the connection in the middle of a message"
      : "closed the connection without a close frame";
    this.#noteEnd(fromClient, CloseCode.Abnormal, "");
    this.#run.flow.error ??= { message: `WebSocket: the ${side} ${how}`, timestamp: Date.now() };
  }

  /** How the connection ended: the first close frame (or hang-up) decides. */
  #noteEnd(byClient: boolean, code: number, reason: string): void {
    const ws = this.#ws;
    if (ws.closeCode !== null) return;
    ws.closedByClient = byClient;
    ws.closeCode = code;
    ws.closeReason = reason;
  }

  async #write(to: "client" | "server", bytes: Uint8Array[]): Promise<void> {
    const conn = this.#conn(to);
    const wait = bytes.length === 1 ? conn.write(bytes[0]) : conn.writev(bytes);
    if (wait) await wait;
  }

  #conn(to: "client" | "server"): Conn {
    return to === "client" ? this.#run.client.conn : this.#run.server.conn;
  }

  #closeBoth(): void {
    this.#run.client.conn.close();
    this.#run.server.conn.close();
  }

  #label(): string {
    return `WebSocket ${this.#run.flow.request.url}`;
  }
}
