/**
 * Message types from .proto files (`--set protobuf_definitions=PATH`), linked and flattened to
 * plain JSON so the web UI can fetch the same schema the proxy loaded (GET /api/protobuf/schema).
 * Names are fully qualified without the leading dot ("pkg.Outer.Inner").
 */

export const SCALAR_TYPES = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);

export interface SchemaField {
  name: string;
  number: number;
  /** A scalar type name, or "message" / "enum" with `typeName`. For a map, the value's type. */
  type: string;
  typeName?: string;
  repeated: boolean;
  oneof?: string;
  /** map<mapKey, type>: on the wire, repeated entries with the key as field 1, the value as 2. */
  mapKey?: string;
  /** A proto2 group: the value is delimited by start/end-group tags instead of a length. */
  group?: boolean;
}

export interface SchemaMessage {
  fields: SchemaField[];
}

export interface SchemaEnum {
  /** Number (as a decimal string) to the first name declared for it. */
  values: Record<string, string>;
}

export interface SchemaMethod {
  input: string;
  output: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

export interface ProtoSchema {
  messages: Record<string, SchemaMessage>;
  enums: Record<string, SchemaEnum>;
  /** Service full name to method name to method. */
  services: Record<string, Record<string, SchemaMethod>>;
}

const byNumber = new WeakMap<SchemaMessage, Map<number, SchemaField>>();

/** The field with this number, or undefined for a field the schema does not know. */
export function fieldByNumber(message: SchemaMessage, number: number): SchemaField | undefined {
  let index = byNumber.get(message);
  if (index === undefined) {
    index = new Map(message.fields.map((f) => [f.number, f]));
    byNumber.set(message, index);
  }
  return index.get(number);
}

let provider: () => ProtoSchema | null = () => null;

/**
 * Where the current schema comes from: the proxy's loader (which reloads changed files) or, in the
 * web UI, what the API served. Null means no definitions: protobuf is shown without a schema.
 */
export function setProtoSchemaProvider(fn: () => ProtoSchema | null): void {
  provider = fn;
}

export function currentProtoSchema(): ProtoSchema | null {
  return provider();
}
