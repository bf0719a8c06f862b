/**
 * Which message type a protobuf or gRPC body is, from what the exchange says, never by trying
 * types on the bytes: the gRPC path /package.Service/Method gives the rpc's request or response
 * type (also for Twirp-style paths that end in it); a plain protobuf body may name its type in a
 * content-type parameter (proto=, messageType=) or a grpc-message-type header. Without any of
 * these the body is shown without a schema.
 */
import type { ProtoSchema } from "./proto_schema.ts";

/** What a view knows about the message a body belongs to. */
export interface BodyAbout {
  /** The request's path (with any query), which names the rpc for gRPC. */
  path: string;
  side: "request" | "response";
  /** The first value of a header of this message, or null. */
  header(name: string): string | null;
}

export type ChosenType =
  | { schema: ProtoSchema; type: string; why: string }
  /** The exchange names a type the definitions do not have. */
  | { unknown: string; why: string };

const TYPE_PARAMS = ["proto", "messagetype"];
const TYPE_HEADERS = ["grpc-message-type", "x-protobuf-message-type"];

export function chooseProtoType(
  schema: ProtoSchema | null,
  about: BodyAbout | undefined,
  contentType: string | null,
): ChosenType | null {
  if (schema === null) return null;
  let named: ChosenType | null = null;
  for (const [name, value] of contentTypeParams(contentType)) {
    if (TYPE_PARAMS.includes(name)) {
      named = lookUp(schema, value, `named by the content type's ${name}=`);
      break;
    }
  }
  if (named === null && about) {
    for (const header of TYPE_HEADERS) {
      const value = about.header(header);
      if (value) {
        named = lookUp(schema, value.trim(), `named by the ${header} header`);
        break;
      }
    }
  }
  if (named !== null && "type" in named) return named;
  return (about && fromPath(schema, about)) ?? named;
}

/** A message by full name, or by its last part when exactly one message has that name. */
function lookUp(schema: ProtoSchema, written: string, why: string): ChosenType {
  const name = written.replace(/^\./, "");
  if (Object.hasOwn(schema.messages, name)) return { schema, type: name, why };
  const matches = Object.keys(schema.messages).filter((m) => m.endsWith("." + name));
  return matches.length === 1 ? { schema, type: matches[0], why } : { unknown: name, why };
}

/** /pkg.Service/Method (or .../pkg.Service/Method) names an rpc: its input or output type. */
function fromPath(schema: ProtoSchema, about: BodyAbout): ChosenType | null {
  const parts = about.path.split("?")[0].split("/").filter((p) => p !== "");
  if (parts.length < 2) return null;
  const [service, method] = parts.slice(-2).map((p) => safeDecode(p));
  const rpc =
    Object.hasOwn(schema.services, service) && Object.hasOwn(schema.services[service], method)
      ? schema.services[service][method]
      : null;
  if (rpc === null) return null;
  const type = about.side === "request" ? rpc.input : rpc.output;
  return { schema, type, why: `${about.side} of rpc ${service}/${method}` };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The parameters of a media type, names lower-cased, quotes taken off the values. */
function contentTypeParams(contentType: string | null): [string, string][] {
  if (!contentType) return [];
  return contentType.split(";").slice(1).flatMap((p): [string, string][] => {
    const eq = p.indexOf("=");
    if (eq < 0) return [];
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    return [[p.slice(0, eq).trim().toLowerCase(), value]];
  });
}
