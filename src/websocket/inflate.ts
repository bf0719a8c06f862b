/**
 * permessage-deflate (RFC 7692) decompression for inspection, one instance per direction.
 *
 * A compressed message is raw DEFLATE ending in a sync flush whose trailer 00 00 ff ff the sender
 * removed (7.2.1); we put it back. With context takeover (the default) a message may refer to up
 * to 32 KiB of the output of earlier messages. Node's streaming zlib is asynchronous, and Deno's
 * inflateRawSync ignores the `dictionary` option (checked on Deno 2.9.6), so the history is
 * supplied portably: the last 32 KiB of output go in front of the message as DEFLATE *stored*
 * blocks (uncompressed, byte-aligned), inflateRawSync runs over both, and the history is cut off
 * the result. A message sent with `*_no_context_takeover` simply never refers back to it.
 */
import zlib from "node:zlib";
import { CloseCode, WebSocketProtocolError } from "./close.ts";

/** The largest LZ77 window (2^15): no back-reference reaches further. */
const WINDOW = 32 * 1024;
const TRAILER = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

export class MessageInflater {
  #history: Uint8Array = new Uint8Array(0);
  readonly #maxOutput: number;

  /** `maxOutput`: a message inflating to more fails with 1009 (a small message can be a bomb). */
  constructor(maxOutput = 64 * 1024 * 1024) {
    this.#maxOutput = maxOutput;
  }

  /** The uncompressed message. Throws WebSocketProtocolError on corrupt data or a too-big one. */
  inflate(compressed: Uint8Array): Uint8Array {
    const history = this.#history;
    const input = new Uint8Array(storedLength(history.length) + compressed.length + 4);
    const p = writeStored(input, history);
    input.set(compressed, p);
    input.set(TRAILER, p + compressed.length);
    let out: Uint8Array;
    try {
      out = zlib.inflateRawSync(input, {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: history.length + this.#maxOutput,
      });
    } catch (e) {
      const tooBig = (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
      throw new WebSocketProtocolError(
        tooBig ? CloseCode.MessageTooBig : CloseCode.InvalidPayload,
        tooBig
          ? `compressed message inflates to more than ${this.#maxOutput} bytes`
          : `permessage-deflate data does not inflate: ${(e as Error).message}`,
      );
    }
    const message = new Uint8Array(
      out.buffer,
      out.byteOffset + history.length,
      out.length - history.length,
    );
    if (message.length > this.#maxOutput) {
      throw new WebSocketProtocolError(
        CloseCode.MessageTooBig,
        `compressed message inflates to more than ${this.#maxOutput} bytes`,
      );
    }
    this.#remember(out);
    return message.slice();
  }

  /** Keeps the last WINDOW bytes of all output so far (`all` starts with the old history). */
  #remember(all: Uint8Array): void {
    this.#history = all.slice(Math.max(0, all.length - WINDOW));
  }
}

/** Bytes that `data` takes as stored blocks: 5 bytes of header per 65535 bytes of data. */
function storedLength(n: number): number {
  return n + 5 * Math.ceil(n / 0xffff);
}

/** Writes `data` as non-final stored blocks (RFC 1951 3.2.4) at the start of `out`; returns the end. */
function writeStored(out: Uint8Array, data: Uint8Array): number {
  let p = 0;
  for (let i = 0; i < data.length; i += 0xffff) {
    const len = Math.min(0xffff, data.length - i);
    out[p++] = 0x00; // BFINAL 0, BTYPE 00 (stored), then padding to the byte boundary
    out[p++] = len & 0xff;
    out[p++] = len >> 8;
    out[p++] = ~len & 0xff;
    out[p++] = (~len >> 8) & 0xff;
    out.set(data.subarray(i, i + len), p);
    p += len;
  }
  return p;
}
