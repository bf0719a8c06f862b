/** The .proto parser and loader: what it reads, and one line with file:line for each mistake. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseProto } from "../../src/protobuf/parser.ts";
import { ProtoSyntaxError } from "../../src/protobuf/lexer.ts";
import { loadProtoDefinitions, ProtoLoadError } from "../../src/protobuf/load.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-proto-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes files under a fresh directory; returns its path. */
function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(dir, "t-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

function loadError(given: string): string {
  try {
    loadProtoDefinitions(given);
  } catch (e) {
    assert.ok(e instanceof ProtoLoadError, String(e));
    assert.ok(!e.message.includes("\n"), "one line");
    return e.message;
  }
  assert.fail("expected a ProtoLoadError");
}

describe("parseProto", () => {
  test("proto3: package, imports, nested messages, enums, oneof, map, options, services", () => {
    const file = parseProto(`
      // leading comment
      syntax = "proto3";
      package shop.v1;
      import "google/protobuf/timestamp.proto";
      import public "other.proto";
      option java_package = "com.example" /* trailing */;
      option (my.opt) = { a: 1, b: [2, 3] };
      message Order {
        option deprecated = true;
        reserved 4, 8 to 10, 20 to max;
        reserved "gone", 'old';
        int64 id = 1 [jstype = JS_STRING, (x.y).z = "w"];
        repeated Item items = 2;
        map<string, Item> by_sku = 3;
        oneof payment { string card = 5; bytes token = 6; }
        optional uint32 qty = 7;
        message Item { string sku = 1; Status status = 2; }
        enum Status { option allow_alias = true; NEW = 0; OLD = 1; LEGACY = 1 [deprecated = true]; NEG = -2; }
        ;
      }
      service Shop {
        option (svc) = "x";
        rpc Get (Order) returns (Order);
        rpc Watch (Order) returns (stream Order) {}
        rpc Upload (stream .shop.v1.Order) returns (Order) { option idempotency_level = NO_SIDE_EFFECTS; }
      }
    `);
    assert.equal(file.syntax, "proto3");
    assert.equal(file.package, "shop.v1");
    assert.deepEqual(file.imports.map((i) => i.path), [
      "google/protobuf/timestamp.proto",
      "other.proto",
    ]);
    const order = file.messages[0];
    assert.deepEqual(
      order.fields.map((f) => [f.name, f.number, f.type, f.label, f.oneof, f.mapKey]),
      [
        ["id", 1, "int64", null, null, null],
        ["items", 2, "Item", "repeated", null, null],
        ["by_sku", 3, "Item", "repeated", null, "string"],
        ["card", 5, "string", null, "payment", null],
        ["token", 6, "bytes", null, "payment", null],
        ["qty", 7, "uint32", "optional", null, null],
      ],
    );
    assert.equal(order.messages[0].name, "Item");
    assert.deepEqual(order.enums[0].values, [
      { name: "NEW", number: 0 },
      { name: "OLD", number: 1 },
      { name: "LEGACY", number: 1 },
      { name: "NEG", number: -2 },
    ]);
    assert.deepEqual(
      file.services[0].methods.map((m) => [m.name, m.input, m.clientStreaming, m.serverStreaming]),
      [
        ["Get", "Order", false, false],
        ["Watch", "Order", false, true],
        ["Upload", ".shop.v1.Order", true, false],
      ],
    );
  });

  test("proto2: required, groups, extensions, extend, default values, hex and octal numbers", () => {
    const file = parseProto(`
      syntax = "proto2";
      message Search {
        required string query = 0x1;
        optional int32 page = 02 [default = 10];
        repeated group Result = 3 { required string url = 4; optional string title = 5; }
        extensions 100 to 199;
        repeated int32 ids = 6 [packed = true];
      }
      extend Search { optional int32 extra = 100; }
    `);
    assert.equal(file.syntax, "proto2");
    const m = file.messages[0];
    assert.deepEqual(m.fields.map((f) => [f.name, f.number, f.type, f.label, f.group]), [
      ["query", 1, "string", "required", false],
      ["page", 2, "int32", "optional", false],
      ["result", 3, "Result", "repeated", true],
      ["ids", 6, "int32", "repeated", false],
    ]);
    assert.equal(m.fields[3].packed, true);
    assert.deepEqual(m.messages[0].fields.map((f) => f.name), ["url", "title"]);
  });

  test("strings, numbers and comments as the lexer reads them", () => {
    const file = parseProto(`
      import "a" 'b' "\\x41\\101\\u00e9.proto"; // adjacent strings are one; escapes
      /* a "quoted" word; and } a brace */ message M {
        double d = 1 [default = -inf]; float f = 2 [default = 1.5e-3];
        string s = 3 [default = "a;b}"]; // "}" in a string ends nothing
        int32 h = 0x7f; int32 o = 017;
      }
    `);
    assert.equal(file.imports[0].path, "abAAé.proto");
    assert.deepEqual(file.messages[0].fields.map((f) => [f.name, f.number]), [
      ["d", 1],
      ["f", 2],
      ["s", 3],
      ["h", 127],
      ["o", 15],
    ]);
  });

  test("editions files are read too", () => {
    const file = parseProto(
      `edition = "2023"; message A { int32 a = 1 [features.field_presence = EXPLICIT]; }`,
    );
    assert.equal(file.syntax, "editions");
    assert.equal(file.messages[0].fields[0].name, "a");
  });

  const mistakes: [string, string, number, RegExp][] = [
    [
      "missing semicolon",
      `syntax = "proto3";\nmessage A {\n  int32 a = 1\n}`,
      4,
      /expected ";" after field "a", got "}"/,
    ],
    ["unclosed message", `message A {\n  int32 a = 1;\n`, 3, /message A is never closed/],
    ["bad field number", `message A {\n  int32 a = 0;\n}`, 2, /field number 0 is out of range/],
    [
      "duplicate number",
      `message A {\n int32 a = 1;\n int32 b = 1;\n}`,
      3,
      /field number 1 is used by both "a" and "b"/,
    ],
    ["unknown syntax", `syntax = "proto4";`, 1, /unknown syntax "proto4"/],
    ["unclosed comment", `message A {}\n/* no end`, 2, /comment \/\* is never closed/],
    ["stray word", `message A {}\nmesage B {}`, 2, /unexpected "mesage" at the top level/],
    ["unclosed string", `import "a.proto;\n`, 1, /string is never closed/],
    ["rpc without returns", `service S {\n rpc A (B) (C);\n}`, 2, /expected "returns"/],
    [
      "label in oneof",
      `message A {\n oneof o {\n  repeated int32 a = 1;\n }\n}`,
      3,
      /cannot be repeated/,
    ],
  ];
  for (const [what, source, line, message] of mistakes) {
    test(`a mistake is reported at its line: ${what}`, () => {
      assert.throws(() => parseProto(source), (e: unknown) => {
        assert.ok(e instanceof ProtoSyntaxError, String(e));
        assert.equal(e.line, line, e.message);
        assert.match(e.message, message);
        return true;
      });
    });
  }
});

describe("loadProtoDefinitions", () => {
  test("a directory: every file, imports relative to it, well-known types built in", () => {
    const root = tree({
      "api/greeter.proto": `syntax = "proto3"; package demo;
        import "common/kind.proto"; import "google/protobuf/timestamp.proto";
        message Hi { Kind kind = 1; google.protobuf.Timestamp at = 2; Outer.Inner inner = 3; }
        message Outer { message Inner { int32 x = 1; } Inner i = 1; }
        service Greeter { rpc Say (Hi) returns (.demo.Outer); }`,
      "common/kind.proto": `syntax = "proto3"; package demo; enum Kind { A = 0; B = 1; }`,
      ".hidden/skip.proto": `this is not read`,
    });
    const { schema, files } = loadProtoDefinitions(root);
    assert.deepEqual(files.map((f) => path.relative(root, f)).sort(), [
      "api/greeter.proto",
      "common/kind.proto",
    ]);
    assert.deepEqual(Object.keys(schema.messages).sort(), [
      "demo.Hi",
      "demo.Outer",
      "demo.Outer.Inner",
      "google.protobuf.Timestamp",
    ]);
    const hi = schema.messages["demo.Hi"].fields;
    assert.deepEqual(hi.map((f) => [f.name, f.type, f.typeName]), [
      ["kind", "enum", "demo.Kind"],
      ["at", "message", "google.protobuf.Timestamp"],
      ["inner", "message", "demo.Outer.Inner"],
    ]);
    assert.deepEqual(schema.services["demo.Greeter"].Say, {
      input: "demo.Hi",
      output: "demo.Outer",
      clientStreaming: false,
      serverStreaming: false,
    });
    assert.deepEqual(schema.enums["demo.Kind"].values, { "0": "A", "1": "B" });
  });

  test("one file: its imports are looked up beside it", () => {
    const root = tree({
      "a.proto": `syntax = "proto3"; import "b.proto"; message A { B b = 1; }`,
      "b.proto": `syntax = "proto3"; message B { string s = 1; }`,
    });
    const { schema } = loadProtoDefinitions(path.join(root, "a.proto"));
    assert.equal(schema.messages.A.fields[0].typeName, "B");
  });

  test("mistakes are one line naming the file and the line", () => {
    const root = tree({
      "ok.proto": `syntax = "proto3";\nimport "broken.proto";\nmessage Ok {}`,
      "broken.proto": `syntax = "proto3";\n\nmessage Broken {\n  strin name = 1\n}\n`,
    });
    assert.equal(
      loadError(path.join(root, "ok.proto")),
      `${path.join(root, "broken.proto")}:5: expected ";" after field "name", got "}"`,
    );
    const unknown = tree({ "u.proto": `syntax = "proto3";\nmessage U {\n  Missing m = 1;\n}` });
    assert.equal(
      loadError(unknown),
      `${path.join(unknown, "u.proto")}:3: unknown type "Missing" for field "m" in U`,
    );
    const noImport = tree({ "i.proto": `syntax = "proto3";\n\nimport "nowhere/x.proto";` });
    assert.match(
      loadError(noImport),
      new RegExp(`i\\.proto:3: imported file "nowhere/x\\.proto" not found \\(looked in `),
    );
    const twice = tree({ "a.proto": `message X {}`, "b.proto": `\nmessage X {}` });
    assert.match(loadError(twice), /b\.proto:2: X is defined twice \(also at .*a\.proto:1\)/);
    assert.match(loadError(path.join(dir, "absent.proto")), /absent\.proto: no such file/);
    assert.match(loadError(tree({ "readme.txt": "x" })), /no \.proto files in this directory/);
  });
});
