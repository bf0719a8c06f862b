/**
 * A batch of flows' rows (rows.ts) as one ArrayBuffer, for the writer thread: the proxy's thread
 * builds the rows and copies them in, and the buffer is transferred, not cloned, so the proxy pays
 * for neither a structured clone of flow objects nor the SQLite statements. The worker reads the
 * rows back and only runs SQLite (flow_db.ts).
 *
 * A record per flow: seq (f64), written (u8), bytes (f64), then the value lists of the `flows`
 * row, the `flow_docs` row, the body chunks and the WebSocket messages. A value is a tag byte and
 * its payload: a number as f64, a string as UTF-8 and a byte array with a u32 length.
 */
import type { SqlValue } from "../runtime/mod.ts";
import type { FlowRows } from "./rows.ts";

const NULL = 0;
const NUMBER = 1;
const STRING = 2;
const BYTES = 3;

/** A flow's rows as the batch carries them. */
export interface BatchRecord {
  seq: number;
  /** Written before: its old rows are deleted first. */
  written: boolean;
  rows: FlowRows;
}

/** Appends records to a growing buffer; take() hands the bytes over and starts a new one. */
export class RowBatchEncoder {
  #buf: Uint8Array;
  #view: DataView;
  #at = 0;
  #records = 0;
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

  add(seq: number, written: boolean, rows: FlowRows): void {
    this.#reserve(17);
    this.#view.setFloat64(this.#at, seq, true);
    this.#buf[this.#at + 8] = written ? 1 : 0;
    this.#view.setFloat64(this.#at + 9, rows.bytes, true);
    this.#at += 17;
    this.#values(rows.flow);
    this.#values(rows.doc);
    this.#count(rows.chunks.length);
    for (const chunk of rows.chunks) this.#values(chunk);
    this.#count(rows.ws.length);
    for (const message of rows.ws) this.#values(message);
    this.#records++;
  }

  /**
   * The records so far (the buffer to transfer and how much of it is used); the next ones go into
   * a new buffer about as big as this one needed.
   */
  take(): { buffer: ArrayBuffer; length: number } {
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

  /**
   * A short ASCII string copied byte by byte (its length), or null to leave it to encodeInto:
   * most of a flow's strings are a few dozen ASCII characters, where the view encodeInto needs
   * costs more than the copy.
   */
  #ascii(v: string, at: number): number | null {
    if (v.length > 256) return null;
    const buf = this.#buf;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c > 0x7f) return null;
      buf[at + i] = c;
    }
    return v.length;
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
      // At most 3 bytes of UTF-8 per UTF-16 unit; the length is written after the text.
      this.#reserve(5 + v.length * 3);
      this.#buf[this.#at] = STRING;
      const written = this.#ascii(v, this.#at + 5) ??
        this.#utf8.encodeInto(v, this.#buf.subarray(this.#at + 5)).written;
      this.#view.setUint32(this.#at + 1, written, true);
      this.#at += 5 + written;
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

/** The records of an encoded batch, in order. Byte arrays are views into `bytes` (no copy). */
export function* decodeRowBatch(bytes: Uint8Array): Generator<BatchRecord> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder();
  let at = 0;
  const count = (): number => {
    const n = view.getUint32(at, true);
    at += 4;
    return n;
  };
  const values = (): SqlValue[] => {
    const n = count();
    const out: SqlValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const tag = bytes[at++];
      if (tag === NULL) out[i] = null;
      else if (tag === NUMBER) {
        out[i] = view.getFloat64(at, true);
        at += 8;
      } else {
        const len = count();
        const data = bytes.subarray(at, at + len);
        out[i] = tag === STRING ? utf8.decode(data) : data;
        at += len;
      }
    }
    return out;
  };
  while (at < bytes.length) {
    const seq = view.getFloat64(at, true);
    const written = bytes[at + 8] === 1;
    const size = view.getFloat64(at + 9, true);
    at += 17;
    const flow = values();
    const doc = values() as FlowRows["doc"];
    const chunks: FlowRows["chunks"] = new Array(count());
    for (let i = 0; i < chunks.length; i++) chunks[i] = values() as FlowRows["chunks"][number];
    const ws: FlowRows["ws"] = new Array(count());
    for (let i = 0; i < ws.length; i++) ws[i] = values() as FlowRows["ws"][number];
    yield { seq, written, rows: { flow, doc, chunks, ws, bytes: size } };
  }
}
