/**
 * Links parsed .proto files into one ProtoSchema: every message and enum under its full name,
 * field and rpc types resolved by protobuf's scoping rules (innermost scope first), and a mistake
 * (an unknown type, a name defined twice) reported at its file and line.
 */
import type { EnumDecl, FieldDecl, MessageDecl, ProtoFileDecl } from "./ast.ts";
import {
  type ProtoSchema,
  SCALAR_TYPES,
  type SchemaField,
  type SchemaMessage,
} from "../contentviews/proto_schema.ts";

export interface ParsedFile {
  /** The file as the user would name it, for messages. */
  file: string;
  decl: ProtoFileDecl;
}

/** A mistake found while linking, already worded "file:line: what". */
export class ProtoLinkError extends Error {}

interface Declared {
  kind: "message" | "enum";
  file: string;
  line: number;
}

export function linkProtoFiles(files: ParsedFile[]): ProtoSchema {
  const declared = new Map<string, Declared>();
  const declare = (name: string, d: Declared) => {
    const before = declared.get(name);
    if (before !== undefined) {
      throw new ProtoLinkError(
        `${d.file}:${d.line}: ${name} is defined twice (also at ${before.file}:${before.line})`,
      );
    }
    declared.set(name, d);
  };
  const walk = (file: string, scope: string, messages: MessageDecl[], enums: EnumDecl[]) => {
    for (const e of enums) declare(join(scope, e.name), { kind: "enum", file, line: e.line });
    for (const m of messages) {
      const name = join(scope, m.name);
      declare(name, { kind: "message", file, line: m.line });
      walk(file, name, m.messages, m.enums);
    }
  };
  for (const f of files) walk(f.file, f.decl.package, f.decl.messages, f.decl.enums);

  const schema: ProtoSchema = { messages: {}, enums: {}, services: {} };
  const resolve = (written: string, scope: string, file: string, line: number, what: string) => {
    const found = resolveName(written, scope, declared);
    if (found === null) {
      throw new ProtoLinkError(`${file}:${line}: unknown type "${written}" ${what}`);
    }
    return found;
  };
  const addMessages = (file: string, scope: string, messages: MessageDecl[], enums: EnumDecl[]) => {
    for (const e of enums) {
      const values: Record<string, string> = {};
      for (const v of e.values) values[String(v.number)] ??= v.name;
      schema.enums[join(scope, e.name)] = { values };
    }
    for (const m of messages) {
      const name = join(scope, m.name);
      const out: SchemaMessage = { fields: [] };
      for (const f of m.fields) out.fields.push(linkField(f, name, file, resolve));
      schema.messages[name] = out;
      addMessages(file, name, m.messages, m.enums);
    }
  };
  for (const f of files) {
    const { decl } = f;
    addMessages(f.file, decl.package, decl.messages, decl.enums);
    for (const s of decl.services) {
      const methods: ProtoSchema["services"][string] = {};
      for (const m of s.methods) {
        const where = `in rpc ${s.name}.${m.name}`;
        const input = resolve(m.input, decl.package, f.file, m.line, where);
        const output = resolve(m.output, decl.package, f.file, m.line, where);
        const ends: [string, { kind: string }][] = [[m.input, input], [m.output, output]];
        for (const [written, found] of ends) {
          if (found.kind !== "message") {
            throw new ProtoLinkError(
              `${f.file}:${m.line}: rpc ${m.name} uses "${written}", an enum, as a message`,
            );
          }
        }
        methods[m.name] = {
          input: input.name,
          output: output.name,
          clientStreaming: m.clientStreaming,
          serverStreaming: m.serverStreaming,
        };
      }
      schema.services[join(decl.package, s.name)] = methods;
    }
  }
  return schema;
}

type Resolver = (
  written: string,
  scope: string,
  file: string,
  line: number,
  what: string,
) => { name: string; kind: "message" | "enum" };

function linkField(f: FieldDecl, scope: string, file: string, resolve: Resolver): SchemaField {
  const out: SchemaField = {
    name: f.name,
    number: f.number,
    type: f.type,
    repeated: f.label === "repeated",
  };
  if (f.oneof !== null) out.oneof = f.oneof;
  if (f.group) out.group = true;
  if (f.mapKey !== null) {
    if (!SCALAR_TYPES.has(f.mapKey) || ["double", "float", "bytes"].includes(f.mapKey)) {
      throw new ProtoLinkError(
        `${file}:${f.line}: map field "${f.name}" cannot have keys of type ${f.mapKey}`,
      );
    }
    out.mapKey = f.mapKey;
  }
  if (!SCALAR_TYPES.has(f.type)) {
    const found = resolve(f.type, scope, file, f.line, `for field "${f.name}" in ${scope}`);
    out.type = found.kind;
    out.typeName = found.name;
  }
  return out;
}

/** `written` as seen from `scope`: ".a.B" is absolute, else the innermost enclosing scope wins. */
function resolveName(
  written: string,
  scope: string,
  declared: Map<string, Declared>,
): { name: string; kind: "message" | "enum" } | null {
  if (written.startsWith(".")) {
    const d = declared.get(written.slice(1));
    return d ? { name: written.slice(1), kind: d.kind } : null;
  }
  let s = scope;
  while (true) {
    const name = join(s, written);
    const d = declared.get(name);
    if (d) return { name, kind: d.kind };
    if (s === "") return null;
    const dot = s.lastIndexOf(".");
    s = dot < 0 ? "" : s.slice(0, dot);
  }
}

function join(scope: string, name: string): string {
  return scope ? `${scope}.${name}` : name;
}
