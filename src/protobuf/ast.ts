/** One parsed .proto file, before type names are resolved across files (src/protobuf/link.ts). */

export interface FieldDecl {
  name: string;
  number: number;
  /** As written: a scalar ("int64"), or a message or enum name ("Foo.Bar", ".pkg.Foo"). */
  type: string;
  label: "repeated" | "optional" | "required" | null;
  /** [packed = ...] when given; proto3 packs repeated scalars unless it says false. */
  packed: boolean | null;
  oneof: string | null;
  /** map<key, value>: `type` is then the value type. */
  mapKey: string | null;
  /** A proto2 group: the field's type is the nested message of the same name. */
  group: boolean;
  line: number;
}

export interface EnumDecl {
  name: string;
  values: { name: string; number: number }[];
  line: number;
}

export interface MessageDecl {
  name: string;
  fields: FieldDecl[];
  messages: MessageDecl[];
  enums: EnumDecl[];
  line: number;
}

export interface MethodDecl {
  name: string;
  input: string;
  output: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
  line: number;
}

export interface ServiceDecl {
  name: string;
  methods: MethodDecl[];
  line: number;
}

export interface ProtoFileDecl {
  syntax: "proto2" | "proto3" | "editions";
  package: string;
  imports: { path: string; line: number }[];
  messages: MessageDecl[];
  enums: EnumDecl[];
  services: ServiceDecl[];
}
