/** Protobuf and gRPC bodies decoded with .proto files: names, enums, exact 64-bit integers. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type BodyAbout,
  chooseProtoType,
  type ProtoSchema,
  renderBody,
  setProtoSchemaProvider,
} from "../../src/contentviews/mod.ts";
import { loadProtoDefinitions } from "../../src/protobuf/load.ts";
import { Encoder, grpcFrame } from "../protobuf/encode.ts";

const PROTO = `syntax = "proto3";
package demo.v1;
import "google/protobuf/timestamp.proto";
import "google/protobuf/any.proto";
enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; KIND_B = 2; }
message Order {
  string name = 1;
  int64 big = 2;
  uint64 huge = 3;
  repeated int32 nums = 4;
  map<string, int64> counts = 5;
  Kind kind = 6;
  oneof pay { string card = 7; Item item = 8; }
  google.protobuf.Timestamp at = 9;
  sint64 delta = 10;
  double price = 11;
  float ratio = 12;
  bool ok = 13;
  bytes blob = 14;
  fixed64 f64 = 15;
  sfixed32 s32 = 16;
  repeated Item items = 17;
  map<int32, Item> by_id = 18;
  repeated string tags = 19;
  google.protobuf.Any extra = 20;
  message Item { string sku = 1; }
}
service Shop {
  rpc Place (Order) returns (Order.Item);
  rpc Watch (Order.Item) returns (stream Order);
}
`;

const PROTO2 = `syntax = "proto2";
package old;
message Search { repeated group Result = 1 { required string url = 2; } repeated int32 ids = 3; }
`;

let schema: ProtoSchema;
let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-proto-view-"));
  fs.writeFileSync(path.join(dir, "shop.proto"), PROTO);
  fs.writeFileSync(path.join(dir, "old.proto"), PROTO2);
  fs.writeFileSync(
    path.join(dir, "ed.proto"),
    `edition = "2023"; package ed;
     message Outer { Inner inner = 1 [features.message_encoding = DELIMITED]; }
     message Inner { int32 x = 1; }`,
  );
  schema = loadProtoDefinitions(dir).schema;
  setProtoSchemaProvider(() => schema);
});
after(() => {
  setProtoSchemaProvider(() => null);
  fs.rmSync(dir, { recursive: true, force: true });
});

const plain = (r: { lines: { text: string }[][] }) =>
  r.lines.map((l) => l.map((s) => s.text).join(""));

function about(
  pathname: string,
  side: "request" | "response",
  headers: Record<string, string> = {},
): BodyAbout {
  return { path: pathname, side, header: (n) => headers[n.toLowerCase()] ?? null };
}

function order(): Uint8Array {
  return new Encoder()
    .string(1, "ünïcode")
    .varint(2, -9007199254740993n) // int64 below -2^53: a JS number would round it
    .varint(3, 18446744073709551615n)
    .packedVarints(4, [1, -1, 300])
    .bytes(5, new Encoder().string(1, "a").varint(2, 9223372036854775807n))
    .bytes(5, new Encoder().string(1, "b")) // value left out: its default
    .varint(6, 2)
    .bytes(8, new Encoder().string(1, "sku-1"))
    .bytes(9, new Encoder().varint(1, 1700000000).varint(2, 5))
    .zigzag(10, -3)
    .double(11, 0.1)
    .float(12, 0.1)
    .varint(13, 1)
    .bytes(14, new Uint8Array([0, 1, 2, 255]))
    .fixed64(15, 18446744073709551615n)
    .fixed32(16, 0xfffffffe)
    .bytes(17, new Encoder().string(1, "x"))
    .bytes(17, new Encoder())
    .bytes(18, new Encoder().varint(1, -7).bytes(2, new Encoder().string(1, "neg")))
    .string(19, "t1")
    .string(19, "t2")
    .varint(99, 150) // not in the schema
    .finish();
}

describe("protobuf with a schema", () => {
  test("a plain protobuf body names its type in the content type", () => {
    const r = renderBody(order(), 'application/x-protobuf; messageType="demo.v1.Order"', "auto");
    assert.equal(r.view, "protobuf");
    assert.deepEqual(plain(r), [
      "demo.v1.Order (named by the content type's messagetype=)",
      'name: "ünïcode"',
      "big: -9007199254740993",
      "huge: 18446744073709551615",
      "nums: [1, -1, 300]",
      'counts["a"]: 9223372036854775807',
      'counts["b"]: 0',
      "kind: KIND_B",
      "item {",
      '  sku: "sku-1"',
      "}",
      "at {",
      "  seconds: 1700000000",
      "  nanos: 5",
      "}",
      "delta: -3",
      "price: 0.1",
      "ratio: 0.1",
      "ok: true",
      "blob: 00 01 02 ff",
      "f64: 18446744073709551615",
      "s32: -2",
      "items {",
      '  sku: "x"',
      "}",
      "items {}",
      "by_id[-7] {",
      '  sku: "neg"',
      "}",
      'tags: "t1"',
      'tags: "t2"',
      "99: 150  varint, sint 75  (unknown field)",
    ]);
  });

  test("kinds colour names, enum values and numbers", () => {
    const r = renderBody(
      new Encoder().varint(6, 1).varint(2, 5).finish(),
      "application/protobuf; proto=demo.v1.Order",
      "auto",
    );
    const kinds = r.lines.flat().filter((s) => s.kind).map((s) => `${s.kind}:${s.text}`);
    assert.ok(kinds.includes("key:kind") && kinds.includes("literal:KIND_A"), kinds.join(" "));
    assert.ok(kinds.includes("number:5"));
  });

  test("a gRPC request and response take the rpc's input and output types from the path", () => {
    const request = grpcFrame(new Encoder().string(1, "widget").varint(6, 1).finish());
    const req = renderBody(
      request,
      "application/grpc",
      "auto",
      5000,
      about("/demo.v1.Shop/Place", "request"),
    );
    assert.deepEqual(plain(req), [
      "demo.v1.Order (request of rpc demo.v1.Shop/Place)",
      "message 1 (10 bytes)",
      '  name: "widget"',
      "  kind: KIND_A",
    ]);
    const response = grpcFrame(new Encoder().string(1, "sku-9").finish());
    const res = renderBody(
      response,
      "application/grpc+proto",
      "auto",
      5000,
      about("/demo.v1.Shop/Place", "response"),
    );
    assert.deepEqual(plain(res), [
      "demo.v1.Order.Item (response of rpc demo.v1.Shop/Place)",
      "message 1 (7 bytes)",
      '  sku: "sku-9"',
    ]);
    // A server stream: each message of the body decoded as the output type.
    const stream = grpcFrame(
      new Encoder().string(1, "one").finish(),
      new Encoder().string(1, "two").varint(2, 1n << 62n).finish(),
    );
    const watched = plain(
      renderBody(
        stream,
        "application/grpc",
        "auto",
        5000,
        about("/demo.v1.Shop/Watch", "response"),
      ),
    );
    assert.deepEqual(watched, [
      "demo.v1.Order (response of rpc demo.v1.Shop/Watch)",
      "message 1 (5 bytes)",
      '  name: "one"',
      "message 2 (15 bytes)",
      '  name: "two"',
      "  big: 4611686018427387904",
    ]);
  });

  test("Twirp-style paths and the grpc-message-type header name the type too", () => {
    const body = new Encoder().string(1, "s").finish();
    assert.equal(
      plain(
        renderBody(
          body,
          "application/protobuf",
          "auto",
          5000,
          about("/twirp/demo.v1.Shop/Place", "response"),
        ),
      )[0],
      "demo.v1.Order.Item (response of rpc demo.v1.Shop/Place)",
    );
    assert.equal(
      plain(
        renderBody(
          body,
          "application/x-protobuf",
          "auto",
          5000,
          about("/x", "request", { "grpc-message-type": "Order.Item" }),
        ),
      )[0],
      "demo.v1.Order.Item (named by the grpc-message-type header)",
    );
  });

  test("without a known type the body is shown without a schema, as before", () => {
    const body = new Encoder().string(1, "s").varint(2, 5).finish();
    const r = plain(
      renderBody(body, "application/x-protobuf", "auto", 5000, about("/api/x", "request")),
    );
    assert.deepEqual(r, ['1: "s"', "2: 5  varint, sint -3"]);
    const unknown = plain(renderBody(body, "application/x-protobuf; proto=no.Such", "auto"));
    assert.equal(
      unknown[0],
      "no.Such (named by the content type's proto=) is not in protobuf_definitions: shown without a schema",
    );
    assert.deepEqual(unknown.slice(1), r);
  });

  test("a field whose wire type does not match its declaration is shown by number and says so", () => {
    const body = new Encoder().varint(1, 7).string(2, "not a number").finish();
    const r = plain(renderBody(body, "application/x-protobuf; proto=demo.v1.Order", "auto"));
    assert.deepEqual(r.slice(1), [
      "1: 7  varint, sint -4  (field name is string but came as varint)",
      '2: "not a number"  (field big is int64 but came as length-delimited)',
    ]);
  });

  test("proto2 groups and unpacked repeated numbers", () => {
    const body = new Encoder()
      .group(1, new Encoder().string(2, "https://a"))
      .group(1, new Encoder().string(2, "https://b"))
      .varint(3, 1)
      .varint(3, 2)
      .finish();
    assert.deepEqual(
      plain(renderBody(body, "application/x-protobuf; proto=old.Search", "auto")).slice(1),
      [
        "result {",
        '  url: "https://a"',
        "}",
        "result {",
        '  url: "https://b"',
        "}",
        "ids: 1",
        "ids: 2",
      ],
    );
  });

  test("editions: a DELIMITED message field (start/end-group tags) is read as its message", () => {
    const body = new Encoder().group(1, new Encoder().varint(1, 5)).finish();
    assert.deepEqual(plain(renderBody(body, "application/x-protobuf; proto=ed.Outer", "auto")), [
      "ed.Outer (named by the content type's proto=)",
      "inner {",
      "  x: 5",
      "}",
    ]);
  });

  test("bytes that are not protobuf fall back to hex and say why, with a schema too", () => {
    const r = renderBody(
      new Uint8Array([0x0a, 0x05, 0xff]),
      "application/x-protobuf; proto=demo.v1.Order",
      "auto",
    );
    assert.equal(r.view, "hex");
    assert.match(r.note ?? "", /past the end: shown as hex/);
  });

  test("chooseProtoType: nothing without a schema", () => {
    assert.equal(
      chooseProtoType(null, about("/demo.v1.Shop/Place", "request"), "application/grpc"),
      null,
    );
  });
});

describe("google.protobuf.Any", () => {
  const any = (url: string, value: Encoder) =>
    new Encoder().bytes(20, new Encoder().string(1, url).bytes(2, value)).finish();
  test("a packed message of a known type is shown as that type", () => {
    const body = any("type.googleapis.com/demo.v1.Order.Item", new Encoder().string(1, "in-any"));
    assert.deepEqual(
      plain(renderBody(body, "application/x-protobuf; proto=demo.v1.Order", "auto")),
      [
        "demo.v1.Order (named by the content type's proto=)",
        "extra {",
        "  [type.googleapis.com/demo.v1.Order.Item] {",
        '    sku: "in-any"',
        "  }",
        "}",
      ],
    );
  });
  test("an unknown type URL leaves the Any as its two fields", () => {
    const body = any("type.googleapis.com/no.Such", new Encoder().string(1, "x"));
    const lines = plain(renderBody(body, "application/x-protobuf; proto=demo.v1.Order", "auto"));
    assert.deepEqual(lines.slice(1, 3), ["extra {", '  type_url: "type.googleapis.com/no.Such"']);
    assert.match(lines[3], /^ {2}value: /);
  });
});

describe("hostile bodies", () => {
  test("groups nested a million deep are refused, not recursed into", () => {
    const depth = 1_000_000;
    const body = new Uint8Array(depth * 2);
    body.fill(0x0b, 0, depth); // start group, field 1
    body.fill(0x0c, depth); // end group, field 1
    for (const type of [null, "old.Search"]) {
      const r = renderBody(
        body,
        type ? `application/x-protobuf; proto=${type}` : "application/x-protobuf",
        "auto",
      );
      assert.equal(r.view, "raw"); // control characters only: valid UTF-8
      assert.match(r.note ?? "", /nested too deep/);
    }
  });
});
