/**
 * The protobuf and gRPC views. Without a schema they show the wire format (protobuf_wire.ts); with
 * `protobuf_definitions` loaded and a message type known for the body (proto_message_type.ts) they
 * show field names, enum names and typed values (protobuf_typed.ts).
 * gRPC bodies are length-prefixed messages (a flag byte and a 4-byte length each), shown one by one.
 */
import { gunzipSync } from "node:zlib";
import type { ChosenType } from "./proto_message_type.ts";
import { typedLines } from "./protobuf_typed.ts";
import { decodeProtobuf, hexPreview, valueLines } from "./protobuf_wire.ts";
import { NotThisFormat, type ViewLine } from "./types.ts";

/** One message's lines: typed when a type is known, else the wire format. */
function messageLines(
  data: Uint8Array,
  type: ChosenType | null,
  indent: string,
  lines: ViewLine[],
) {
  if (type !== null && "type" in type) {
    typedLines(type.schema, type.type, data, indent, lines);
  } else {
    valueLines(decodeProtobuf(data), indent, lines);
  }
}

/** The line that says which message type the body was decoded as, and why that one. */
function typeLine(type: ChosenType | null): ViewLine[] {
  if (type === null) return [];
  if ("type" in type) return [[{ text: `${type.type} (${type.why})`, kind: "meta" }]];
  return [[{
    text: `${type.unknown} (${type.why}) is not in protobuf_definitions: shown without a schema`,
    kind: "meta",
  }]];
}

export function protobufView(bytes: Uint8Array, type: ChosenType | null = null): ViewLine[] {
  const lines: ViewLine[] = [];
  messageLines(bytes, type, "", lines);
  return [...typeLine(type), ...lines];
}
/** Splits a gRPC body into its length-prefixed messages (gRPC over HTTP/2, "Length-Prefixed-Message"). */
export function grpcMessages(bytes: Uint8Array): { compressed: boolean; data: Uint8Array }[] {
  const out: { compressed: boolean; data: Uint8Array }[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (i + 5 > bytes.length) throw new NotThisFormat("truncated gRPC message prefix");
    const flag = bytes[i];
    if (flag > 1) throw new NotThisFormat("not a gRPC message prefix");
    const len = ((bytes[i + 1] << 24) >>> 0) + (bytes[i + 2] << 16) + (bytes[i + 3] << 8) +
      bytes[i + 4];
    if (i + 5 + len > bytes.length) throw new NotThisFormat("gRPC message runs past the end");
    out.push({ compressed: flag === 1, data: bytes.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

export function grpcView(bytes: Uint8Array, type: ChosenType | null = null): ViewLine[] {
  const lines: ViewLine[] = typeLine(type);
  const messages = grpcMessages(bytes);
  messages.forEach((m, n) => {
    let data = m.data;
    let note = "";
    if (m.compressed) {
      try {
        data = new Uint8Array(gunzipSync(m.data));
        note = ", gzip-compressed";
      } catch {
        lines.push([{
          text: `message ${
            n + 1
          }: compressed with an encoding other than gzip, ${m.data.length} bytes`,
          kind: "meta",
        }]);
        return;
      }
    }
    lines.push([{ text: `message ${n + 1} (${data.length} bytes${note})`, kind: "meta" }]);
    try {
      messageLines(data, type, "  ", lines);
    } catch (e) {
      if (!(e instanceof NotThisFormat)) throw e;
      lines.push([{ text: `  not protobuf (${e.message}): ${hexPreview(data)}`, kind: "error" }]);
    }
  });
  if (messages.length === 0) lines.push([{ text: "no messages", kind: "meta" }]);
  return lines;
}
