/**
 * A .proto file's declarations: syntax/edition, package, imports, messages (nested, with oneofs,
 * maps and proto2 groups), enums and services. Options, reserved ranges, extensions and extend
 * blocks are read past, since decoding needs none of them except [packed]. Mistakes throw
 * ProtoSyntaxError with the line.
 */
import type {
  EnumDecl,
  FieldDecl,
  MessageDecl,
  MethodDecl,
  ProtoFileDecl,
  ServiceDecl,
} from "./ast.ts";
import { ProtoSyntaxError, type Token, tokenize } from "./lexer.ts";

/** Field numbers are 29 bits (the wire key keeps 3 bits for the wire type). */
const MAX_FIELD_NUMBER = 0x1fffffff;
const LABELS = new Set(["repeated", "optional", "required"]);

export function parseProto(source: string): ProtoFileDecl {
  return new Parser(tokenize(source)).file();
}

function shown(t: Token): string {
  if (t.kind === "eof") return "the end of the file";
  return t.kind === "string" ? JSON.stringify(t.text) + " (a string)" : `"${t.text}"`;
}

class Parser {
  private i = 0;
  constructor(private readonly t: Token[]) {}

  private peek(ahead = 0): Token {
    return this.t[Math.min(this.i + ahead, this.t.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.i++;
    return t;
  }
  private is(text: string): boolean {
    const t = this.peek();
    return (t.kind === "punct" || t.kind === "ident") && t.text === text;
  }
  private accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.i++;
    return true;
  }
  private fail(message: string, t = this.peek()): never {
    throw new ProtoSyntaxError(t.line, message);
  }
  private expect(text: string, where: string): void {
    if (!this.accept(text)) this.fail(`expected "${text}" ${where}, got ${shown(this.peek())}`);
  }
  private ident(what: string): string {
    const t = this.peek();
    if (t.kind !== "ident") this.fail(`expected ${what}, got ${shown(t)}`);
    this.i++;
    return t.text;
  }
  /** A dotted name, maybe fully qualified (leading dot). */
  private fullIdent(what: string): string {
    let name = this.accept(".") ? "." : "";
    name += this.ident(what);
    while (this.is(".")) {
      this.i++;
      name += "." + this.ident(what);
    }
    return name;
  }
  private string(what: string): string {
    const t = this.peek();
    if (t.kind !== "string") this.fail(`expected ${what} (a quoted string), got ${shown(t)}`);
    this.i++;
    let text = t.text;
    // Adjacent strings are one ("a" "b").
    while (this.peek().kind === "string") text += this.next().text;
    return text;
  }
  private integer(what: string): number {
    const negative = this.accept("-");
    const t = this.peek();
    if (t.kind !== "number" || !/^(0[xX][0-9A-Fa-f]+|[0-9]+)$/.test(t.text)) {
      this.fail(`expected ${what} (a whole number), got ${shown(t)}`);
    }
    this.i++;
    const n = /^0[xX]/.test(t.text)
      ? parseInt(t.text, 16)
      : /^0[0-7]+$/.test(t.text)
      ? parseInt(t.text, 8)
      : Number(t.text);
    return negative ? -n : n;
  }
  /** Reads past a statement up to and with its ";", minding nested braces and brackets. */
  private skipStatement(what: string): void {
    const start = this.peek();
    let depth = 0;
    while (true) {
      const t = this.next();
      if (t.kind === "eof") this.fail(`${what} on line ${start.line} never ends with ";"`, t);
      if (t.kind !== "punct") continue;
      if (t.text === "{" || t.text === "[" || t.text === "(") depth++;
      else if (t.text === "}" || t.text === "]" || t.text === ")") depth--;
      else if (t.text === ";" && depth === 0) return;
      if (depth < 0) this.fail(`unbalanced "${t.text}" in ${what}`, t);
    }
  }
  /** Reads past a `{ ... }` block. */
  private skipBlock(what: string): void {
    const open = this.peek();
    this.expect("{", `to open ${what}`);
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === "eof") this.fail(`${what} opened on line ${open.line} is never closed`, t);
      if (t.kind === "punct" && t.text === "{") depth++;
      if (t.kind === "punct" && t.text === "}") depth--;
    }
  }

  file(): ProtoFileDecl {
    const out: ProtoFileDecl = {
      syntax: "proto2",
      package: "",
      imports: [],
      messages: [],
      enums: [],
      services: [],
    };
    while (this.peek().kind !== "eof") {
      if (this.accept(";")) continue;
      const t = this.peek();
      const word = this.ident("a declaration (message, enum, service, import, ...)");
      switch (word) {
        case "syntax": {
          this.expect("=", 'after "syntax"');
          const value = this.string("the syntax");
          if (value !== "proto2" && value !== "proto3") {
            this.fail(`unknown syntax "${value}" (expected "proto2" or "proto3")`, t);
          }
          out.syntax = value;
          this.expect(";", "after the syntax");
          break;
        }
        case "edition":
          this.expect("=", 'after "edition"');
          this.string("the edition");
          out.syntax = "editions";
          this.expect(";", "after the edition");
          break;
        case "package":
          if (out.package) this.fail("a second package statement", t);
          out.package = this.fullIdent("the package name").replace(/^\./, "");
          this.expect(";", "after the package name");
          break;
        case "import":
          if (this.is("public") || this.is("weak")) this.i++;
          out.imports.push({ path: this.string("the file to import"), line: t.line });
          this.expect(";", "after the import");
          break;
        case "option":
          this.skipStatement("the option");
          break;
        case "message":
          out.messages.push(this.message(t.line));
          break;
        case "enum":
          out.enums.push(this.enumeration(t.line));
          break;
        case "service":
          out.services.push(this.service(t.line));
          break;
        case "extend":
          this.fullIdent("the message to extend");
          this.skipBlock("the extend block");
          break;
        default:
          this.fail(`unexpected "${word}" at the top level of the file`, t);
      }
    }
    return out;
  }

  private message(line: number, name = this.ident("the message name")): MessageDecl {
    const out: MessageDecl = { name, fields: [], messages: [], enums: [], line };
    this.expect("{", `to open message ${name}`);
    this.messageBody(out, null);
    const seen = new Map<number, string>();
    for (const f of out.fields) {
      const other = seen.get(f.number);
      if (other !== undefined) {
        throw new ProtoSyntaxError(
          f.line,
          `field number ${f.number} is used by both "${other}" and "${f.name}" in message ${name}`,
        );
      }
      seen.set(f.number, f.name);
    }
    return out;
  }

  /** Statements up to the closing "}" of a message or (with `oneof`) a oneof. */
  private messageBody(out: MessageDecl, oneof: string | null): void {
    const what = oneof === null ? `message ${out.name}` : `oneof ${oneof}`;
    while (!this.accept("}")) {
      const t = this.peek();
      if (t.kind === "eof") this.fail(`${what} is never closed (a "}" is missing)`, t);
      if (this.accept(";")) continue;
      if (t.kind !== "ident") {
        this.fail(`expected a field or declaration in ${what}, got ${shown(t)}`);
      }
      const word = t.text;
      const nextIsName = this.peek(1).kind === "ident";
      if (oneof === null && nextIsName && word === "message") {
        this.i++;
        out.messages.push(this.message(t.line));
      } else if (oneof === null && nextIsName && word === "enum") {
        this.i++;
        out.enums.push(this.enumeration(t.line));
      } else if (word === "option") {
        this.skipStatement("the option");
      } else if (word === "reserved" || word === "extensions") {
        this.skipStatement(`the ${word} statement`);
      } else if (oneof === null && word === "extend" && this.peek(1).text !== "=") {
        this.i++;
        this.fullIdent("the message to extend");
        this.skipBlock("the extend block");
      } else if (oneof === null && word === "oneof" && nextIsName && this.peek(2).text === "{") {
        this.i++;
        const name = this.ident("the oneof name");
        this.expect("{", `to open oneof ${name}`);
        this.messageBody(out, name);
      } else if (oneof === null && word === "map" && this.peek(1).text === "<") {
        out.fields.push(this.mapField());
      } else {
        this.field(out, oneof);
      }
    }
  }

  private field(out: MessageDecl, oneof: string | null): void {
    const start = this.peek();
    let label: FieldDecl["label"] = null;
    // "optional = 1" would be a field named optional; anything else after a label is a type.
    if (start.kind === "ident" && LABELS.has(start.text) && this.peek(1).text !== "=") {
      if (oneof !== null) this.fail(`a field in oneof ${oneof} cannot be ${start.text}`);
      label = start.text as FieldDecl["label"];
      this.i++;
    }
    if (this.is("group") && this.peek(1).kind === "ident" && /^[A-Z]/.test(this.peek(1).text)) {
      this.i++;
      const name = this.ident("the group name");
      this.expect("=", `after group ${name}`);
      const number = this.fieldNumber();
      const packed = this.is("[") ? this.fieldOptions() : null;
      const body = this.message(start.line, name);
      out.messages.push(body);
      out.fields.push({
        name: name.toLowerCase(),
        number,
        type: name,
        label,
        packed,
        oneof,
        mapKey: null,
        group: true,
        line: start.line,
      });
      return;
    }
    const type = this.fullIdent("a field type");
    const name = this.ident(`the name of a field of type ${type}`);
    this.expect("=", `after field name "${name}"`);
    const number = this.fieldNumber();
    const packed = this.is("[") ? this.fieldOptions() : null;
    this.expect(";", `after field "${name}"`);
    out.fields.push({
      name,
      number,
      type,
      label,
      packed,
      oneof,
      mapKey: null,
      group: false,
      line: start.line,
    });
  }

  private mapField(): FieldDecl {
    const start = this.next();
    this.expect("<", 'after "map"');
    const key = this.fullIdent("the map's key type");
    this.expect(",", "after the map's key type");
    const value = this.fullIdent("the map's value type");
    this.expect(">", "after the map's value type");
    const name = this.ident("the name of the map field");
    this.expect("=", `after field name "${name}"`);
    const number = this.fieldNumber();
    if (this.is("[")) this.fieldOptions();
    this.expect(";", `after field "${name}"`);
    return {
      name,
      number,
      type: value,
      label: "repeated",
      packed: null,
      oneof: null,
      mapKey: key,
      group: false,
      line: start.line,
    };
  }

  private fieldNumber(): number {
    const t = this.peek();
    const n = this.integer("a field number");
    if (n < 1 || n > MAX_FIELD_NUMBER) {
      this.fail(`field number ${n} is out of range (1 to ${MAX_FIELD_NUMBER})`, t);
    }
    return n;
  }

  /** `[a = 1, (custom).b = {...}]`: read past, keeping what says whether the field is packed. */
  private fieldOptions(): boolean | null {
    const open = this.next();
    let packed: boolean | null = null;
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === "eof") this.fail(`field options "[" on line ${open.line} are never closed`, t);
      if (t.kind === "punct" && (t.text === "[" || t.text === "{")) depth++;
      else if (t.kind === "punct" && (t.text === "]" || t.text === "}")) depth--;
      else if (depth === 1 && t.kind === "ident" && this.is("=")) {
        const value = this.peek(1).text;
        if (t.text === "packed") packed = value === "true";
        if (t.text === "repeated_field_encoding") packed = value === "PACKED";
      }
    }
    return packed;
  }

  private enumeration(line: number): EnumDecl {
    const name = this.ident("the enum name");
    const out: EnumDecl = { name, values: [], line };
    this.expect("{", `to open enum ${name}`);
    while (!this.accept("}")) {
      const t = this.peek();
      if (t.kind === "eof") this.fail(`enum ${name} is never closed (a "}" is missing)`, t);
      if (this.accept(";")) continue;
      if (t.text === "option" || t.text === "reserved") {
        this.skipStatement(`the ${t.text} statement`);
        continue;
      }
      const value = this.ident(`a value name in enum ${name}`);
      this.expect("=", `after enum value ${value}`);
      const number = this.integer(`the number of enum value ${value}`);
      if (this.is("[")) this.fieldOptions();
      this.expect(";", `after enum value ${value}`);
      out.values.push({ name: value, number });
    }
    return out;
  }

  private service(line: number): ServiceDecl {
    const name = this.ident("the service name");
    const out: ServiceDecl = { name, methods: [], line };
    this.expect("{", `to open service ${name}`);
    while (!this.accept("}")) {
      const t = this.peek();
      if (t.kind === "eof") this.fail(`service ${name} is never closed (a "}" is missing)`, t);
      if (this.accept(";")) continue;
      if (this.accept("option")) {
        this.skipStatement("the option");
        continue;
      }
      if (!this.accept("rpc")) this.fail(`expected "rpc" in service ${name}, got ${shown(t)}`);
      out.methods.push(this.method(t.line));
    }
    return out;
  }

  /** `stream` before an rpc's type; a message named stream would be followed by ")". */
  private streamMarker(): boolean {
    if (!this.is("stream") || this.peek(1).text === ")") return false;
    this.i++;
    return true;
  }

  private method(line: number): MethodDecl {
    const name = this.ident("the rpc name");
    this.expect("(", `after rpc ${name}`);
    const clientStreaming = this.streamMarker();
    const input = this.fullIdent(`the request type of rpc ${name}`);
    this.expect(")", `after the request type of rpc ${name}`);
    this.expect("returns", `after the request type of rpc ${name}`);
    this.expect("(", `after "returns" in rpc ${name}`);
    const serverStreaming = this.streamMarker();
    const output = this.fullIdent(`the response type of rpc ${name}`);
    this.expect(")", `after the response type of rpc ${name}`);
    if (this.is("{")) this.skipBlock(`the body of rpc ${name}`);
    else this.expect(";", `after rpc ${name}`);
    return { name, input, output, clientStreaming, serverStreaming, line };
  }
}
