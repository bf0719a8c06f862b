/**
 * One direction of an intercepted WebSocket, sans-IO: bytes from one peer in, messages for the
 * hooks out, and then the bytes to send to the other peer.
 *
 * ```ts
 * const relay = new WebSocketRelay({ fromClient: true, deflate });
 * for (const item of relay.receive(chunk)) {
 *   if (item instanceof RelayError) { ...send close item.code to both, end... }
 *   else { await hooks(item.message); for (const b of relay.forward(item)) server.write(b); }
 * }
 * ```
 *
 * A message no hook changed goes on as the very frames it arrived in (same fragmentation, same
 * mask, still compressed). A changed one is serialised again as one frame: client-to-server
 * frames with a fresh random mask, uncompressed. Sending uncompressed is always allowed under
 * permessage-deflate (RSV1 is per message) and leaves the receiver's inflate window alone; but
 * once a compressed message was changed or dropped, the receiver's window no longer matches the
 * sender's, so every later compressed message of this direction is sent decompressed as well.
 */
import { CloseCode, parseClosePayload, WebSocketProtocolError } from "./close.ts";
import { encodeFrame, type Frame, MAX_CONTROL_PAYLOAD, Opcode, randomMask } from "./frame.ts";
import { FrameParser } from "./frame_parser.ts";
import { MessageAssembler } from "./message_assembler.ts";
import { messageTypeOfOpcode, WEBSOCKET_OPCODES, WebSocketMessage } from "../flow/websocket.ts";

export interface RelayOptions {
  /** This relay carries client-to-server traffic (frames masked), else server-to-client. */
  fromClient: boolean;
  /** permessage-deflate was negotiated. */
  deflate?: boolean;
  /** Larger frames or messages fail the connection with 1009. Default 64 MiB. */
  maxMessage?: number;
  /** Clock for message timestamps (ms since the epoch). */
  now?: () => number;
  /** Masking keys for re-serialised client frames; random by default. */
  mask?: () => Uint8Array;
}

/** A complete message, ready for the websocket_message hook. */
export class RelayedMessage {
  readonly message: WebSocketMessage;
  /** The frames it arrived in. */
  readonly frames: readonly Frame[];
  /** It arrived compressed. */
  readonly compressed: boolean;
  readonly #content: Uint8Array;
  readonly #type: WebSocketMessage["type"];

  constructor(message: WebSocketMessage, frames: readonly Frame[], compressed: boolean) {
    this.message = message;
    this.frames = frames;
    this.compressed = compressed;
    this.#content = message.content;
    this.#type = message.type;
  }

  /**
   * True when a hook replaced the content with different bytes or changed the type. (Changes
   * made by writing into the original array in place are not seen: assign a new one.)
   */
  get changed(): boolean {
    const m = this.message;
    return m.type !== this.#type ||
      (m.content !== this.#content && !sameBytes(m.content, this.#content));
  }
}

/** The peer broke the protocol: close with `code` and end the connection. */
export class RelayError {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string) {
    this.code = code;
    this.reason = reason;
  }
}

export type RelayItem = RelayedMessage | RelayError;

export class WebSocketRelay {
  readonly fromClient: boolean;
  readonly #parser: FrameParser;
  readonly #assembler: MessageAssembler;
  readonly #now: () => number;
  readonly #mask: () => Uint8Array;
  /** A compressed message was changed or dropped: later compressed ones are re-sent plain. */
  #rewriting = false;
  #failed = false;

  constructor(options: RelayOptions) {
    this.fromClient = options.fromClient;
    const maxMessage = options.maxMessage ?? 64 * 1024 * 1024;
    this.#parser = new FrameParser({
      masked: options.fromClient,
      allowRsv1: options.deflate ?? false,
      maxPayload: maxMessage,
    });
    this.#assembler = new MessageAssembler({ deflate: options.deflate, maxMessage });
    this.#now = options.now ?? Date.now;
    this.#mask = options.mask ?? randomMask;
  }

  /**
   * The messages completed by `chunk`, and at most one RelayError, last: after it the peer's
   * bytes are not read any more (receive() returns nothing).
   */
  receive(chunk: Uint8Array): RelayItem[] {
    if (this.#failed) return [];
    const items: RelayItem[] = [];
    try {
      for (const frame of this.#parser.push(chunk)) {
        const done = this.#assembler.push(frame);
        if (done === null) continue;
        const message = new WebSocketMessage({
          fromClient: this.fromClient,
          type: messageTypeOfOpcode(done.opcode)!,
          content: done.payload,
          timestamp: this.#now(),
        });
        items.push(new RelayedMessage(message, done.frames, done.compressed));
      }
      const failed = this.#parser.failed;
      if (failed !== null) throw failed;
    } catch (e) {
      if (!(e instanceof WebSocketProtocolError)) throw e;
      this.#failed = true;
      items.push(new RelayError(e.code, e.message));
    }
    return items;
  }

  /** True when the peer's bytes stopped in the middle of a frame or a fragmented message. */
  get incomplete(): boolean {
    return !this.#failed && (!this.#parser.idle || this.#assembler.inMessage);
  }

  /** The bytes to send on for `item` after the hooks ran: none when it was dropped. */
  forward(item: RelayedMessage): Uint8Array[] {
    const { message } = item;
    const changed = item.changed;
    if (item.compressed && (message.dropped || changed)) this.#rewriting = true;
    if (message.dropped) return [];
    if (!changed && !(item.compressed && this.#rewriting)) return item.frames.map((f) => f.raw);
    return [this.encode(message)];
  }

  /**
   * `message` as one frame in this relay's direction (masked when it goes to the server),
   * uncompressed. A control message's content is cut to the 125 bytes a control frame can hold.
   */
  encode(message: WebSocketMessage): Uint8Array {
    const opcode = WEBSOCKET_OPCODES[message.type] as typeof Opcode[keyof typeof Opcode];
    let payload = message.content;
    if (opcode >= Opcode.Close && payload.length > MAX_CONTROL_PAYLOAD) {
      payload = payload.subarray(0, MAX_CONTROL_PAYLOAD);
    }
    return encodeFrame({ opcode, payload, mask: this.fromClient ? this.#mask() : null });
  }
}

/** The code and reason of a close message (1005 and "" for an empty one; 1002 when invalid). */
export function closeInfo(message: WebSocketMessage): { code: number; reason: string } {
  try {
    return parseClosePayload(message.content);
  } catch (e) {
    return { code: CloseCode.ProtocolError, reason: (e as Error).message };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
