/**
 * Shared helpers for the http1 codec tests, in the spirit of h11's tests/test_io.py: every input
 * is fed (1) all at once, (2) one byte at a time and (3) followed by the start of another message,
 * and the same events must come out each time.
 */
import assert from "node:assert/strict";
import {
  type HeadLimits,
  HttpError,
  latin1,
  type ReadEvent,
  type RequestHead,
  RequestReader,
  type ResponseHead,
  ResponseReader,
} from "../../src/http1/mod.ts";

/** Bytes of a string, one byte per char (so "\xff" is the byte 0xff). */
export function b(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Error(`b(): char ${c} does not fit in a byte`);
    out[i] = c;
  }
  return out;
}

/** The inverse of {@link b}. */
export function s(bytes: Uint8Array): string {
  return latin1(bytes);
}

/** Concatenated bytes of several arrays, as a string. */
export function joined(parts: readonly Uint8Array[]): string {
  return parts.map((p) => latin1(p)).join("");
}

/** Events with heads turned into plain objects and bodies into strings, for deepEqual. */
export type Norm =
  | { type: "head"; head: Record<string, unknown> }
  | { type: "data"; data: string }
  | { type: "end"; trailers: string[] | null }
  | { type: "closed" };

export type AnyHead = RequestHead | ResponseHead;

export function normHead(head: AnyHead): Record<string, unknown> {
  if ("method" in head) {
    return {
      method: head.method,
      target: head.target,
      version: head.version,
      headers: head.headers.raw.slice(),
    };
  }
  return {
    version: head.version,
    status: head.status,
    reason: head.reason,
    headers: head.headers.raw.slice(),
  };
}

// Shorthands for expected events.
export function reqHead(
  method: string,
  target: string,
  headers: string[] = [],
  version = "HTTP/1.1",
): Norm {
  return { type: "head", head: { method, target, version, headers } };
}
export function resHead(
  status: number,
  reason: string,
  headers: string[] = [],
  version = "HTTP/1.1",
): Norm {
  return { type: "head", head: { version, status, reason, headers } };
}
export function data(text: string): Norm {
  return { type: "data", data: text };
}
export function end(trailers: string[] | null = null): Norm {
  return { type: "end", trailers };
}
export const CLOSED: Norm = { type: "closed" };

/**
 * Turns raw events into Norm events. Data events are kept as views until the very end (so a
 * buffer that overwrote bytes it had handed out would be caught) and adjacent ones are merged,
 * since chunk boundaries depend on how the input was split.
 */
export function normalize(events: ReadEvent<AnyHead>[]): Norm[] {
  const out: Norm[] = [];
  for (const ev of events) {
    if (ev.type === "data") {
      assert.ok(ev.data.length > 0, "data events are never empty");
      const text = latin1(ev.data);
      const last = out[out.length - 1];
      if (last !== undefined && last.type === "data") last.data += text;
      else out.push({ type: "data", data: text });
    } else if (ev.type === "head") {
      out.push({ type: "head", head: normHead(ev.head) });
    } else if (ev.type === "end") {
      out.push({ type: "end", trailers: ev.trailers === null ? null : ev.trailers.raw.slice() });
    } else {
      out.push({ type: "closed" });
    }
  }
  return out;
}

/**
 * A reader plus the bookkeeping a connection would do: for responses, `expect` is called with
 * the next method whenever a final response has ended.
 */
export interface Driver {
  reader: RequestReader | ResponseReader;
  /** Called after every event. */
  after(ev: ReadEvent<AnyHead>): void;
}

export function requestDriver(limits: Partial<HeadLimits> = {}): Driver {
  return { reader: new RequestReader(limits), after() {} };
}

/** A response reader that expects one response per method in `methods`, in order. */
export function responseDriver(methods: string[], limits: Partial<HeadLimits> = {}): Driver {
  const queue = methods.slice();
  const reader = new ResponseReader(limits);
  const first = queue.shift();
  if (first !== undefined) reader.expect(first);
  let lastStatus = 0;
  return {
    reader,
    after(ev) {
      if (ev.type === "head") lastStatus = (ev.head as ResponseHead).status;
      if (ev.type === "end" && lastStatus >= 200 && !reader.switched) {
        const m = queue.shift();
        if (m !== undefined) reader.expect(m);
      }
    },
  };
}

/** Pulls events until the reader needs more input (or reports "closed"). */
export function drain(d: Driver, into: ReadEvent<AnyHead>[]): void {
  for (let guard = 0; guard < 1_000_000; guard++) {
    const ev = d.reader.next();
    if (ev === null) return;
    into.push(ev);
    d.after(ev);
    if (ev.type === "closed") return;
  }
  throw new Error("reader never stopped producing events");
}

/**
 * Drains what is already buffered, feeds `chunks` one by one (draining after each), then EOF if
 * asked; returns the raw events.
 */
export function feedAll(d: Driver, chunks: Iterable<Uint8Array>, eof: boolean) {
  const events: ReadEvent<AnyHead>[] = [];
  drain(d, events); // anything already buffered
  for (const c of chunks) {
    d.reader.feed(c);
    drain(d, events);
  }
  if (eof) {
    d.reader.feedEof();
    drain(d, events);
  }
  return events;
}

export function* byteByByte(bytes: Uint8Array): Iterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

export function* splitAt(bytes: Uint8Array, cuts: number[]): Iterable<Uint8Array> {
  let prev = 0;
  for (const c of [...cuts].sort((x, y) => x - y)) {
    yield bytes.subarray(prev, c);
    prev = c;
  }
  yield bytes.subarray(prev);
}

/** Bytes that start another request (incomplete head: the reader must wait, not consume). */
export const NEXT_REQUEST = "GET /next HTTP/1.1\r\nHost: next.example\r\n";
/** A complete response that a response reader only reads once `expect` is called again. */
export const NEXT_RESPONSE = "HTTP/1.1 204 No Content\r\nX-Next: 1\r\n\r\n";

export interface CheckOptions {
  /** Feed EOF after the input (the trailing-bytes pass is then skipped). */
  eof?: boolean;
  /** Run the trailing-bytes pass (default: true unless eof). */
  trailing?: boolean;
}

/**
 * Feeds `input` all at once, byte by byte and with trailing bytes, and checks that each way
 * gives `expected` and, in the trailing case, that the trailing bytes were left alone.
 */
export function checkIO(
  make: () => Driver,
  input: string | Uint8Array,
  expected: Norm[],
  opts: CheckOptions = {},
): void {
  const bytes = typeof input === "string" ? b(input) : input;
  const eof = opts.eof ?? false;

  // (1) everything at once
  const all = normalize(feedAll(make(), [bytes], eof));
  assert.deepEqual(all, expected, "all at once");

  // (2) one byte at a time
  const one = normalize(feedAll(make(), byteByByte(bytes), eof));
  assert.deepEqual(one, expected, "byte by byte");

  // (3) followed by the start of another message: nothing past the message is consumed
  if (opts.trailing ?? !eof) checkTrailing(make, bytes, expected);
}

function checkTrailing(make: () => Driver, bytes: Uint8Array, expected: Norm[]): void {
  const d = make();
  const isRequest = d.reader instanceof RequestReader;
  const trailing = b(isRequest ? NEXT_REQUEST : NEXT_RESPONSE);
  const input = new Uint8Array(bytes.length + trailing.length);
  input.set(bytes, 0);
  input.set(trailing, bytes.length);

  for (
    const [label, chunks] of [
      ["trailing, at once", [input]],
      ["trailing, byte by byte", byteByByte(input)],
    ] as const
  ) {
    const dd = label === "trailing, at once" ? d : make();
    const events = normalize(feedAll(dd, chunks, false));
    assert.deepEqual(events, expected, label);
    assert.equal(dd.reader.bufferedLength, trailing.length, `${label}: trailing bytes kept`);
    if (dd.reader instanceof ResponseReader && dd.reader.switched) {
      // After a protocol switch the rest belongs to the tunnel.
      assert.equal(s(dd.reader.takeBuffered()), s(trailing), `${label}: takeBuffered`);
      assert.equal(dd.reader.bufferedLength, 0);
      assert.equal(dd.reader.next(), null, "nothing more after a switch");
    } else if (dd.reader instanceof RequestReader) {
      // The next request parses once its head is complete.
      const next = normalize(feedAll(dd, [b("\r\n")], false));
      assert.deepEqual(
        next,
        [reqHead("GET", "/next", ["Host", "next.example"]), end()],
        `${label}: next request`,
      );
    } else {
      // A response reader waits for `expect` before it reads the next response.
      assert.equal(dd.reader.next(), null, `${label}: waits for expect()`);
      dd.reader.expect("GET");
      const next = normalize(feedAll(dd, [], false));
      assert.deepEqual(
        next,
        [resHead(204, "No Content", ["X-Next", "1"]), end()],
        `${label}: next response`,
      );
    }
  }
}

/** Runs the reader over `chunks` (and EOF) and returns the error it throws. */
export function errorOf(
  d: Driver,
  chunks: Iterable<Uint8Array>,
  eof: boolean,
): { error: HttpError; events: Norm[] } {
  const events: ReadEvent<AnyHead>[] = [];
  try {
    for (const c of chunks) {
      d.reader.feed(c);
      drain(d, events);
    }
    if (eof) {
      d.reader.feedEof();
      drain(d, events);
    }
  } catch (e) {
    assert.ok(e instanceof HttpError, `expected HttpError, got ${e}`);
    return { error: e, events: normalize(events) };
  }
  assert.fail(`expected an HttpError; got events ${JSON.stringify(normalize(events))}`);
}

/** Asserts a message is a sensible one-line reason. */
export function assertOneLine(message: string): void {
  assert.ok(message.length > 0 && message.length < 200, `message length: ${message}`);
  assert.doesNotMatch(message, /[\r\n]/, "message is one line");
}

/**
 * Feeds `input` all at once and byte by byte (and, unless eof, with trailing bytes) and checks
 * that both ways fail with the same HttpError status and message.
 */
export function checkError(
  make: () => Driver,
  input: string | Uint8Array,
  status: number,
  message: RegExp,
  opts: { eof?: boolean } = {},
): HttpError {
  const bytes = typeof input === "string" ? b(input) : input;
  const eof = opts.eof ?? false;
  const a = errorOf(make(), [bytes], eof);
  assert.equal(a.error.status, status, `status (all at once): ${a.error.message}`);
  assert.match(a.error.message, message);
  assertOneLine(a.error.message);
  const o = errorOf(make(), byteByByte(bytes), eof);
  assert.equal(o.error.status, status, `status (byte by byte): ${o.error.message}`);
  assert.equal(o.error.message, a.error.message, "same message byte by byte");
  assert.deepEqual(o.events, a.events, "same events before the error");
  if (!eof) {
    const d = make();
    const trailing = b(d.reader instanceof RequestReader ? NEXT_REQUEST : NEXT_RESPONSE);
    const t = errorOf(d, [bytes, trailing], false);
    assert.equal(t.error.status, status, "status (with trailing bytes)");
    assert.equal(t.error.message, a.error.message, "same message with trailing bytes");
  }
  return a.error;
}

/** Small seeded PRNG (mulberry32), so random tests are reproducible without dependencies. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
