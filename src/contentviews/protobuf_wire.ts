/**
 * The Protocol Buffers wire format without a schema: field number, wire type, value, with
 * length-delimited fields shown as a nested message when they parse as one, else as text when they
 * are printable UTF-8, else as bytes. What a schema would name is left as field numbers; the
 * guesses are the usual ones (protoc --decode_raw makes the same).
 */
import { utf8OrNull } from "../flow/encoding.ts";
import { NotThisFormat, type Span, type ViewLine } from "./types.ts";

const MAX_DEPTH = 32;

export type ProtoValue =
  | { field: number; wire: "varint"; value: bigint }
  | { field: number; wire: "fixed64"; value: bigint }
  | { field: number; wire: "fixed32"; value: number }
  | { field: number; wire: "bytes"; value: Uint8Array; message: ProtoValue[] | null }
  | { field: number; wire: "group"; message: ProtoValue[] };

export class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.b.length) throw new NotThisFormat("truncated varint");
      const byte = this.b[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new NotThisFormat("varint longer than 10 bytes");
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.b.length) throw new NotThisFormat("field runs past the end");
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/**
 * Decodes a whole message; throws NotThisFormat when the bytes are not one. With `guess`, a
 * length-delimited field that parses as a message is kept as one too (a schema knows better).
 */
export function decodeProtobuf(bytes: Uint8Array, depth = 0, guess = true): ProtoValue[] {
  if (depth > MAX_DEPTH) throw new NotThisFormat("nested too deep");
  const r = new Reader(bytes);
  const out: ProtoValue[] = [];
  const groups: { field: number; items: ProtoValue[] }[] = [];
  let target = out;
  while (r.pos < bytes.length) {
    const key = r.varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field < 1 || field > 0x1fffffff) throw new NotThisFormat(`field number ${field}`);
    switch (wire) {
      case 0:
        target.push({ field, wire: "varint", value: r.varint() });
        break;
      case 1: {
        const b = r.take(8);
        target.push({
          field,
          wire: "fixed64",
          value: new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true),
        });
        break;
      }
      case 2: {
        const len = r.varint();
        if (len > BigInt(bytes.length)) throw new NotThisFormat("length past the end");
        const value = r.take(Number(len));
        let message: ProtoValue[] | null = null;
        if (guess && value.length > 0 && !looksLikeText(value)) {
          try {
            message = decodeProtobuf(value, depth + 1);
          } catch (e) {
            if (!(e instanceof NotThisFormat)) throw e;
          }
        }
        target.push({ field, wire: "bytes", value, message });
        break;
      }
      case 3: {
        // Groups nest without a length; bounded like nested messages, since showing them recurses.
        if (depth + groups.length >= MAX_DEPTH) throw new NotThisFormat("nested too deep");
        const items: ProtoValue[] = [];
        groups.push({ field, items });
        target.push({ field, wire: "group", message: items });
        target = items;
        break;
      }
      case 4: {
        const open = groups.pop();
        if (open === undefined || open.field !== field) {
          throw new NotThisFormat("unmatched end group");
        }
        target = groups.length ? groups[groups.length - 1].items : out;
        break;
      }
      case 5: {
        const b = r.take(4);
        target.push({
          field,
          wire: "fixed32",
          value: new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true),
        });
        break;
      }
      default:
        throw new NotThisFormat(`wire type ${wire}`);
    }
  }
  if (groups.length) throw new NotThisFormat("group not ended");
  return out;
}

/** Printable UTF-8 (a string field), which would otherwise often parse as a message by chance. */
export function looksLikeText(b: Uint8Array): boolean {
  const text = utf8OrNull(b);
  // deno-lint-ignore no-control-regex
  return text !== null && !/[\x00-\x08\x0e-\x1f\x7f]/.test(text);
}

export function hexPreview(b: Uint8Array, max = 32): string {
  const hex = [...b.subarray(0, max)].map((x) => x.toString(16).padStart(2, "0")).join(" ");
  return b.length > max ? `${hex} … (${b.length} bytes)` : hex;
}

export function valueLines(values: ProtoValue[], indent: string, lines: ViewLine[]): void {
  for (const v of values) {
    const head: Span[] = [{ text: indent }, { text: String(v.field), kind: "key" }];
    switch (v.wire) {
      case "varint": {
        const signed = v.value >= 1n << 63n ? ` (${v.value - (1n << 64n)} as int64)` : "";
        const zigzag = v.value & 1n ? -((v.value + 1n) >> 1n) : v.value >> 1n;
        lines.push([...head, { text: ": " }, { text: String(v.value), kind: "number" }, {
          text: `${signed}  varint, sint ${zigzag}`,
          kind: "meta",
        }]);
        break;
      }
      case "fixed64": {
        const b = new DataView(new ArrayBuffer(8));
        b.setBigUint64(0, v.value, true);
        lines.push([...head, { text: ": " }, { text: String(v.value), kind: "number" }, {
          text: `  fixed64, double ${b.getFloat64(0, true)}`,
          kind: "meta",
        }]);
        break;
      }
      case "fixed32": {
        const b = new DataView(new ArrayBuffer(4));
        b.setUint32(0, v.value, true);
        lines.push([...head, { text: ": " }, { text: String(v.value), kind: "number" }, {
          text: `  fixed32, float ${b.getFloat32(0, true)}`,
          kind: "meta",
        }]);
        break;
      }
      case "group":
        lines.push([...head, { text: " {", kind: "punct" }, { text: "  group", kind: "meta" }]);
        valueLines(v.message, indent + "  ", lines);
        lines.push([{ text: indent + "}", kind: "punct" }]);
        break;
      case "bytes":
        if (v.message !== null) {
          lines.push([...head, { text: " {", kind: "punct" }]);
          valueLines(v.message, indent + "  ", lines);
          lines.push([{ text: indent + "}", kind: "punct" }]);
        } else {
          const text = looksLikeText(v.value) ? utf8OrNull(v.value) : null;
          lines.push([
            ...head,
            { text: ": " },
            text !== null
              ? { text: JSON.stringify(text), kind: "string" }
              : { text: hexPreview(v.value), kind: "literal" },
          ]);
        }
        break;
    }
  }
}
