/**
 * HTTP/2 frames (RFC 9113 sections 4 and 6): a reader that turns bytes into frames, checking each
 * frame's layout, and serializers for every frame type. The reader knows nothing of streams or
 * settings beyond the largest frame it accepts; the connection gives frames their meaning.
 */
import { ErrorCode, Http2ConnectionError, Http2StreamError } from "./errors.ts";

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flags = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const FRAME_HEADER_LENGTH = 9;
/** Smallest and largest values of SETTINGS_MAX_FRAME_SIZE (RFC 9113 6.5.2). */
export const MIN_MAX_FRAME_SIZE = 16384;
export const MAX_MAX_FRAME_SIZE = 16777215;
const MAX_STREAM_ID = 0x7fffffff;

/** Priority information of HEADERS and PRIORITY frames; parsed, then ignored (RFC 9113 5.3.2). */
export interface Priority {
  dependency: number;
  exclusive: boolean;
  weight: number;
}

export type Frame =
  /** `padLength` is the number of padding bytes when the frame was PADDED. */
  | { type: "data"; streamId: number; data: Uint8Array; endStream: boolean; padLength?: number }
  | {
    type: "headers";
    streamId: number;
    block: Uint8Array;
    endStream: boolean;
    endHeaders: boolean;
    priority?: Priority;
    padLength?: number;
  }
  | { type: "priority"; streamId: number; priority: Priority }
  | { type: "rst_stream"; streamId: number; code: number }
  | { type: "settings"; ack: boolean; settings: [id: number, value: number][] }
  | {
    type: "push_promise";
    streamId: number;
    promisedStreamId: number;
    block: Uint8Array;
    endHeaders: boolean;
    padLength?: number;
  }
  | { type: "ping"; ack: boolean; data: Uint8Array }
  | { type: "goaway"; lastStreamId: number; code: number; debug: Uint8Array }
  | { type: "window_update"; streamId: number; increment: number }
  | { type: "continuation"; streamId: number; block: Uint8Array; endHeaders: boolean }
  /** A frame type this codec does not know: ignored, as RFC 9113 4.1 and 5.5 require. */
  | { type: "unknown"; frameType: number; streamId: number; flags: number; payload: Uint8Array };

/** Bytes a received frame counts against flow-control windows (its whole payload, 6.9). */
export function flowControlledLength(f: Frame & { type: "data" }): number {
  return f.data.length + (f.padLength === undefined ? 0 : f.padLength + 1);
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}

function connError(code: number, message: string): Http2ConnectionError {
  return new Http2ConnectionError(code, message);
}

/**
 * Reads frames from bytes. Feed bytes with `feed` and pull frames with `next` until it returns
 * null. A frame larger than `maxFrameSize` fails as soon as its header is read, before its
 * payload is buffered.
 *
 * Frame payloads are views into the received chunks. Only a frame split across chunks is copied,
 * into a buffer of exactly its size: copying the whole next chunk along with it (a bulk transfer
 * splits a frame at nearly every read) would allocate the stream's every byte twice, garbage the
 * collector returns late.
 */
export class FrameReader {
  /** Received chunks not parsed yet; the first from `#offset`. */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #queued = 0;
  /** A frame split across chunks, being assembled (its header first, then the whole frame). */
  #partial: Uint8Array | null = null;
  #partialFill = 0;
  /** Our SETTINGS_MAX_FRAME_SIZE: the largest payload we accept. */
  maxFrameSize: number = MIN_MAX_FRAME_SIZE;

  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
  }

  get bufferedLength(): number {
    return this.#queued + this.#partialFill;
  }

  next(): Frame | null {
    if (this.#partial === null) {
      const head = this.#chunks[0];
      if (head === undefined) return null;
      const at = this.#offset;
      const available = head.length - at;
      if (available >= FRAME_HEADER_LENGTH) {
        const length = this.#checkedLength(head, at);
        const size = FRAME_HEADER_LENGTH + length;
        if (available >= size) {
          this.#consume(size);
          return parseFrame(head, at, length);
        }
        this.#partial = new Uint8Array(size);
      } else {
        this.#partial = new Uint8Array(FRAME_HEADER_LENGTH);
      }
    }
    // A frame split across chunks: copy its pieces in, the header first to learn its size.
    for (;;) {
      let partial: Uint8Array = this.#partial;
      this.#fill(partial);
      if (this.#partialFill < partial.length) return null;
      if (partial.length === FRAME_HEADER_LENGTH) {
        const length = this.#checkedLength(partial, 0);
        if (length > 0) {
          partial = new Uint8Array(FRAME_HEADER_LENGTH + length);
          partial.set(this.#partial, 0);
          this.#partial = partial;
          continue;
        }
      }
      this.#partial = null;
      this.#partialFill = 0;
      return parseFrame(partial, 0, partial.length - FRAME_HEADER_LENGTH);
    }
  }

  /** The payload length in the frame header at `at`, refused when over our limit. */
  #checkedLength(b: Uint8Array, at: number): number {
    const length = (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];
    if (length > this.maxFrameSize) {
      throw connError(
        ErrorCode.FRAME_SIZE_ERROR,
        `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`,
      );
    }
    return length;
  }

  /** Copies queued bytes into the partial frame until it is full or nothing is queued. */
  #fill(partial: Uint8Array): void {
    while (this.#partialFill < partial.length && this.#chunks.length > 0) {
      const head = this.#chunks[0];
      const n = Math.min(partial.length - this.#partialFill, head.length - this.#offset);
      partial.set(head.subarray(this.#offset, this.#offset + n), this.#partialFill);
      this.#partialFill += n;
      this.#consume(n);
    }
  }

  /** Drops `n` bytes (at most the rest of the first chunk): a consumed chunk is let go at once. */
  #consume(n: number): void {
    this.#offset += n;
    this.#queued -= n;
    if (this.#offset === this.#chunks[0].length) {
      this.#chunks.shift();
      this.#offset = 0;
    }
  }
}

/** The frame whose 9-byte header starts at `at` in `b` (its payload is a view of `b`). */
function parseFrame(b: Uint8Array, at: number, length: number): Frame {
  const type = b[at + 3];
  const flags = b[at + 4];
  const streamId = u32(b, at + 5) & MAX_STREAM_ID; // the reserved bit is ignored (4.1)
  const start = at + FRAME_HEADER_LENGTH;
  return parsePayload(type, flags, streamId, b.subarray(start, start + length));
}

/** Strips padding (6.1): returns the content and the padding length, or fails. */
function unpad(
  name: string,
  flags: number,
  payload: Uint8Array,
): { content: Uint8Array; padLength?: number } {
  if ((flags & Flags.PADDED) === 0) return { content: payload };
  if (payload.length < 1) {
    throw connError(ErrorCode.FRAME_SIZE_ERROR, `padded ${name} frame has no pad length`);
  }
  const padLength = payload[0];
  if (padLength >= payload.length) {
    throw connError(ErrorCode.PROTOCOL_ERROR, `${name} frame padding is longer than its payload`);
  }
  return { content: payload.subarray(1, payload.length - padLength), padLength };
}

function readPriority(p: Uint8Array, i: number): Priority {
  const word = u32(p, i);
  return {
    dependency: word & MAX_STREAM_ID,
    exclusive: (word & 0x80000000) !== 0,
    weight: p[i + 4] + 1,
  };
}

function requireStream(name: string, streamId: number): void {
  if (streamId === 0) throw connError(ErrorCode.PROTOCOL_ERROR, `${name} frame on stream 0`);
}

function requireConnection(name: string, streamId: number): void {
  if (streamId !== 0) {
    throw connError(ErrorCode.PROTOCOL_ERROR, `${name} frame on stream ${streamId}, not 0`);
  }
}

function parsePayload(type: number, flags: number, streamId: number, p: Uint8Array): Frame {
  switch (type) {
    case FrameType.DATA: {
      requireStream("DATA", streamId);
      const { content, padLength } = unpad("DATA", flags, p);
      const f: Frame = { type: "data", streamId, data: content, endStream: (flags & 1) !== 0 };
      if (padLength !== undefined) f.padLength = padLength;
      return f;
    }
    case FrameType.HEADERS: {
      requireStream("HEADERS", streamId);
      const { content, padLength } = unpad("HEADERS", flags, p);
      const f: Frame = {
        type: "headers",
        streamId,
        block: content,
        endStream: (flags & Flags.END_STREAM) !== 0,
        endHeaders: (flags & Flags.END_HEADERS) !== 0,
      };
      if (flags & Flags.PRIORITY) {
        if (content.length < 5) {
          throw connError(ErrorCode.FRAME_SIZE_ERROR, "HEADERS frame too short for its priority");
        }
        f.priority = readPriority(content, 0);
        f.block = content.subarray(5);
      }
      if (padLength !== undefined) f.padLength = padLength;
      return f;
    }
    case FrameType.PRIORITY:
      requireStream("PRIORITY", streamId);
      if (p.length !== 5) {
        throw new Http2StreamError(
          streamId,
          ErrorCode.FRAME_SIZE_ERROR,
          `PRIORITY frame of ${p.length} bytes, not 5`,
        );
      }
      return { type: "priority", streamId, priority: readPriority(p, 0) };
    case FrameType.RST_STREAM:
      requireStream("RST_STREAM", streamId);
      if (p.length !== 4) {
        throw connError(ErrorCode.FRAME_SIZE_ERROR, `RST_STREAM frame of ${p.length} bytes, not 4`);
      }
      return { type: "rst_stream", streamId, code: u32(p, 0) };
    case FrameType.SETTINGS: {
      requireConnection("SETTINGS", streamId);
      const ack = (flags & Flags.ACK) !== 0;
      if (ack && p.length !== 0) {
        throw connError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS acknowledgement with a payload");
      }
      if (p.length % 6 !== 0) {
        throw connError(
          ErrorCode.FRAME_SIZE_ERROR,
          `SETTINGS frame of ${p.length} bytes, not a multiple of 6`,
        );
      }
      const settings: [number, number][] = [];
      for (let i = 0; i < p.length; i += 6) settings.push([(p[i] << 8) | p[i + 1], u32(p, i + 2)]);
      return { type: "settings", ack, settings };
    }
    case FrameType.PUSH_PROMISE: {
      requireStream("PUSH_PROMISE", streamId);
      const { content, padLength } = unpad("PUSH_PROMISE", flags, p);
      if (content.length < 4) {
        throw connError(ErrorCode.FRAME_SIZE_ERROR, "PUSH_PROMISE frame too short");
      }
      const f: Frame = {
        type: "push_promise",
        streamId,
        promisedStreamId: u32(content, 0) & MAX_STREAM_ID,
        block: content.subarray(4),
        endHeaders: (flags & Flags.END_HEADERS) !== 0,
      };
      if (padLength !== undefined) f.padLength = padLength;
      return f;
    }
    case FrameType.PING:
      requireConnection("PING", streamId);
      if (p.length !== 8) {
        throw connError(ErrorCode.FRAME_SIZE_ERROR, `PING frame of ${p.length} bytes, not 8`);
      }
      return { type: "ping", ack: (flags & Flags.ACK) !== 0, data: p };
    case FrameType.GOAWAY:
      requireConnection("GOAWAY", streamId);
      if (p.length < 8) {
        throw connError(ErrorCode.FRAME_SIZE_ERROR, `GOAWAY frame of ${p.length} bytes`);
      }
      return {
        type: "goaway",
        lastStreamId: u32(p, 0) & MAX_STREAM_ID,
        code: u32(p, 4),
        debug: p.subarray(8),
      };
    case FrameType.WINDOW_UPDATE:
      if (p.length !== 4) {
        throw connError(
          ErrorCode.FRAME_SIZE_ERROR,
          `WINDOW_UPDATE frame of ${p.length} bytes, not 4`,
        );
      }
      return { type: "window_update", streamId, increment: u32(p, 0) & MAX_STREAM_ID };
    case FrameType.CONTINUATION:
      requireStream("CONTINUATION", streamId);
      return {
        type: "continuation",
        streamId,
        block: p,
        endHeaders: (flags & Flags.END_HEADERS) !== 0,
      };
    default:
      return { type: "unknown", frameType: type, streamId, flags, payload: p };
  }
}

// ---- serializing ----

function header(out: Uint8Array, length: number, type: number, flags: number, streamId: number) {
  out[0] = length >>> 16;
  out[1] = (length >>> 8) & 0xff;
  out[2] = length & 0xff;
  out[3] = type;
  out[4] = flags;
  out[5] = (streamId >>> 24) & 0x7f;
  out[6] = (streamId >>> 16) & 0xff;
  out[7] = (streamId >>> 8) & 0xff;
  out[8] = streamId & 0xff;
}

/** The 9-byte header of a DATA frame whose payload is written separately. */
export function dataFrameHeader(streamId: number, length: number, endStream: boolean): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH);
  header(out, length, FrameType.DATA, endStream ? Flags.END_STREAM : 0, streamId);
  return out;
}

function putU32(out: Uint8Array, i: number, v: number): void {
  out[i] = v >>> 24;
  out[i + 1] = (v >>> 16) & 0xff;
  out[i + 2] = (v >>> 8) & 0xff;
  out[i + 3] = v & 0xff;
}

/**
 * One frame with an optional padding and priority prefix around `content`: the layout shared by
 * DATA, HEADERS and PUSH_PROMISE. Padding bytes are zero (6.1).
 */
function padded(
  type: number,
  flags: number,
  streamId: number,
  prefix: Uint8Array | null,
  content: Uint8Array,
  padLength: number | undefined,
): Uint8Array {
  const pad = padLength === undefined ? 0 : padLength + 1;
  const pre = prefix === null ? 0 : prefix.length;
  const length = pad + pre + content.length;
  const out = new Uint8Array(FRAME_HEADER_LENGTH + length);
  header(out, length, type, flags | (padLength === undefined ? 0 : Flags.PADDED), streamId);
  let o = FRAME_HEADER_LENGTH;
  if (padLength !== undefined) out[o++] = padLength;
  if (prefix !== null) {
    out.set(prefix, o);
    o += prefix.length;
  }
  out.set(content, o);
  return out;
}

function priorityBytes(p: Priority): Uint8Array {
  const out = new Uint8Array(5);
  putU32(out, 0, (p.dependency | (p.exclusive ? 0x80000000 : 0)) >>> 0);
  out[4] = p.weight - 1;
  return out;
}

/** Serializes any frame (the inverse of {@link FrameReader.next}). */
export function serializeFrame(f: Frame): Uint8Array {
  switch (f.type) {
    case "data":
      return padded(FrameType.DATA, f.endStream ? 1 : 0, f.streamId, null, f.data, f.padLength);
    case "headers": {
      const flags = (f.endStream ? Flags.END_STREAM : 0) | (f.endHeaders ? Flags.END_HEADERS : 0) |
        (f.priority ? Flags.PRIORITY : 0);
      const prefix = f.priority ? priorityBytes(f.priority) : null;
      return padded(FrameType.HEADERS, flags, f.streamId, prefix, f.block, f.padLength);
    }
    case "priority":
      return padded(FrameType.PRIORITY, 0, f.streamId, null, priorityBytes(f.priority), undefined);
    case "rst_stream": {
      const out = new Uint8Array(FRAME_HEADER_LENGTH + 4);
      header(out, 4, FrameType.RST_STREAM, 0, f.streamId);
      putU32(out, 9, f.code);
      return out;
    }
    case "settings": {
      const out = new Uint8Array(FRAME_HEADER_LENGTH + 6 * f.settings.length);
      header(out, 6 * f.settings.length, FrameType.SETTINGS, f.ack ? Flags.ACK : 0, 0);
      f.settings.forEach(([id, value], i) => {
        out[9 + 6 * i] = id >>> 8;
        out[10 + 6 * i] = id & 0xff;
        putU32(out, 11 + 6 * i, value);
      });
      return out;
    }
    case "push_promise": {
      const id = new Uint8Array(4);
      putU32(id, 0, f.promisedStreamId);
      const flags = f.endHeaders ? Flags.END_HEADERS : 0;
      return padded(FrameType.PUSH_PROMISE, flags, f.streamId, id, f.block, f.padLength);
    }
    case "ping":
      return padded(FrameType.PING, f.ack ? Flags.ACK : 0, 0, null, f.data, undefined);
    case "goaway": {
      const out = new Uint8Array(FRAME_HEADER_LENGTH + 8 + f.debug.length);
      header(out, 8 + f.debug.length, FrameType.GOAWAY, 0, 0);
      putU32(out, 9, f.lastStreamId);
      putU32(out, 13, f.code);
      out.set(f.debug, 17);
      return out;
    }
    case "window_update": {
      const out = new Uint8Array(FRAME_HEADER_LENGTH + 4);
      header(out, 4, FrameType.WINDOW_UPDATE, 0, f.streamId);
      putU32(out, 9, f.increment);
      return out;
    }
    case "continuation": {
      const flags = f.endHeaders ? Flags.END_HEADERS : 0;
      return padded(FrameType.CONTINUATION, flags, f.streamId, null, f.block, undefined);
    }
    case "unknown":
      return padded(f.frameType, f.flags, f.streamId, null, f.payload, undefined);
  }
}
