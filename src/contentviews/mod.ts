/**
 * Contentviews: how a body is shown to a person (console UI, web UI, `mitm read`), chosen from the
 * content type and the bytes, or by the user. Each view turns decoded body bytes into lines of
 * spans; none changes the values it shows (numbers stay as written, bytes stay bytes). A view that
 * does not fit the bytes falls back to raw text or hex and says why.
 */
import { utf8OrNull } from "../flow/encoding.ts";
import { cssView, javascriptView } from "./code.ts";
import { multipartView, urlencodedView } from "./forms.ts";
import { graphqlView, looksLikeGraphql } from "./graphql.ts";
import { hexLines } from "./hex.ts";
import { imageInfo, imageView } from "./image.ts";
import { jsonView } from "./json_view.ts";
import { htmlView, xmlView } from "./markup.ts";
import { msgpackView } from "./msgpack.ts";
import { grpcView, protobufView } from "./protobuf.ts";
import { type BodyAbout, chooseProtoType } from "./proto_message_type.ts";
import { currentProtoSchema } from "./proto_schema.ts";
import { sseView } from "./sse.ts";
import {
  type ConcreteView,
  NotThisFormat,
  plainLines,
  type Rendered,
  VIEW_NAMES,
  type ViewLine,
  type ViewName,
} from "./types.ts";

export { cookiePairs, queryPairs, setCookieRows, tableLines } from "./forms.ts";
export { hexLines } from "./hex.ts";
export { imageInfo } from "./image.ts";
export { prettyJson, rawMembers } from "./json_pretty.ts";
export { grpcMessages } from "./protobuf.ts";
export { decodeProtobuf } from "./protobuf_wire.ts";
export { type BodyAbout, chooseProtoType } from "./proto_message_type.ts";
export { currentProtoSchema, type ProtoSchema, setProtoSchemaProvider } from "./proto_schema.ts";
export { msgpackToJson } from "./msgpack.ts";
export { type ParsedSse, parseSse, type SseEvent } from "./sse.ts";
export * from "./types.ts";

/** The next view in the cycle (the `m` key in the console). */
export function nextView(view: ViewName): ViewName {
  return VIEW_NAMES[(VIEW_NAMES.indexOf(view) + 1) % VIEW_NAMES.length];
}

/** The media type without parameters, lower case. */
function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/** The view "auto" picks for these bytes and this content type. */
export function autoView(bytes: Uint8Array, contentType: string | null): ConcreteView {
  const type = mediaType(contentType);
  if (type.startsWith("application/grpc")) {
    return type === "application/grpc-web-text" ? "raw" : "grpc";
  }
  if (
    type === "application/x-protobuf" || type === "application/protobuf" ||
    type === "application/vnd.google.protobuf"
  ) return "protobuf";
  if (
    type === "application/msgpack" || type === "application/x-msgpack" ||
    type === "application/vnd.msgpack"
  ) return "msgpack";
  if (type === "application/graphql" || type === "application/graphql+json") return "graphql";
  if (type === "application/json" || type.endsWith("+json")) {
    const text = utf8OrNull(bytes.subarray(0, 4096));
    return text !== null && looksLikeGraphql(text) ? "graphql" : "json";
  }
  if (type === "application/x-www-form-urlencoded") return "urlencoded";
  if (type === "text/event-stream") return "sse";
  if (type.startsWith("multipart/")) return "multipart";
  if (type.startsWith("image/")) return type === "image/svg+xml" ? "xml" : "image";
  if (type === "text/html" || type === "application/xhtml+xml") return "html";
  if (type.endsWith("/xml") || type.endsWith("+xml")) return "xml";
  if (type.includes("javascript") || type === "text/ecmascript") return "javascript";
  if (type === "text/css") return "css";
  if (imageInfo(bytes) !== null && imageInfo(bytes)!.format !== "svg") return "image";
  const text = utf8OrNull(bytes);
  if (text === null) return "hex";
  const first = text.trimStart()[0];
  if (first === "{" || first === "[") return "json";
  if (first === "<") return /^\s*<!doctype html|^\s*<html/i.test(text) ? "html" : "xml";
  return "raw";
}

function viewLines(
  view: ConcreteView,
  bytes: Uint8Array,
  contentType: string | null,
  about: BodyAbout | undefined,
): ViewLine[] {
  switch (view) {
    case "hex":
      return plainLines(hexLines(bytes));
    case "image":
      return imageView(bytes);
    case "protobuf":
      return protobufView(bytes, chooseProtoType(currentProtoSchema(), about, contentType));
    case "grpc":
      return grpcView(bytes, chooseProtoType(currentProtoSchema(), about, contentType));
    case "msgpack":
      return msgpackView(bytes);
    case "multipart":
      return multipartView(bytes, contentType);
  }
  const text = utf8OrNull(bytes);
  if (text === null) throw new NotThisFormat("binary");
  switch (view) {
    case "raw":
      return plainLines(text.split(/\r?\n/));
    case "json":
      return jsonView(text);
    case "xml":
      return xmlView(text);
    case "html":
      return htmlView(text);
    case "javascript":
      return javascriptView(text);
    case "css":
      return cssView(text);
    case "urlencoded":
      return urlencodedView(text);
    case "graphql":
      return graphqlView(text);
    case "sse":
      return sseView(text);
  }
}

/**
 * Renders decoded body bytes with `view` ("auto" picks one). A view that does not fit falls back to
 * raw text, or hex for bytes that are not UTF-8, with a note saying why. `about` (the request's
 * path, which side, the headers) lets the protobuf and gRPC views find the message type in the
 * loaded .proto files.
 */
export function renderBody(
  bytes: Uint8Array,
  contentType: string | null,
  view: ViewName,
  maxLines = 5000,
  about?: BodyAbout,
): Rendered {
  const chosen = view === "auto" ? autoView(bytes, contentType) : view;
  let out: Rendered;
  try {
    out = { view: chosen, lines: viewLines(chosen, bytes, contentType, about), note: null };
  } catch (e) {
    if (!(e instanceof NotThisFormat)) throw e;
    const text = utf8OrNull(bytes);
    out = text === null
      ? { view: "hex", lines: plainLines(hexLines(bytes)), note: `${e.message}: shown as hex` }
      : { view: "raw", lines: plainLines(text.split(/\r?\n/)), note: `${e.message}: shown raw` };
    if (e.message === "binary") out.note = "binary: shown as hex";
  }
  if (out.lines.length > maxLines) {
    const more = out.lines.length - maxLines;
    out.lines = [...out.lines.slice(0, maxLines), [{
      text: `[... ${more} more lines]`,
      kind: "meta",
    }]];
  }
  return out;
}
