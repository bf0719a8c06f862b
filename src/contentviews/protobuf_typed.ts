/**
 * A protobuf message shown with its schema, in the style of protobuf's text format: field names,
 * enum value names, nested messages, packed repeated fields as one list, map entries as
 * name[key], strings as strings, bytes as text or hex. 64-bit integers are printed from BigInts,
 * so no digit is lost. A field the schema does not have is shown by number, as without a schema.
 */
import { fieldByNumber, type ProtoSchema, type SchemaField } from "./proto_schema.ts";
import {
  decodeProtobuf,
  hexPreview,
  looksLikeText,
  type ProtoValue,
  Reader,
  valueLines,
} from "./protobuf_wire.ts";
import { NotThisFormat, type Span, type ViewLine } from "./types.ts";

const MAX_DEPTH = 64;
const VARINT_TYPES = new Set([
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "bool",
  "enum",
]);
const FIXED64_TYPES = new Set(["double", "fixed64", "sfixed64"]);
const FIXED32_TYPES = new Set(["float", "fixed32", "sfixed32"]);
const WIRE_OF: Record<ProtoValue["wire"], string> = {
  varint: "varint",
  fixed64: "64-bit",
  fixed32: "32-bit",
  bytes: "length-delimited",
  group: "group",
};

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Lines of `bytes` as message `type`; throws NotThisFormat if the bytes are not protobuf. */
export function typedLines(
  schema: ProtoSchema,
  type: string,
  bytes: Uint8Array,
  indent: string,
  lines: ViewLine[],
): void {
  const values = decodeProtobuf(bytes, 0, false);
  messageLines(schema, type, values, indent, lines, 0);
}

function messageLines(
  schema: ProtoSchema,
  type: string,
  values: ProtoValue[],
  indent: string,
  lines: ViewLine[],
  depth: number,
): void {
  if (type === "google.protobuf.Any" && anyLines(schema, values, indent, lines, depth)) return;
  const message = schema.messages[type];
  for (const v of values) {
    const field = message ? fieldByNumber(message, v.field) : undefined;
    if (field === undefined) unknownLines(v, indent, lines, "unknown field");
    else fieldLines(schema, field, v, indent, lines, depth);
  }
}

/**
 * A google.protobuf.Any whose type URL names a message the schema has: the packed message itself,
 * as the text format writes it (`[type.googleapis.com/pkg.Msg] { ... }`). False to show it plainly.
 */
function anyLines(
  schema: ProtoSchema,
  values: ProtoValue[],
  indent: string,
  lines: ViewLine[],
  depth: number,
): boolean {
  const url = values.findLast((v) => v.field === 1);
  const value = values.findLast((v) => v.field === 2);
  if (url?.wire !== "bytes" || (value !== undefined && value.wire !== "bytes")) return false;
  if (values.some((v) => v.field !== 1 && v.field !== 2)) return false;
  let typeUrl: string;
  try {
    typeUrl = fatalUtf8.decode(url.value);
  } catch {
    return false;
  }
  const type = typeUrl.slice(typeUrl.lastIndexOf("/") + 1);
  if (!Object.hasOwn(schema.messages, type) || depth >= MAX_DEPTH) return false;
  const packed = value === undefined ? [] : nestedValues(value.value, depth);
  if (packed instanceof NotThisFormat) return false;
  lines.push([{ text: indent }, { text: `[${typeUrl}]`, kind: "key" }, {
    text: packed.length ? " {" : " {}",
    kind: "punct",
  }]);
  if (packed.length === 0) return true;
  messageLines(schema, type, packed, indent + "  ", lines, depth + 1);
  lines.push([{ text: indent + "}", kind: "punct" }]);
  return true;
}

/** A value the schema does not describe: as the schema-less view shows it, with a note. */
function unknownLines(v: ProtoValue, indent: string, lines: ViewLine[], note: string): void {
  let shown = v;
  if (v.wire === "bytes" && v.value.length > 0 && !looksLikeText(v.value)) {
    try {
      shown = { ...v, message: decodeProtobuf(v.value, 1) };
    } catch (e) {
      if (!(e instanceof NotThisFormat)) throw e;
    }
  }
  const first = lines.length;
  valueLines([shown], indent, lines);
  lines[first].push({ text: `  (${note})`, kind: "meta" });
}

function fieldLines(
  schema: ProtoSchema,
  f: SchemaField,
  v: ProtoValue,
  indent: string,
  lines: ViewLine[],
  depth: number,
): void {
  const name: Span[] = [{ text: indent }, { text: f.name, kind: "key" }];
  if (f.mapKey !== undefined) {
    if (v.wire !== "bytes") return unknownLines(v, indent, lines, mismatch(f, v));
    return mapEntryLines(schema, f, v.value, indent, lines, depth);
  }
  if (f.type === "message") {
    // Either encoding is read for any message field: proto2 groups and editions' DELIMITED
    // message_encoding use start/end-group tags, the rest a length.
    const nested = v.wire === "group"
      ? v.message
      : v.wire === "bytes"
      ? nestedValues(v.value, depth)
      : null;
    if (nested === null) return unknownLines(v, indent, lines, mismatch(f, v));
    if (nested instanceof NotThisFormat) {
      return unknownLines(v, indent, lines, `${f.name}: not a ${f.typeName}: ${nested.message}`);
    }
    if (depth >= MAX_DEPTH) return unknownLines(v, indent, lines, "nested too deep");
    if (nested.length === 0) {
      lines.push([...name, { text: " {}", kind: "punct" }]);
      return;
    }
    lines.push([...name, { text: " {", kind: "punct" }]);
    messageLines(schema, f.typeName!, nested, indent + "  ", lines, depth + 1);
    lines.push([{ text: indent + "}", kind: "punct" }]);
    return;
  }
  if (v.wire === "bytes" && f.repeated && f.type !== "string" && f.type !== "bytes") {
    // A packed repeated field: the values back to back in one length-delimited field.
    const items = packed(f, v.value);
    if (items === null) return unknownLines(v, indent, lines, mismatch(f, v));
    const spans: Span[] = [...name, { text: ": [", kind: "punct" }];
    items.forEach((item, i) => {
      if (i > 0) spans.push({ text: ", ", kind: "punct" });
      spans.push(...scalarSpans(schema, f, item));
    });
    spans.push({ text: "]", kind: "punct" });
    lines.push(spans);
    return;
  }
  if (!wireFits(f, v)) return unknownLines(v, indent, lines, mismatch(f, v));
  const raw = v.wire === "bytes" ? v.value : (v as { value: bigint | number }).value;
  lines.push([...name, { text: ": " }, ...scalarSpans(schema, f, raw)]);
}

function nestedValues(bytes: Uint8Array, depth: number): ProtoValue[] | NotThisFormat {
  try {
    return decodeProtobuf(bytes, depth + 1, false);
  } catch (e) {
    if (e instanceof NotThisFormat) return e;
    throw e;
  }
}

function mismatch(f: SchemaField, v: ProtoValue): string {
  const declared = f.mapKey !== undefined
    ? `map<${f.mapKey}, ${f.typeName ?? f.type}>`
    : f.typeName ?? f.type;
  return `field ${f.name} is ${declared} but came as ${WIRE_OF[v.wire]}`;
}

function wireFits(f: SchemaField, v: ProtoValue): boolean {
  if (v.wire === "varint") return VARINT_TYPES.has(f.type);
  if (v.wire === "fixed64") return FIXED64_TYPES.has(f.type);
  if (v.wire === "fixed32") return FIXED32_TYPES.has(f.type);
  if (v.wire === "bytes") return f.type === "string" || f.type === "bytes";
  return false;
}

/** The values of a packed field, or null when the bytes do not divide into them. */
function packed(f: SchemaField, bytes: Uint8Array): (bigint | number)[] | null {
  const out: (bigint | number)[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (VARINT_TYPES.has(f.type)) {
    const r = new Reader(bytes);
    try {
      while (r.pos < bytes.length) out.push(r.varint());
    } catch (e) {
      if (e instanceof NotThisFormat) return null;
      throw e;
    }
  } else if (FIXED64_TYPES.has(f.type)) {
    if (bytes.length % 8 !== 0) return null;
    for (let i = 0; i < bytes.length; i += 8) out.push(view.getBigUint64(i, true));
  } else if (FIXED32_TYPES.has(f.type)) {
    if (bytes.length % 4 !== 0) return null;
    for (let i = 0; i < bytes.length; i += 4) out.push(view.getUint32(i, true));
  } else {
    return null;
  }
  return out;
}

/** One map entry (key field 1, value field 2; a missing one is its type's default). */
function mapEntryLines(
  schema: ProtoSchema,
  f: SchemaField,
  entry: Uint8Array,
  indent: string,
  lines: ViewLine[],
  depth: number,
): void {
  const values = nestedValues(entry, depth);
  if (values instanceof NotThisFormat) {
    lines.push([{ text: `${indent}${f.name}: bad map entry (${values.message})`, kind: "error" }]);
    return;
  }
  const key = values.findLast((v) => v.field === 1);
  const value = values.findLast((v) => v.field === 2);
  const keyField: SchemaField = { name: "key", number: 1, type: f.mapKey!, repeated: false };
  const keySpans = key === undefined
    ? defaultSpans(keyField.type)
    : wireFits(keyField, key)
    ? scalarSpans(
      schema,
      keyField,
      key.wire === "bytes" ? key.value : (key as { value: bigint | number }).value,
    )
    : [{ text: `?${WIRE_OF[key.wire]}`, kind: "error" as const }];
  const head: Span[] = [
    { text: indent },
    { text: f.name, kind: "key" },
    { text: "[", kind: "punct" },
    ...keySpans,
    {
      text: "]",
      kind: "punct",
    },
  ];
  const valueField: SchemaField = {
    ...f,
    name: "value",
    number: 2,
    repeated: false,
    mapKey: undefined,
  };
  if (f.type === "message") {
    const nested = value === undefined
      ? []
      : value.wire === "bytes"
      ? nestedValues(value.value, depth)
      : null;
    if (nested === null || nested instanceof NotThisFormat) {
      lines.push([...head, { text: `: not a ${f.typeName}`, kind: "error" }]);
      return;
    }
    lines.push([...head, { text: nested.length ? " {" : " {}", kind: "punct" }]);
    if (nested.length === 0) return;
    messageLines(schema, f.typeName!, nested, indent + "  ", lines, depth + 1);
    lines.push([{ text: indent + "}", kind: "punct" }]);
    return;
  }
  if (value === undefined) {
    lines.push([...head, { text: ": " }, ...defaultSpans(f.type, schema, f.typeName)]);
  } else if (wireFits(valueField, value)) {
    const raw = value.wire === "bytes" ? value.value : (value as { value: bigint | number }).value;
    lines.push([...head, { text: ": " }, ...scalarSpans(schema, valueField, raw)]);
  } else {
    lines.push([...head, { text: `: ${mismatch(valueField, value)}`, kind: "error" }]);
  }
}

/** The value a field has when it is absent from the wire. */
function defaultSpans(type: string, schema?: ProtoSchema, typeName?: string): Span[] {
  if (type === "string" || type === "bytes") return [{ text: '""', kind: "string" }];
  if (type === "bool") return [{ text: "false", kind: "literal" }];
  if (type === "enum" && schema && typeName) {
    return scalarSpans(schema, { name: "", number: 0, type, typeName, repeated: false }, 0n);
  }
  return [{ text: "0", kind: "number" }];
}

/** A scalar or enum value as spans; integers from BigInts, floats in their shortest exact form. */
function scalarSpans(
  schema: ProtoSchema,
  f: SchemaField,
  raw: bigint | number | Uint8Array,
): Span[] {
  if (raw instanceof Uint8Array) {
    if (f.type === "string") {
      try {
        return [{ text: JSON.stringify(fatalUtf8.decode(raw)), kind: "string" }];
      } catch {
        return [{ text: hexPreview(raw), kind: "literal" }, {
          text: "  (not UTF-8)",
          kind: "error",
        }];
      }
    }
    if (raw.length > 0 && looksLikeText(raw)) {
      return [{ text: JSON.stringify(fatalUtf8.decode(raw)), kind: "string" }];
    }
    return [{
      text: raw.length === 0 ? '""' : hexPreview(raw),
      kind: raw.length ? "literal" : "string",
    }];
  }
  const big = typeof raw === "bigint" ? raw : BigInt(raw);
  const number = (n: bigint | number | string): Span[] => [{ text: String(n), kind: "number" }];
  switch (f.type) {
    case "int32":
    case "sfixed32":
      return number(BigInt.asIntN(32, big));
    case "int64":
    case "sfixed64":
      return number(BigInt.asIntN(64, big));
    case "uint32":
    case "fixed32":
      return number(BigInt.asUintN(32, big));
    case "uint64":
    case "fixed64":
      return number(BigInt.asUintN(64, big));
    case "sint32":
    case "sint64": {
      const u = BigInt.asUintN(f.type === "sint32" ? 32 : 64, big);
      return number(u & 1n ? -((u + 1n) >> 1n) : u >> 1n);
    }
    case "bool":
      return [{ text: big === 0n ? "false" : "true", kind: "literal" }];
    case "double": {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt.asUintN(64, big), true);
      return number(view.getFloat64(0, true));
    }
    case "float": {
      const view = new DataView(new ArrayBuffer(4));
      view.setUint32(0, Number(BigInt.asUintN(32, big)), true);
      return number(shortestFloat32(view.getFloat32(0, true)));
    }
    case "enum": {
      const n = BigInt.asIntN(32, big);
      const name = schema.enums[f.typeName!]?.values[String(n)];
      return name !== undefined
        ? [{ text: name, kind: "literal" }]
        : [{ text: String(n), kind: "number" }, {
          text: `  (not a value of ${f.typeName})`,
          kind: "meta",
        }];
    }
  }
  return number(big);
}

/** The fewest digits that read back as the same 32-bit float (0.1f shows as 0.1, not 0.100000001). */
function shortestFloat32(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  for (let p = 1; p <= 9; p++) {
    const text = String(Number(x.toPrecision(p)));
    if (Math.fround(Number(text)) === x) return text;
  }
  return String(x);
}
