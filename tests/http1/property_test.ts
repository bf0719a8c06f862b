/**
 * Property-based tests of the codec with fast-check: random valid messages survive
 * serialize -> random chunking -> parse unchanged, and random mutations of valid messages (or
 * plain random bytes) only ever raise the codec's own HttpError and always stop.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BodyWriter,
  type Framing,
  HeaderList,
  HttpError,
  latin1,
  type ReadEvent,
  RequestReader,
  ResponseReader,
  serializeFields,
  serializeRequestHead,
  serializeResponseHead,
} from "../../src/http1/mod.ts";
import { b, type Norm, normalize, requestDriver, responseDriver } from "./helpers.ts";

// ---- generators ----

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });

/** Names the framing and routing rules treat specially are generated only by the framing. */
const RESERVED = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade"]);
const fieldName = token.filter((n) => !RESERVED.has(n.toLowerCase()));

/** Any byte a value may hold: not NUL, CR or LF (tabs and other controls are kept as they are). */
const valueByte = fc.integer({ min: 1, max: 255 }).filter((c) => c !== 0x0a && c !== 0x0d);
/** A field value as the parser returns it: no leading or trailing space/tab. */
const fieldValue = fc.array(valueByte, { maxLength: 30 }).map((codes) =>
  String.fromCharCode(...codes).replace(/^[ \t]+|[ \t]+$/g, "")
);
const fields = fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 8, size: "medium" });

const pathChar = fc.constantFrom(..."abcXYZ019-._~%!$&'()*+,;=:@/?");
const originTarget = fc.string({ unit: pathChar, maxLength: 20 }).map((p) => "/" + p);

// fast-check keeps sizes small by default (about 10); chunk sizes need several hex digits.
const bodyBytes = fc.uint8Array({ maxLength: 300, size: "max" });

type Body =
  | { kind: "none" }
  | { kind: "length"; data: Uint8Array }
  | { kind: "chunked"; chunks: Uint8Array[]; trailers: [string, string][] };

const chunkedBody = fc.record({
  kind: fc.constant("chunked" as const),
  chunks: fc.array(bodyBytes, { maxLength: 5 }),
  trailers: fields,
});
const lengthBody = fc.record({ kind: fc.constant("length" as const), data: bodyBytes });

interface Req {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Body;
}

const request: fc.Arbitrary<Req> = fc.oneof(
  fc.record({
    method: token,
    target: originTarget,
    version: fc.constant("HTTP/1.1"),
    headers: fields,
    body: fc.oneof(fc.constant({ kind: "none" as const }), lengthBody, chunkedBody),
  }),
  // HTTP/1.0 has no chunked coding.
  fc.record({
    method: token,
    target: originTarget,
    version: fc.constant("HTTP/1.0"),
    headers: fields,
    body: fc.oneof(fc.constant({ kind: "none" as const }), lengthBody),
  }),
);

interface Res {
  status: number;
  reason: string;
  headers: [string, string][];
  body: Body;
}

const reasonPhrase = fc.array(fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f), {
  maxLength: 20,
}).map((codes) => String.fromCharCode(...codes));

const response: fc.Arbitrary<Res> = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  reason: reasonPhrase,
  headers: fields,
  body: fc.oneof(fc.constant({ kind: "none" as const }), lengthBody, chunkedBody),
});

/** Cut points for random chunking, as fractions of the input length. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

// ---- serializing the model ----

/** Header fields plus the framing fields for `body`; a bodiless response needs its length 0. */
function headersOf(list: [string, string][], body: Body, isResponse = false): HeaderList {
  const h = HeaderList.from(list);
  if (body.kind === "none" && isResponse) h.append("Content-Length", "0");
  if (body.kind === "length") h.append("Content-Length", String(body.data.length));
  if (body.kind === "chunked") h.append("Transfer-Encoding", "chunked");
  return h;
}

function framingOf(body: Body): Framing {
  if (body.kind === "chunked") return { kind: "chunked" };
  if (body.kind === "length") return { kind: "length", length: body.data.length };
  return { kind: "none" };
}

function bodyWire(body: Body): Uint8Array[] {
  const out: Uint8Array[] = [];
  const w = new BodyWriter(framingOf(body));
  if (body.kind === "length") w.data(body.data, out);
  if (body.kind === "chunked") {
    for (const c of body.chunks) w.data(c, out);
    w.end(body.trailers.length > 0 ? HeaderList.from(body.trailers) : null, out);
  }
  return out;
}

function serializeRequest(r: Req): Uint8Array[] {
  const head = serializeRequestHead({
    method: r.method,
    target: r.target,
    version: r.version,
    headers: headersOf(r.headers, r.body),
  });
  return [head, ...bodyWire(r.body)];
}

function serializeResponse(r: Res): Uint8Array[] {
  const head = serializeResponseHead({
    version: "HTTP/1.1",
    status: r.status,
    reason: r.reason,
    headers: headersOf(r.headers, r.body, true),
  });
  return [head, ...bodyWire(r.body)];
}

/** The events a reader must produce for a message (bodies merged, as normalize() does). */
function expectedEvents(head: Record<string, unknown>, body: Body): Norm[] {
  const out: Norm[] = [{ type: "head", head }];
  const data = body.kind === "length"
    ? body.data
    : body.kind === "chunked"
    ? concat(body.chunks)
    : new Uint8Array(0);
  if (data.length > 0) out.push({ type: "data", data: latin1(data) });
  const trailers = body.kind === "chunked" && body.trailers.length > 0
    ? body.trailers.flat()
    : null;
  out.push({ type: "end", trailers });
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function split(bytes: Uint8Array, fractions: number[]): Uint8Array[] {
  const points = fractions.map((f) => Math.floor(f * bytes.length)).sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** Feeds chunks (then EOF) and collects events; every loop is bounded. */
function run(
  d: { reader: RequestReader | ResponseReader; after(ev: ReadEvent<never>): void },
  chunks: Uint8Array[],
): ReadEvent<never>[] {
  const events: ReadEvent<never>[] = [];
  const drain = () => {
    for (let guard = 0;; guard++) {
      assert.ok(guard < 100_000, "the reader keeps producing events: it would never stop");
      const ev = d.reader.next() as ReadEvent<never> | null;
      if (ev === null) return;
      events.push(ev);
      d.after(ev);
      if (ev.type === "closed") return;
    }
  };
  for (const c of chunks) {
    d.reader.feed(c);
    drain();
  }
  d.reader.feedEof();
  drain();
  return events;
}

// ---- round trips ----

test("property: random requests round-trip through serialize and parse under random chunking", () => {
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), cuts, (reqs, at) => {
      const wire = concat(reqs.flatMap(serializeRequest));
      const events = normalize(run(requestDriver(), split(wire, at)));
      const expected = reqs.flatMap((r) =>
        expectedEvents(
          {
            method: r.method,
            target: r.target,
            version: r.version,
            headers: headersOf(r.headers, r.body).raw,
          },
          r.body,
        )
      );
      assert.deepEqual(events, [...expected, { type: "closed" }]);
    }),
    { numRuns: 300 },
  );
});

test("property: random responses round-trip through serialize and parse under random chunking", () => {
  fc.assert(
    fc.property(fc.array(response, { minLength: 1, maxLength: 3 }), cuts, (ress, at) => {
      const wire = concat(ress.flatMap(serializeResponse));
      const d = responseDriver(ress.map(() => "GET"));
      const events = normalize(run(d, split(wire, at)));
      const expected = ress.flatMap((r) =>
        expectedEvents(
          {
            version: "HTTP/1.1",
            status: r.status,
            reason: r.reason,
            headers: headersOf(r.headers, r.body, true).raw,
          },
          r.body,
        )
      );
      assert.deepEqual(events, expected);
    }),
    { numRuns: 300 },
  );
});

/** The bytes of `head` with every CRLF turned into LF (a head holds no other CR or LF). */
function lfOnly(head: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < head.length; i++) {
    if (head[i] === 0x0d && head[i + 1] === 0x0a) continue;
    out.push(head[i]);
  }
  return Uint8Array.from(out);
}

test("property: responses whose heads end lines with LF alone read the same as with CRLF", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(response, fc.boolean()), { minLength: 1, maxLength: 3 }),
      cuts,
      (ress, at) => {
        const crlf = concat(ress.flatMap(([r]) => serializeResponse(r)));
        const mixed = concat(ress.flatMap(([r, lf]) => {
          const [head, ...body] = serializeResponse(r);
          return [lf ? lfOnly(head) : head, ...body];
        }));
        const methods = ress.map(() => "GET");
        const expected = normalize(run(responseDriver(methods), [crlf]));
        assert.deepEqual(normalize(run(responseDriver(methods), split(mixed, at))), expected);
      },
    ),
    { numRuns: 300 },
  );
});

test("property: a close-delimited response body is everything until EOF", () => {
  fc.assert(
    fc.property(response, bodyBytes, cuts, (r, data, at) => {
      const head = serializeResponseHead({
        version: "HTTP/1.1",
        status: r.status,
        reason: r.reason,
        headers: HeaderList.from(r.headers),
      });
      const events = normalize(run(responseDriver(["GET"]), split(concat([head, data]), at)));
      const expected = expectedEvents(
        { version: "HTTP/1.1", status: r.status, reason: r.reason, headers: r.headers.flat() },
        { kind: "length", data },
      );
      assert.deepEqual(events, expected);
    }),
  );
});

test("property: trailers serialize and parse back unchanged", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fieldName, fieldValue), { minLength: 1, maxLength: 8 }), (t) => {
      const wire = concat([
        b("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"),
        serializeFields(HeaderList.from(t)),
      ]);
      const events = normalize(run(requestDriver(), [wire]));
      assert.deepEqual(events[1], { type: "end", trailers: t.flat() });
    }),
  );
});

// ---- mutations ----

type Mutation =
  | { op: "set"; at: number; byte: number }
  | { op: "insert"; at: number; byte: number }
  | { op: "delete"; at: number }
  | { op: "repeat"; at: number; length: number };

const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x2c, 0x3a, 0x3b, 0x30, 0x66, 0x7f, 0xff];
const mutationByte = fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 }));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: mutationByte }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), byte: mutationByte }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("repeat" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Array.from(input);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % bytes.length;
    if (m.op === "set" && bytes.length > 0) bytes[at] = m.byte;
    else if (m.op === "insert") bytes.splice(at, 0, m.byte);
    else if (m.op === "delete") bytes.splice(at, 1);
    else if (m.op === "repeat") bytes.splice(at, 0, ...bytes.slice(at, at + m.length));
  }
  if (bytes.length > 100_000) bytes = bytes.slice(0, 100_000);
  return Uint8Array.from(bytes);
}

/** Runs the reader to the end; returns the error it raised (asserting it is the codec's own). */
function outcome(
  d: { reader: RequestReader | ResponseReader; after(ev: ReadEvent<never>): void },
  chunks: Uint8Array[],
  statuses: number[],
): void {
  const input = chunks.reduce((n, c) => n + c.length, 0);
  let events: ReadEvent<never>[] = [];
  try {
    events = run(d, chunks);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e; // an assertion, a TypeError, a RangeError: a bug
    assert.ok(statuses.includes(e.status), `status ${e.status}: ${e.message}`);
    assert.ok(e.message.length > 0 && !/[\r\n]/.test(e.message), "one-line message");
    return;
  }
  // Whatever was accepted, no more body bytes come out than went in.
  let out = 0;
  for (const ev of events) if (ev.type === "data") out += ev.data.length;
  assert.ok(out <= input, `${out} body bytes from ${input} input bytes`);
}

test("property: mutated requests raise only HttpError (400/431/505) and always stop", () => {
  fc.assert(
    fc.property(
      fc.array(request, { minLength: 1, maxLength: 2 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      cuts,
      (reqs, ms, at) => {
        const wire = mutate(concat(reqs.flatMap(serializeRequest)), ms);
        outcome(requestDriver(), split(wire, at), [400, 431, 505]);
      },
    ),
    { numRuns: 1000 },
  );
});

test("property: mutated responses raise only HttpError (502) and always stop", () => {
  fc.assert(
    fc.property(
      fc.array(response, { minLength: 1, maxLength: 2 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      cuts,
      (ress, ms, at) => {
        const wire = mutate(concat(ress.flatMap(serializeResponse)), ms);
        outcome(responseDriver(ress.map(() => "GET")), split(wire, at), [502]);
      },
    ),
    { numRuns: 1000 },
  );
});

test("property: random bytes raise only HttpError and always stop", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), cuts, (bytes, at) => {
      outcome(requestDriver(), split(bytes, at), [400, 431, 505]);
      outcome(responseDriver(["GET", "HEAD"]), split(bytes, at), [502]);
    }),
    { numRuns: 1000 },
  );
});

test("property: small limits give 431 (or 400 for trailers), never anything else", () => {
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 2 }), cuts, (reqs, at) => {
      const wire = concat(reqs.flatMap(serializeRequest));
      const limits = { maxHeadBytes: 64, maxHeaderCount: 2 };
      // 431 for a head or header count over the limit, 400 for an oversized trailer section.
      outcome(requestDriver(limits), split(wire, at), [400, 431]);
    }),
  );
});
