/** Shared helpers for the HTTP/2 codec tests. */
import {
  ErrorCode,
  type Frame,
  FrameReader,
  HpackEncoder,
  Http2Connection,
  type Http2ConnectionOptions,
  type Http2Event,
  PREFACE,
  serializeFrame,
} from "../../src/http2/mod.ts";

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes of a string, one byte per char. */
export function b(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function* byteByByte(bytes: Uint8Array): Iterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
}

/** Splits `bytes` at the given cut points (any order, duplicates allowed). */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((x, y) => x - y)) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

// ---- driving connections ----

/** Parses everything a connection wants to send into frames (skipping a client preface). */
export function framesOut(conn: Http2Connection, reader = new FrameReader()): Frame[] {
  let bytes = conn.dataToSend();
  if (conn.role === "client" && startsWith(bytes, PREFACE)) bytes = bytes.subarray(PREFACE.length);
  reader.maxFrameSize = 16777215;
  reader.feed(bytes);
  const out: Frame[] = [];
  for (let f = reader.next(); f !== null; f = reader.next()) out.push(f);
  return out;
}

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  if (a.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (a[i] !== prefix[i]) return false;
  return true;
}

export const GET: [string, string][] = [
  [":method", "GET"],
  [":scheme", "http"],
  [":path", "/"],
  [":authority", "example.test"],
];

/**
 * A hand-driven client talking raw frames to a server connection, as h2spec does: it sends the
 * preface and SETTINGS, then whatever frames a test builds, and reads back the server's frames.
 */
export class RawClient {
  readonly server: Http2Connection;
  readonly encoder = new HpackEncoder();
  readonly events: Http2Event[] = [];
  readonly #reader = new FrameReader();

  constructor(opts: Partial<Http2ConnectionOptions> = {}, handshake = true) {
    this.server = new Http2Connection({ role: "server", ...opts });
    if (handshake) {
      this.sendBytes(PREFACE);
      this.send({ type: "settings", ack: false, settings: [] });
      this.send({ type: "settings", ack: true, settings: [] });
      this.read();
    }
  }

  sendBytes(bytes: Uint8Array): Http2Event[] {
    const ev = this.server.receive(bytes);
    this.events.push(...ev);
    return ev;
  }

  send(...frames: Frame[]): Http2Event[] {
    return this.sendBytes(concat(...frames.map(serializeFrame)));
  }

  /** HEADERS with a header list encoded by this client's encoder. */
  headers(
    streamId: number,
    fields: [string, string][],
    endStream = true,
    endHeaders = true,
  ): Frame {
    return { type: "headers", streamId, block: this.encoder.encode(fields), endStream, endHeaders };
  }

  /** Frames the server sent since the last read. */
  read(): Frame[] {
    const bytes = this.server.dataToSend();
    this.#reader.maxFrameSize = 16777215;
    this.#reader.feed(bytes);
    const out: Frame[] = [];
    for (let f = this.#reader.next(); f !== null; f = this.#reader.next()) out.push(f);
    return out;
  }

  /** The GOAWAY the server sent, if any. */
  goaway(): (Frame & { type: "goaway" }) | undefined {
    return this.read().find((f) => f.type === "goaway") as (Frame & { type: "goaway" }) | undefined;
  }
}

/** Asserts the server answered with GOAWAY of `code`. */
export function expectGoaway(frames: Frame[], code: number): Frame & { type: "goaway" } {
  const g = frames.find((f) => f.type === "goaway") as (Frame & { type: "goaway" }) | undefined;
  if (g === undefined) throw new Error(`expected GOAWAY ${code}, got ${frames.map((f) => f.type)}`);
  if (g.code !== code) {
    throw new Error(
      `expected GOAWAY code ${code}, got ${g.code}: ${String.fromCharCode(...g.debug)}`,
    );
  }
  return g;
}

/** Asserts the server answered with RST_STREAM of `code` on `streamId` and no GOAWAY. */
export function expectReset(frames: Frame[], streamId: number, code: number): void {
  const g = frames.find((f) => f.type === "goaway") as (Frame & { type: "goaway" }) | undefined;
  if (g !== undefined) {
    throw new Error(
      `expected RST_STREAM, got GOAWAY ${g.code}: ${String.fromCharCode(...g.debug)}`,
    );
  }
  const r = frames.find((f) => f.type === "rst_stream" && f.streamId === streamId) as
    | (Frame & { type: "rst_stream" })
    | undefined;
  if (r === undefined) {
    throw new Error(`expected RST_STREAM on ${streamId}, got ${frames.map((f) => f.type)}`);
  }
  if (r.code !== code) throw new Error(`expected RST_STREAM code ${code}, got ${r.code}`);
}

/** Moves bytes both ways between two connections until neither has anything to send. */
export function pump(
  client: Http2Connection,
  server: Http2Connection,
  clientEvents: Http2Event[] = [],
  serverEvents: Http2Event[] = [],
  onServerEvent?: (ev: Http2Event) => void,
  onClientEvent?: (ev: Http2Event) => void,
): void {
  for (let i = 0; i < 10000; i++) {
    const c = client.dataToSend();
    const s = server.dataToSend();
    if (c.length === 0 && s.length === 0) return;
    for (const ev of server.receive(c)) {
      serverEvents.push(ev);
      onServerEvent?.(ev);
    }
    for (const ev of client.receive(s)) {
      clientEvents.push(ev);
      onClientEvent?.(ev);
    }
  }
  throw new Error("pump did not settle");
}

export { ErrorCode };
