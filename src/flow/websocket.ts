/**
 * The WebSocket part of a flow: every message that passed (or was dropped or injected), and how
 * the connection closed. A flow whose handshake succeeded gets `flow.websocket`; its `request` and
 * `response` stay the HTTP Upgrade handshake (101), as in mitmproxy.
 *
 * ```ts
 * // an addon
 * export default {
 *   websocket_message(flow) {
 *     const m = flow.websocket!.messages.at(-1)!;
 *     if (m.type === "text" && m.text.includes("secret")) m.text = "[redacted]";
 *     if (m.fromClient && m.text === "ping me") flow.websocket!.inject(true, "pong from the proxy");
 *   },
 * };
 * ```
 */

export type WebSocketMessageType = "text" | "binary" | "ping" | "pong" | "close";

/** RFC 6455 opcodes of the message types (what HAR's `_webSocketMessages` calls `opcode`). */
export const WEBSOCKET_OPCODES: Readonly<Record<WebSocketMessageType, number>> = {
  text: 1,
  binary: 2,
  close: 8,
  ping: 9,
  pong: 10,
};

/** The message type of an opcode, or null for continuation and reserved opcodes. */
export function messageTypeOfOpcode(opcode: number): WebSocketMessageType | null {
  for (const [type, code] of Object.entries(WEBSOCKET_OPCODES)) {
    if (code === opcode) return type as WebSocketMessageType;
  }
  return null;
}

const encoder = new TextEncoder();
const lossy = new TextDecoder();

export interface WebSocketMessageInit {
  fromClient: boolean;
  type: WebSocketMessageType;
  content: Uint8Array;
  timestamp: number;
  dropped?: boolean;
  injected?: boolean;
}

export class WebSocketMessage {
  /** Sent by the client (else by the server). */
  fromClient: boolean;
  type: WebSocketMessageType;
  /**
   * The whole message, decompressed (permessage-deflate undone). For a close message: the close
   * payload (2-byte code, UTF-8 reason) as on the wire. Assign a new array to change it.
   */
  content: Uint8Array;
  /** When it was complete (ms since the epoch). */
  timestamp: number;
  /** Not forwarded: set by drop() in a websocket_message hook. */
  dropped: boolean;
  /** Made by an addon (inject()), not by either peer. */
  injected: boolean;

  constructor(init: WebSocketMessageInit) {
    this.fromClient = init.fromClient;
    this.type = init.type;
    this.content = init.content;
    this.timestamp = init.timestamp;
    this.dropped = init.dropped ?? false;
    this.injected = init.injected ?? false;
  }

  /** The content as text (invalid UTF-8 replaced by U+FFFD). */
  get text(): string {
    return lossy.decode(this.content);
  }

  /** Replaces the content with this text, UTF-8 encoded. */
  set text(value: string) {
    this.content = encoder.encode(value);
  }

  /** Keeps the message from being forwarded (it stays in the flow, marked dropped). */
  drop(): void {
    this.dropped = true;
  }

  /** For a close message: its code (1005 when it had none), else null. */
  get closeCode(): number | null {
    if (this.type !== "close") return null;
    return this.content.length >= 2 ? (this.content[0] << 8) | this.content[1] : 1005;
  }

  /** For a close message: its reason, else null. */
  get closeReason(): string | null {
    return this.type === "close" ? lossy.decode(this.content.subarray(2)) : null;
  }
}

/** An addon's request to send a message. */
export interface InjectedMessage {
  toClient: boolean;
  message: WebSocketMessage;
}

export class WebSocketData {
  /** Every message, in the order the proxy handled them (both directions interleaved). */
  messages: WebSocketMessage[] = [];
  /** true when the client sent the first close frame or hung up first; null while open. */
  closedByClient: boolean | null = null;
  /** Code of the first close frame (1005 without one, 1006 when a side hung up); null while open. */
  closeCode: number | null = null;
  closeReason: string | null = null;
  /** When the WebSocket connection ended (ms since the epoch), or null while open. */
  timestampEnd: number | null = null;
  /** Subprotocol and extensions the server accepted (Sec-WebSocket-Protocol / -Extensions). */
  protocol: string | null = null;
  extensions: string | null = null;

  #injected: InjectedMessage[] = [];
  #onInject: (() => void) | null = null;

  /**
   * Sends a message from the proxy: to the client (toClient true) or to the server. The proxy
   * sends it after the current hook returns (or at once when called outside a hook), and it is
   * added to `messages` with `injected` set.
   */
  inject(toClient: boolean, content: string | Uint8Array, type?: "text" | "binary"): void {
    const bytes = typeof content === "string" ? encoder.encode(content) : content;
    const message = new WebSocketMessage({
      fromClient: !toClient,
      type: type ?? (typeof content === "string" ? "text" : "binary"),
      content: bytes,
      timestamp: Date.now(),
      injected: true,
    });
    this.#injected.push({ toClient, message });
    this.#onInject?.();
  }

  /** For the proxy: the messages injected since the last call. */
  takeInjected(): InjectedMessage[] {
    const out = this.#injected;
    this.#injected = [];
    return out;
  }

  /** For the proxy: called whenever inject() queues a message, to send it without waiting. */
  onInject(listener: (() => void) | null): void {
    this.#onInject = listener;
  }
}
