/**
 * Body readers (one small state object per framing, as in h11's _readers.py) and the matching
 * writer. Readers hand out views into the receive buffer, never copies.
 */
import { CR, CRLF, encodeString, LF } from "./bytes.ts";
import { ChunkLineScanner } from "./chunk_line.ts";
import { HttpError } from "./errors.ts";
import type { Framing } from "./framing.ts";
import { fieldsEnd, type HeadLimits, HeadScanner, parseFields, serializeFields } from "./head.ts";
import type { HeaderList } from "../http/headers.ts";
import type { ReceiveBuffer } from "./receive_buffer.ts";

/** The end of a body, with the trailer section of a chunked body if it had one. */
export interface BodyEnd {
  trailers: HeaderList | null;
}

/** A body chunk (a view), the end of the body, or null when more bytes are needed. */
export type BodyStep = Uint8Array | BodyEnd | null;

export interface BodyReader {
  next(buf: ReceiveBuffer): BodyStep;
  /** Called at end of input: returns the end of the body or throws if it was cut short. */
  eof(): BodyEnd;
}

const END: BodyEnd = Object.freeze({ trailers: null });

export class ContentLengthReader implements BodyReader {
  #remaining: number;
  readonly #length: number;
  readonly #status: number;

  constructor(length: number, status: number) {
    this.#length = this.#remaining = length;
    this.#status = status;
  }

  next(buf: ReceiveBuffer): BodyStep {
    if (this.#remaining === 0) return END;
    if (buf.length === 0) return null;
    const n = Math.min(this.#remaining, buf.length);
    this.#remaining -= n;
    return buf.take(n);
  }

  eof(): BodyEnd {
    if (this.#remaining === 0) return END;
    const got = this.#length - this.#remaining;
    throw new HttpError(
      this.#status,
      `connection closed after ${got} of ${this.#length} body bytes`,
    );
  }
}

export class UntilCloseReader implements BodyReader {
  next(buf: ReceiveBuffer): BodyStep {
    return buf.length === 0 ? null : buf.takeAll();
  }
  eof(): BodyEnd {
    return END;
  }
}

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailers,
  Done,
}

export class ChunkedReader implements BodyReader {
  #state = Chunk.Size;
  #remaining = 0;
  readonly #sizeLine: ChunkLineScanner;
  readonly #status: number;
  readonly #limits: HeadLimits;
  readonly #trailerScanner: HeadScanner;
  /** A response body: lines may end with a bare LF, as browsers read them. */
  readonly #bareLf: boolean;

  constructor(status: number, limits: HeadLimits, bareLf = false) {
    this.#status = status;
    this.#limits = limits;
    this.#bareLf = bareLf;
    this.#sizeLine = new ChunkLineScanner(status, bareLf);
    this.#trailerScanner = new HeadScanner(
      limits.maxHeadBytes,
      status,
      () => new HttpError(status, `trailer section is larger than ${limits.maxHeadBytes} bytes`),
      false,
      bareLf,
      "trailer line contains a CR not followed by LF",
    );
  }

  next(buf: ReceiveBuffer): BodyStep {
    for (;;) {
      switch (this.#state) {
        case Chunk.Size: {
          const line = this.#sizeLine;
          const size = line.scan(buf.bytes, buf.start, buf.end);
          if (size < 0) return null;
          buf.skip(line.lineLength);
          if (size === 0) {
            this.#state = Chunk.Trailers;
          } else {
            this.#remaining = size;
            this.#state = Chunk.Data;
          }
          continue;
        }
        case Chunk.Data: {
          if (buf.length === 0) return null;
          const n = Math.min(this.#remaining, buf.length);
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = Chunk.DataEnd;
          return buf.take(n);
        }
        case Chunk.DataEnd: {
          if (buf.length === 0) return null;
          const first = buf.bytes[buf.start];
          if (first === LF && this.#bareLf) {
            buf.skip(1);
          } else {
            if (first !== CR) throw this.#error(noCrlf);
            if (buf.length < 2) return null;
            if (buf.bytes[buf.start + 1] !== LF) throw this.#error(noCrlf);
            buf.skip(2);
          }
          this.#state = Chunk.Size;
          continue;
        }
        case Chunk.Trailers: {
          const size = this.#trailerScanner.scan(buf);
          if (size < 0) return null;
          this.#state = Chunk.Done;
          if (size <= 2) {
            buf.skip(size); // CRLF (or, in a response, LF): no trailers
            return END;
          }
          const s = buf.start;
          const trailers = parseFields(
            buf.bytes,
            s,
            fieldsEnd(buf.bytes, s, s + size),
            this.#limits.maxHeaderCount,
            this.#status,
            "trailer",
          );
          buf.skip(size);
          return { trailers };
        }
        case Chunk.Done:
          return END;
      }
    }
  }

  eof(): BodyEnd {
    if (this.#state === Chunk.Done) return END;
    throw this.#error("connection closed in the middle of a chunked body");
  }

  #error(message: string): HttpError {
    return new HttpError(this.#status, message);
  }
}

const noCrlf = "chunk data is not followed by CRLF";

/**
 * Counts the bytes of a body whose length is not declared up front and refuses it (413 for a
 * request, 502 for a response) as soon as it passes the limit, before handing out the excess.
 */
export class LimitedBodyReader implements BodyReader {
  readonly #inner: BodyReader;
  readonly #limit: number;
  readonly #tooLarge: () => HttpError;
  #seen = 0;

  constructor(inner: BodyReader, limit: number, tooLarge: () => HttpError) {
    this.#inner = inner;
    this.#limit = limit;
    this.#tooLarge = tooLarge;
  }

  next(buf: ReceiveBuffer): BodyStep {
    if (this.#seen > this.#limit) throw this.#tooLarge();
    const step = this.#inner.next(buf);
    if (!(step instanceof Uint8Array)) return step;
    const allowed = this.#limit - this.#seen;
    this.#seen += step.length;
    if (this.#seen <= this.#limit) return step;
    // Hand out exactly up to the limit, then fail: the same events however the input was split.
    if (allowed === 0) throw this.#tooLarge();
    return step.subarray(0, allowed);
  }

  eof(): BodyEnd {
    return this.#inner.eof();
  }
}

/** The error for a body over `limit` bytes: 413 for requests, 502 for responses. */
export function bodyTooLarge(isRequest: boolean, limit: number): HttpError {
  return isRequest
    ? new HttpError(413, `request body is larger than the proxy's limit of ${limit} bytes`)
    : new HttpError(502, `response body is larger than the proxy's limit of ${limit} bytes`);
}

/**
 * The reader for a framing; `status` is the error status for malformed input (400 or 502). With
 * a body limit, a declared length over it is refused here and other bodies are counted.
 */
export function bodyReader(framing: Framing, status: number, limits: HeadLimits): BodyReader {
  const limit = limits.maxBodyBytes ?? Infinity;
  if (limit === Infinity) return plainBodyReader(framing, status, limits);
  const tooLarge = () => bodyTooLarge(status !== 502, limit);
  if (framing.kind === "length" && framing.length > limit) throw tooLarge();
  const reader = plainBodyReader(framing, status, limits);
  return framing.kind === "chunked" || framing.kind === "close"
    ? new LimitedBodyReader(reader, limit, tooLarge)
    : reader;
}

function plainBodyReader(framing: Framing, status: number, limits: HeadLimits): BodyReader {
  switch (framing.kind) {
    case "length":
      return new ContentLengthReader(framing.length, status);
    case "chunked":
      return new ChunkedReader(status, limits, status === 502); // 502: a response
    case "close":
      return new UntilCloseReader();
    default:
      return new ContentLengthReader(0, status);
  }
}

// ---- writing ----

/**
 * Frames body bytes for the wire. Chunked bodies are re-chunked one chunk per piece of data, with
 * trailers passed through; other framings pass data unchanged.
 */
export class BodyWriter {
  readonly chunked: boolean;

  constructor(framing: Framing) {
    this.chunked = framing.kind === "chunked";
  }

  /** Appends the wire bytes for `data` to `out`. */
  data(data: Uint8Array, out: Uint8Array[]): void {
    if (data.length === 0) return;
    if (this.chunked) out.push(chunkHeader(data.length), data, CRLF);
    else out.push(data);
  }

  /** Appends the wire bytes that end the body. */
  end(trailers: HeaderList | null, out: Uint8Array[]): void {
    if (!this.chunked) return;
    out.push(LAST_CHUNK, serializeFields(trailers));
  }
}

const LAST_CHUNK = encodeString("0\r\n");

function chunkHeader(n: number): Uint8Array {
  return encodeString(n.toString(16) + "\r\n");
}
