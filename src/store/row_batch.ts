/**
 * A batch of flows for the writer thread as one ArrayBuffer: the proxy's thread copies each flow
 * in, and the buffer is transferred, not cloned, so the proxy pays for neither a structured clone
 * of flow objects nor the SQLite statements. The worker reads the records back, builds the rows
 * of flows that came as packets (flow_packet.ts) and runs SQLite (flow_db.ts).
 *
 * A record per flow: seq (f64), a flags byte (written before; a packet rather than rows) and the
 * length of its values (u32); then for a packet its values, or for rows the flow's size (f64) and
 * the value lists of the `flows` row, the `flow_docs` row, the body chunks and the WebSocket
 * messages; then the text of its strings. A value is a tag byte and its payload: a number as f64,
 * a byte array with a u32 length, a string as its length in UTF-16 units. The text is the record's
 * strings joined, as UTF-8 with a u32 length: one encodeInto a flow rather than one a string (most
 * are a few dozen ASCII characters, where the call costs more than the copy), and no string is
 * held past its flow's record (held until the batch went, they would outlive the young
 * generation and cost the collector).
 */
import type { Flow } from "../flow/flow.ts";
import type { SqlValue } from "../runtime/mod.ts";
import { flowFromPacket, flowPacket, packable } from "./flow_packet.ts";
import { type FlowRows, flowToRows } from "./rows.ts";

const NULL = 0;
const NUMBER = 1;
const STRING = 2;
const BYTES = 3;

/** Bits of a record's flags byte. */
const WRITTEN = 1;
const PACKET = 2;

/** A flow as the batch carries it: its rows, or (a packet) the flow to build them from. */
export type BatchRecord =
  & {
    seq: number;
    /** Written before: its old rows are deleted first. */
    written: boolean;
  }
  & ({ rows: FlowRows; flow?: undefined } | { flow: Flow; rows?: undefined });

/** Appends records to a growing buffer; take() hands the bytes over and starts a new one. */
export class RowBatchEncoder {
  #buf: Uint8Array;
  #view: DataView;
  #at = 0;
  #records = 0;
  /** The strings of the record being added, in order: their text ends the record. */
  readonly #texts: string[] = [];
  /** Where the record being added has its values' length. */
  #lengthAt = 0;
  /** A packet's values, reused from flow to flow. */
  readonly #packet: SqlValue[] = [];
  readonly #utf8 = new TextEncoder();
  readonly #spare: ArrayBuffer[] = [];

  constructor(capacity = 64 * 1024) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Records added since the last take(). */
  get records(): number {
    return this.#records;
  }

  /**
   * Adds a flow as read now: a packet when one carries it (the rows are built on the writer's
   * thread), else its rows.
   */
  addFlow(seq: number, written: boolean, flow: Flow, chunkSize: number): void {
    if (!packable(flow)) return this.add(seq, written, flowToRows(flow, chunkSize));
    const packet = this.#packet; // empty: emptied below, or by take() after a failed add
    flowPacket(flow, packet);
    this.#begin(seq, PACKET | (written ? WRITTEN : 0));
    this.#values(packet);
    packet.length = 0; // holds no body beyond this call
    this.#end();
  }

  /** Adds a flow's rows. */
  add(seq: number, written: boolean, rows: FlowRows): void {
    this.#begin(seq, written ? WRITTEN : 0);
    this.#reserve(8);
    this.#view.setFloat64(this.#at, rows.bytes, true);
    this.#at += 8;
    this.#values(rows.flow);
    this.#values(rows.doc);
    this.#count(rows.chunks.length);
    for (const chunk of rows.chunks) this.#values(chunk);
    this.#count(rows.ws.length);
    for (const message of rows.ws) this.#values(message);
    this.#end();
  }

  /**
   * The records so far (the buffer to transfer and how much of it is used); the next ones go into
   * a new buffer about as big as this one needed.
   */
  take(): { buffer: ArrayBuffer; length: number } {
    // A record cut short by an error leaves nothing behind.
    this.#texts.length = 0;
    this.#packet.length = 0;
    const out = { buffer: this.#buf.buffer as ArrayBuffer, length: this.#at };
    const wanted = Math.max(64 * 1024, this.#at + (this.#at >> 2));
    let next = this.#spare.pop();
    while (next !== undefined && next.byteLength < wanted) next = this.#spare.pop();
    this.#buf = new Uint8Array(next ?? new ArrayBuffer(wanted));
    this.#view = new DataView(this.#buf.buffer);
    this.#at = 0;
    this.#records = 0;
    return out;
  }

  /**
   * A buffer take() gave out, back for reuse (the writer thread returns each one): a fresh buffer
   * for every batch would cost page faults on every page of it, on the proxy's thread.
   */
  recycle(buffer: ArrayBuffer): void {
    if (this.#spare.length < 2 && buffer.byteLength > 0) this.#spare.push(buffer);
  }

  #begin(seq: number, flags: number): void {
    this.#reserve(13);
    this.#view.setFloat64(this.#at, seq, true);
    this.#buf[this.#at + 8] = flags;
    this.#lengthAt = this.#at + 9;
    this.#at += 13;
  }

  /** Ends a record: the length of its values, then its text. */
  #end(): void {
    this.#view.setUint32(this.#lengthAt, this.#at - this.#lengthAt - 4, true);
    const texts = this.#texts;
    const text = texts.length === 0 ? "" : texts.length === 1 ? texts[0] : texts.join("");
    texts.length = 0;
    // At most 3 bytes of UTF-8 per UTF-16 unit (a surrogate pair is 4 bytes for 2 units).
    this.#reserve(4 + text.length * 3);
    const written = text === ""
      ? 0
      : this.#utf8.encodeInto(text, this.#buf.subarray(this.#at + 4)).written;
    this.#view.setUint32(this.#at, written, true);
    this.#at += 4 + written;
    this.#records++;
  }

  #reserve(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n));
    bigger.set(this.#buf.subarray(0, this.#at));
    this.#buf = bigger;
    this.#view = new DataView(bigger.buffer);
  }

  #count(n: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#at, n, true);
    this.#at += 4;
  }

  #values(values: readonly SqlValue[]): void {
    this.#count(values.length);
    for (const v of values) this.#value(v);
  }

  #value(v: SqlValue): void {
    if (v === null) {
      this.#reserve(1);
      this.#buf[this.#at++] = NULL;
    } else if (typeof v === "number") {
      this.#reserve(9);
      this.#buf[this.#at] = NUMBER;
      this.#view.setFloat64(this.#at + 1, v, true);
      this.#at += 9;
    } else if (typeof v === "string") {
      this.#reserve(5);
      this.#buf[this.#at] = STRING;
      this.#view.setUint32(this.#at + 1, v.length, true);
      this.#at += 5;
      this.#texts.push(v);
    } else if (v instanceof Uint8Array) {
      this.#reserve(5 + v.length);
      this.#buf[this.#at] = BYTES;
      this.#view.setUint32(this.#at + 1, v.length, true);
      this.#buf.set(v, this.#at + 5);
      this.#at += 5 + v.length;
    } else {
      throw new TypeError(`the flow store cannot encode a ${typeof v} value`);
    }
  }
}

/**
 * The records of an encoded batch, in order. Byte arrays are views into `bytes` (no copy); a
 * packet's flow is made here (its rows are the caller's to build).
 */
export function* decodeRowBatch(bytes: Uint8Array): Generator<BatchRecord> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder();
  let at = 0;
  let text = "";
  let textAt = 0;
  const count = (): number => {
    const n = view.getUint32(at, true);
    at += 4;
    return n;
  };
  const value = (): SqlValue => {
    const tag = bytes[at++];
    if (tag === NULL) return null;
    if (tag === NUMBER) {
      at += 8;
      return view.getFloat64(at - 8, true);
    }
    const len = count();
    if (tag === STRING) return text.slice(textAt, textAt += len);
    at += len;
    return bytes.subarray(at - len, at);
  };
  const values = (): SqlValue[] => {
    const out: SqlValue[] = new Array(count());
    for (let i = 0; i < out.length; i++) out[i] = value();
    return out;
  };
  const packet = {
    values: [] as SqlValue[],
    i: 0,
    next(): SqlValue {
      return this.values[this.i++];
    },
  };
  while (at < bytes.length) {
    const seq = view.getFloat64(at, true);
    const flags = bytes[at + 8];
    const written = (flags & WRITTEN) !== 0;
    const textStart = at + 13 + view.getUint32(at + 9, true);
    const textLength = view.getUint32(textStart, true);
    text = utf8.decode(bytes.subarray(textStart + 4, textStart + 4 + textLength));
    textAt = 0;
    at += 13;
    let record: BatchRecord;
    if (flags & PACKET) {
      packet.values = values();
      packet.i = 0;
      record = { seq, written, flow: flowFromPacket(packet) };
    } else {
      const size = view.getFloat64(at, true);
      at += 8;
      const flow = values();
      const doc = values() as FlowRows["doc"];
      const chunks: FlowRows["chunks"] = new Array(count());
      for (let i = 0; i < chunks.length; i++) chunks[i] = values() as FlowRows["chunks"][number];
      const ws: FlowRows["ws"] = new Array(count());
      for (let i = 0; i < ws.length; i++) ws[i] = values() as FlowRows["ws"][number];
      record = { seq, written, rows: { flow, doc, chunks, ws, bytes: size } };
    }
    at = textStart + 4 + textLength;
    yield record;
  }
}
