/**
 * Messages from frames (RFC 6455 5.4): a data message is a first frame (text or binary) plus
 * continuation frames until FIN; control frames may come between them and are delivered at once.
 * Also decompresses permessage-deflate messages and checks text is UTF-8 (8.1) and close payloads
 * are valid (7.4).
 */
import { CloseCode, decodeUtf8Strict, parseClosePayload, WebSocketProtocolError } from "./close.ts";
import { type Frame, isControl, Opcode, type OpcodeValue } from "./frame.ts";
import { MessageInflater } from "./inflate.ts";

export interface AssembledMessage {
  /** Text, binary, close, ping or pong (never continuation). */
  opcode: OpcodeValue;
  /** The whole message: frames joined, decompressed when it was compressed. */
  payload: Uint8Array;
  /** It arrived compressed (RSV1 on its first frame). */
  compressed: boolean;
  /** The frames it came in, in order (their `raw` bytes re-create it exactly). */
  frames: Frame[];
}

export interface AssemblerOptions {
  /** permessage-deflate was negotiated for this direction. */
  deflate?: boolean;
  /** Messages larger than this (joined or inflated) fail with 1009. Default 64 MiB. */
  maxMessage?: number;
}

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

export class MessageAssembler {
  readonly #maxMessage: number;
  readonly #inflater: MessageInflater | null;
  /** Frames of the data message in progress, or null between messages. */
  #parts: Frame[] | null = null;
  #size = 0;

  constructor(options: AssemblerOptions = {}) {
    this.#maxMessage = options.maxMessage ?? DEFAULT_MAX_MESSAGE;
    this.#inflater = options.deflate ? new MessageInflater(this.#maxMessage) : null;
  }

  /** True while a fragmented data message is incomplete. */
  get inMessage(): boolean {
    return this.#parts !== null;
  }

  /** The message this frame completes, or null. Throws WebSocketProtocolError. */
  push(frame: Frame): AssembledMessage | null {
    if (isControl(frame.opcode)) {
      if (frame.opcode === Opcode.Close) parseClosePayload(frame.payload);
      return { opcode: frame.opcode, payload: frame.payload, compressed: false, frames: [frame] };
    }
    if (frame.opcode === Opcode.Continuation) {
      if (this.#parts === null) {
        throw new WebSocketProtocolError(
          CloseCode.ProtocolError,
          "continuation frame outside a message",
        );
      }
    } else if (this.#parts !== null) {
      throw new WebSocketProtocolError(
        CloseCode.ProtocolError,
        "new data frame before the fragmented message ended",
      );
    } else {
      this.#parts = [];
      this.#size = 0;
    }
    this.#size += frame.payload.length;
    if (this.#size > this.#maxMessage) {
      throw new WebSocketProtocolError(
        CloseCode.MessageTooBig,
        `message over the limit of ${this.#maxMessage} bytes`,
      );
    }
    this.#parts.push(frame);
    return frame.fin ? this.#complete() : null;
  }

  #complete(): AssembledMessage {
    const frames = this.#parts!;
    this.#parts = null;
    const first = frames[0];
    let payload = frames.length === 1 ? first.payload : join(frames, this.#size);
    if (first.rsv1) payload = this.#inflater!.inflate(payload);
    if (first.opcode === Opcode.Text) decodeUtf8Strict(payload, "text message");
    return { opcode: first.opcode, payload, compressed: first.rsv1, frames };
  }
}

function join(frames: Frame[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let p = 0;
  for (const f of frames) {
    out.set(f.payload, p);
    p += f.payload.length;
  }
  return out;
}
