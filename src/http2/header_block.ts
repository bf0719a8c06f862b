/**
 * Gathers a header block from a HEADERS frame and its CONTINUATION frames (RFC 9113 4.3, 6.10),
 * with caps on the block's bytes and frames so a CONTINUATION flood (CVE-2024-27316 and kin)
 * cannot make us buffer without end: the block is only decoded once complete.
 */
import { ErrorCode, Http2ConnectionError } from "./errors.ts";
import type { Http2Limits } from "./events.ts";

export interface HeaderBlock {
  streamId: number;
  block: Uint8Array;
  endStream: boolean;
  selfDependent: boolean;
}

export class HeaderBlockAssembler {
  readonly #limits: Pick<Http2Limits, "maxHeaderBlockBytes" | "maxHeaderBlockFrames">;
  #current: HeaderBlock | null = null;
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #frames = 0;

  constructor(limits: Pick<Http2Limits, "maxHeaderBlockBytes" | "maxHeaderBlockFrames">) {
    this.#limits = limits;
  }

  /** True between a HEADERS frame without END_HEADERS and the CONTINUATION that ends it. */
  get active(): boolean {
    return this.#current !== null;
  }

  /** Starts a block with a HEADERS frame; returns it when END_HEADERS is already set. */
  start(
    streamId: number,
    fragment: Uint8Array,
    endHeaders: boolean,
    endStream: boolean,
    selfDependent: boolean,
  ): HeaderBlock | null {
    this.#current = { streamId, block: fragment, endStream, selfDependent };
    this.#parts = [fragment];
    this.#bytes = 0;
    this.#frames = 0;
    this.#count(fragment);
    return endHeaders ? this.#finish() : null;
  }

  /** Adds a CONTINUATION frame; returns the whole block on END_HEADERS. */
  continuation(streamId: number, fragment: Uint8Array, endHeaders: boolean): HeaderBlock | null {
    const cur = this.#current;
    if (cur === null) {
      throw new Http2ConnectionError(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without HEADERS");
    }
    if (cur.streamId !== streamId) {
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `CONTINUATION on stream ${streamId} inside the header block of stream ${cur.streamId}`,
      );
    }
    this.#parts.push(fragment);
    this.#count(fragment);
    return endHeaders ? this.#finish() : null;
  }

  #count(fragment: Uint8Array): void {
    this.#bytes += fragment.length;
    this.#frames++;
    const { maxHeaderBlockBytes, maxHeaderBlockFrames } = this.#limits;
    if (this.#bytes > maxHeaderBlockBytes) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `header block larger than ${maxHeaderBlockBytes} bytes`,
      );
    }
    if (this.#frames > maxHeaderBlockFrames) {
      throw new Http2ConnectionError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `header block split over more than ${maxHeaderBlockFrames} frames`,
      );
    }
  }

  #finish(): HeaderBlock {
    const cur = this.#current!;
    this.#current = null;
    const parts = this.#parts;
    this.#parts = [];
    if (parts.length === 1) {
      // Copy: the fragment is a view into received bytes that may be reused.
      return { ...cur, block: parts[0] };
    }
    const block = new Uint8Array(this.#bytes);
    let o = 0;
    for (const p of parts) {
      block.set(p, o);
      o += p.length;
    }
    return { ...cur, block };
  }
}
