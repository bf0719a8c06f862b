/**
 * Frames from a byte stream, sans-IO: push() whatever chunks arrive (any sizes), get the complete
 * frames back. Each frame's payload is copied once into a buffer of its exact size, so a large
 * frame arriving in small chunks stays linear. Every per-frame rule of RFC 6455 is checked here;
 * rules across frames (fragmentation, UTF-8) are in message_assembler.ts.
 */
import { CloseCode, WebSocketProtocolError } from "./close.ts";
import {
  applyMask,
  type Frame,
  isControl,
  isKnownOpcode,
  MAX_CONTROL_PAYLOAD,
  type OpcodeValue,
} from "./frame.ts";

export interface FrameParserOptions {
  /**
   * true: frames must be masked (they come from a client, 5.1); false: they must not be (from a
   * server); null: either.
   */
  masked: boolean | null;
  /** RSV1 is allowed on data frames (permessage-deflate was negotiated). */
  allowRsv1?: boolean;
  /** Larger frames fail with 1009 before their payload is buffered. Default 64 MiB. */
  maxPayload?: number;
}

const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

export class FrameParser {
  readonly #masked: boolean | null;
  readonly #allowRsv1: boolean;
  readonly #maxPayload: number;
  /** Header bytes so far (at most 14). */
  readonly #head = new Uint8Array(14);
  #headFill = 0;
  /** The frame being filled once its header is complete. */
  #raw: Uint8Array | null = null;
  #rawFill = 0;
  #headLength = 0;
  #failed: WebSocketProtocolError | null = null;

  constructor(options: FrameParserOptions) {
    this.#masked = options.masked;
    this.#allowRsv1 = options.allowRsv1 ?? false;
    this.#maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** The violation that stopped the parser, or null. */
  get failed(): WebSocketProtocolError | null {
    return this.#failed;
  }

  /** True between frames (nothing of a next frame received yet). */
  get idle(): boolean {
    return this.#headFill === 0 && this.#raw === null;
  }

  /**
   * The frames completed by `chunk`. Throws WebSocketProtocolError on a violation, unless frames
   * before it completed in the same chunk: then those are returned, `failed` is set, and the next
   * push() throws. The parser stays failed (the connection is to be closed).
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) throw this.#failed;
    const frames: Frame[] = [];
    let i = 0;
    try {
      while (i < chunk.length) {
        if (this.#raw === null) {
          i = this.#takeHeader(chunk, i);
          if (this.#raw === null) break;
        }
        const raw = this.#raw;
        const take = Math.min(raw.length - this.#rawFill, chunk.length - i);
        raw.set(chunk.subarray(i, i + take), this.#rawFill);
        this.#rawFill += take;
        i += take;
        if (this.#rawFill === raw.length) frames.push(this.#finish());
      }
      // A frame with an empty payload completes as soon as its header does.
      if (this.#raw !== null && this.#rawFill === this.#raw.length) frames.push(this.#finish());
    } catch (e) {
      if (!(e instanceof WebSocketProtocolError)) throw e;
      this.#failed = e;
      if (frames.length === 0) throw e;
    }
    return frames;
  }

  /** Copies header bytes from chunk[i..]; allocates the frame once the header is complete. */
  #takeHeader(chunk: Uint8Array, i: number): number {
    const head = this.#head;
    while (i < chunk.length) {
      head[this.#headFill++] = chunk[i++];
      if (this.#headFill === 2) this.#checkFirstTwo();
      const needed = this.#headFill >= 2 ? this.#neededHeader() : 2;
      if (this.#headFill === needed) {
        this.#startPayload(needed);
        return i;
      }
    }
    return i;
  }

  /** The header length given the first two bytes. */
  #neededHeader(): number {
    const b1 = this.#head[1];
    const len7 = b1 & 0x7f;
    const base = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
    return (b1 & 0x80) !== 0 ? base + 4 : base;
  }

  #checkFirstTwo(): void {
    const [b0, b1] = this.#head;
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    const fail = (reason: string) => {
      throw new WebSocketProtocolError(CloseCode.ProtocolError, reason);
    };
    if (!isKnownOpcode(opcode)) fail(`reserved opcode 0x${opcode.toString(16)}`);
    if ((b0 & 0x30) !== 0) fail("RSV2/RSV3 set without a negotiated extension");
    if ((b0 & 0x40) !== 0) {
      if (!this.#allowRsv1) fail("RSV1 set without a negotiated extension");
      // RFC 7692 6.1: only the first frame of a data message carries RSV1.
      if (isControl(opcode) || opcode === 0) {
        fail(`RSV1 set on an opcode 0x${opcode.toString(16)} frame`);
      }
    }
    if (isControl(opcode)) {
      if (!fin) fail("fragmented control frame");
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) fail("control frame payload over 125 bytes");
    }
    if (this.#masked === true && !masked) fail("unmasked frame from the client");
    if (this.#masked === false && masked) fail("masked frame from the server");
  }

  #startPayload(headLength: number): void {
    const head = this.#head;
    const len7 = head[1] & 0x7f;
    let length: number;
    if (len7 < 126) length = len7;
    else if (len7 === 126) length = (head[2] << 8) | head[3];
    else {
      const view = new DataView(head.buffer);
      const high = view.getUint32(2);
      if (high & 0x80000000) {
        throw new WebSocketProtocolError(
          CloseCode.ProtocolError,
          "64-bit length with its top bit set",
        );
      }
      length = high * 0x100000000 + view.getUint32(6);
    }
    if (length > this.#maxPayload) {
      throw new WebSocketProtocolError(
        CloseCode.MessageTooBig,
        `frame of ${length} bytes is over the limit of ${this.#maxPayload}`,
      );
    }
    const raw = new Uint8Array(headLength + length);
    raw.set(head.subarray(0, headLength));
    this.#raw = raw;
    this.#rawFill = headLength;
    this.#headLength = headLength;
  }

  #finish(): Frame {
    const raw = this.#raw!;
    const head = this.#head;
    const b0 = head[0];
    const masked = (head[1] & 0x80) !== 0;
    const mask = masked ? head.slice(this.#headLength - 4, this.#headLength) : null;
    let payload = raw.subarray(this.#headLength);
    if (mask !== null) {
      payload = payload.slice();
      applyMask(payload, mask);
    }
    this.#raw = null;
    this.#headFill = 0;
    return {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: (b0 & 0x0f) as OpcodeValue,
      mask,
      payload,
      raw,
    };
  }
}
