/**
 * Message readers: bytes in, events out. Feed bytes with `feed`, the end of input with
 * `feedEof`, and pull events with `next` until it returns null ("need more data"). Nothing past
 * the current message is consumed: after its `end` event the rest stays buffered for the next
 * message, or for `takeBuffered` when the connection switches protocols.
 *
 * ```ts
 * const r = new RequestReader();
 * r.feed(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * r.next(); // { type: "head", head: { method: "GET", ... } }
 * r.next(); // { type: "end", trailers: null }
 * r.next(); // null: waiting for the next request
 * ```
 */
import { type BodyEnd, type BodyReader, bodyReader } from "./body.ts";
import { HttpError } from "./errors.ts";
import { type Framing, requestFraming, responseFraming } from "./framing.ts";
import {
  DEFAULT_LIMITS,
  type HeadLimits,
  HeadScanner,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
  type ResponseHead,
} from "./head.ts";
import type { HeaderList } from "../http/headers.ts";
import { ReceiveBuffer } from "./receive_buffer.ts";

export type ReadEvent<H> =
  | { type: "head"; head: H }
  | { type: "data"; data: Uint8Array }
  | { type: "end"; trailers: HeaderList | null }
  /** The peer closed the connection cleanly between messages. */
  | { type: "closed" };

const CLOSED = Object.freeze({ type: "closed" as const });

abstract class MessageReader<H> {
  protected readonly buf: ReceiveBuffer = new ReceiveBuffer();
  protected readonly limits: HeadLimits;
  #scanner: HeadScanner;
  #body: BodyReader | null = null;
  #eof = false;
  #framing: Framing | null = null;

  constructor(limits: Partial<HeadLimits>, status: number, tooLargeStatus: number, what: string) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const max = this.limits.maxHeadBytes;
    this.#scanner = new HeadScanner(
      max,
      status,
      () => new HttpError(tooLargeStatus, `${what} head is larger than ${max} bytes`),
      true,
      status === 502, // responses may end lines with a bare LF
    );
  }

  /** Framing of the message being read (valid after its head event). */
  get framing(): Framing | null {
    return this.#framing;
  }

  /** Bytes received past the messages read so far. */
  get bufferedLength(): number {
    return this.buf.length;
  }

  feed(chunk: Uint8Array): void {
    this.buf.push(chunk);
  }

  feedEof(): void {
    this.#eof = true;
  }

  /** Removes and returns every buffered byte (for a tunnel after CONNECT or 101). */
  takeBuffered(): Uint8Array {
    return this.buf.takeAll();
  }

  next(): ReadEvent<H> | null {
    const body = this.#body;
    if (body !== null) {
      const step = body.next(this.buf);
      if (step === null) {
        if (!this.#eof) return null;
        return this.#end(body.eof());
      }
      if (step instanceof Uint8Array) return { type: "data", data: step };
      return this.#end(step);
    }
    if (!this.canStart()) return null;
    const size = this.#scanner.scan(this.buf);
    if (size < 0) {
      if (!this.#eof) return null;
      if (this.buf.length === 0) return CLOSED;
      throw this.truncated();
    }
    const b = this.buf.bytes;
    const s = this.buf.start;
    const head = this.parseHead(b, s, s + size);
    this.buf.skip(size);
    const framing = this.frame(head);
    this.#framing = framing;
    this.#body = bodyReader(framing, this.errorStatus, this.limits);
    return { type: "head", head };
  }

  #end(end: BodyEnd): ReadEvent<H> {
    this.#body = null;
    this.messageDone();
    return { type: "end", trailers: end.trailers };
  }

  protected abstract get errorStatus(): number;
  protected abstract parseHead(b: Uint8Array, start: number, end: number): H;
  protected abstract frame(head: H): Framing;
  protected abstract truncated(): HttpError;
  /** Whether a new message may begin (responses need an outstanding request). */
  protected canStart(): boolean {
    return true;
  }
  protected messageDone(): void {}
}

/** Reads requests from a client (the server side of a connection). Errors are 400/431/505. */
export class RequestReader extends MessageReader<RequestHead> {
  constructor(limits: Partial<HeadLimits> = {}) {
    super(limits, 400, 431, "request");
  }
  protected get errorStatus(): number {
    return 400;
  }
  protected parseHead(b: Uint8Array, start: number, end: number): RequestHead {
    return parseRequestHead(b, start, end, this.limits);
  }
  protected frame(head: RequestHead): Framing {
    return requestFraming(head);
  }
  protected truncated(): HttpError {
    return new HttpError(400, "connection closed in the middle of the request head");
  }
}

/**
 * Reads responses from an origin (the client side of a connection). Call `expect(method)` before
 * each response; 1xx interim responses (except 101) are followed by the final response to the
 * same request. Errors are 502.
 */
export class ResponseReader extends MessageReader<ResponseHead> {
  #method: string | null = null;
  #switched = false;

  constructor(limits: Partial<HeadLimits> = {}) {
    super(limits, 502, 502, "response");
  }

  /** Announces the method of the request whose response comes next. */
  expect(method: string): void {
    this.#method = method;
  }

  /** True once a 101 or a 2xx to CONNECT was read: the rest is not HTTP. */
  get switched(): boolean {
    return this.#switched;
  }

  protected get errorStatus(): number {
    return 502;
  }
  protected override canStart(): boolean {
    return this.#method !== null && !this.#switched;
  }
  protected parseHead(b: Uint8Array, start: number, end: number): ResponseHead {
    return parseResponseHead(b, start, end, this.limits);
  }
  protected frame(head: ResponseHead): Framing {
    const framing = responseFraming(head, this.#method!);
    if (framing.kind === "switch") this.#switched = true;
    else if (head.status >= 200) this.#method = null;
    return framing;
  }
  protected truncated(): HttpError {
    return new HttpError(502, "origin closed the connection in the middle of the response head");
  }
}
