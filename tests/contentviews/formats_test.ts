/** The contentviews for markup, code, forms, images, protobuf/gRPC, MessagePack and GraphQL. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import {
  autoView,
  cookiePairs,
  decodeProtobuf,
  grpcMessages,
  imageInfo,
  msgpackToJson,
  queryPairs,
  rawMembers,
  renderBody,
  setCookieRows,
  VIEW_NAMES,
} from "../../src/contentviews/mod.ts";

const utf8 = new TextEncoder();
const plain = (r: { lines: { text: string }[][] }) =>
  r.lines.map((l) => l.map((s) => s.text).join(""));
const kinds = (r: { lines: { text: string; kind?: string }[][] }) =>
  r.lines.flat().filter((s) => s.kind).map((s) => `${s.kind}:${s.text}`);

describe("auto picks the view from the content type and the bytes", () => {
  const cases: [string | null, string, string][] = [
    ["application/json", '{"a":1}', "json"],
    ["application/json", '{"query":"query Q { a }"}', "graphql"],
    ["text/html; charset=utf-8", "<p>x</p>", "html"],
    ["application/xml", "<a/>", "xml"],
    ["application/javascript", "let a = 1", "javascript"],
    ["text/css", "a{b:c}", "css"],
    ["application/x-www-form-urlencoded", "a=1", "urlencoded"],
    ["multipart/form-data; boundary=x", "--x--", "multipart"],
    ["application/grpc", "\0\0\0\0\0", "grpc"],
    ["application/x-protobuf", "\x08\x01", "protobuf"],
    ["application/msgpack", "x", "msgpack"],
    [null, "<!doctype html><p>", "html"],
    [null, "plain words", "raw"],
  ];
  for (const [type, body, view] of cases) {
    test(`${type} ${JSON.stringify(body)} -> ${view}`, () => {
      assert.equal(autoView(utf8.encode(body), type), view);
    });
  }
});

describe("markup and code", () => {
  test("XML is indented one element a line, text beside its element", () => {
    const r = renderBody(
      utf8.encode('<?xml version="1.0"?><a x="1"><b>t</b><c/></a>'),
      null,
      "xml",
    );
    assert.deepEqual(plain(r), [
      '<?xml version="1.0"?>',
      '<a x="1">',
      "  <b>t</b>",
      "  <c/>",
      "</a>",
    ]);
    assert.ok(kinds(r).includes("attr:x") && kinds(r).includes('string:"1"'));
  });

  test("HTML keeps its lines; tags, attributes, comments highlighted", () => {
    const r = renderBody(utf8.encode('<div class="a">\n<!-- c -->hi</div>'), "text/html", "auto");
    assert.deepEqual(plain(r), ['<div class="a">', "<!-- c -->hi</div>"]);
    assert.deepEqual(kinds(r), [
      "tag:<div",
      "attr:class",
      "punct:=",
      'string:"a"',
      "tag:>",
      "comment:<!-- c -->",
      "tag:</div",
      "tag:>",
    ]);
  });

  test("JavaScript: keywords, strings, comments, numbers; text unchanged", () => {
    const src = "const a = 'x'; // c\nreturn 42;";
    const r = renderBody(utf8.encode(src), "text/javascript", "auto");
    assert.equal(plain(r).join("\n"), src);
    for (
      const k of ["keyword:const", "string:'x'", "comment:// c", "keyword:return", "number:42"]
    ) {
      assert.ok(kinds(r).includes(k), k);
    }
  });

  test("CSS: selectors, properties, values; text unchanged", () => {
    const src = "a.b > c { color: #fff; width: 10px }";
    const r = renderBody(utf8.encode(src), "text/css", "auto");
    assert.equal(plain(r).join("\n"), src);
    for (const k of ["tag:a.b > c", "attr:color", "number:#fff", "number:10px"]) {
      assert.ok(kinds(r).includes(k), k);
    }
  });
});

describe("forms and tables", () => {
  test("multipart: each part with its headers, text bodies, binary sizes", () => {
    const body = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue 1\r\n'),
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="up"; filename="a.bin"\r\n'),
      Buffer.from("Content-Type: application/octet-stream\r\n\r\n"),
      Buffer.from([0xff, 0xfe, 0x00, 0x01]),
      Buffer.from("\r\n--XyZ--\r\n"),
    ]);
    const r = renderBody(new Uint8Array(body), 'multipart/form-data; boundary="XyZ"', "auto");
    const lines = plain(r);
    assert.equal(lines[0], "part field");
    assert.ok(lines.includes("  value 1"));
    assert.ok(lines.includes("part up (file a.bin)"));
    assert.ok(lines.includes("  [binary, 4 bytes]"));
  });

  test("a multipart body without a boundary falls back with a note", () => {
    const r = renderBody(utf8.encode("--x\r\n"), "multipart/form-data", "auto");
    assert.equal(r.view, "raw");
    assert.match(r.note!, /no multipart boundary/);
  });

  test("query, cookie and Set-Cookie tables", () => {
    assert.deepEqual(queryPairs("http://h/p?a=1&b=x%20y#f"), [["a", "1"], ["b", "x y"]]);
    assert.deepEqual(cookiePairs(["a=1; b=2", "c"]), [["a", "1"], ["b", "2"], ["c", ""]]);
    assert.deepEqual(setCookieRows(["id=9; Path=/; HttpOnly"]), [["id", "9", "Path=/; HttpOnly"]]);
  });
});

describe("images", () => {
  test("PNG and GIF sizes from their headers", () => {
    const png = new Uint8Array(24);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    png.set([0, 0, 1, 44, 0, 0, 0, 200], 16);
    assert.deepEqual(imageInfo(png), { format: "png", width: 300, height: 200 });
    const gif = utf8.encode("GIF89a\x10\x00\x20\x00");
    assert.deepEqual(imageInfo(gif), { format: "gif", width: 16, height: 32 });
    assert.match(
      plain(renderBody(png, "image/png", "auto"))[0],
      /^PNG image, 300x200 pixels, 24 bytes$/,
    );
  });
});

describe("protobuf and gRPC without a schema", () => {
  // The Protocol Buffers documentation's examples: field 1 = 150; field 2 = "testing"; field 3 = {1: 150}.
  const msg = new Uint8Array([
    0x08,
    0x96,
    0x01,
    0x12,
    0x07,
    ...utf8.encode("testing"),
    0x1a,
    0x03,
    0x08,
    0x96,
    0x01,
  ]);

  test("varints, strings and nested messages", () => {
    assert.deepEqual(plain(renderBody(msg, "application/x-protobuf", "auto")), [
      "1: 150  varint, sint 75",
      '2: "testing"',
      "3 {",
      "  1: 150  varint, sint 75",
      "}",
    ]);
  });

  test("fixed32/fixed64 and 64-bit varints keep every digit", () => {
    const bytes = new Uint8Array([
      0x08,
      ...new Array(9).fill(0xff),
      0x01,
      0x15,
      1,
      0,
      0,
      0,
      0x19,
      0,
      0,
      0,
      0,
      0,
      0,
      0xf0,
      0x3f,
    ]);
    const lines = plain(renderBody(bytes, null, "protobuf"));
    assert.equal(
      lines[0],
      "1: 18446744073709551615 (-1 as int64)  varint, sint -9223372036854775808",
    );
    assert.equal(lines[1], "2: 1  fixed32, float 1.401298464324817e-45");
    assert.equal(lines[2], "3: 4607182418800017408  fixed64, double 1");
  });

  test("gRPC: length-prefixed messages, gzip-compressed ones decompressed", () => {
    const frame = (flag: number, data: Uint8Array) => {
      const out = new Uint8Array(5 + data.length);
      out[0] = flag;
      new DataView(out.buffer).setUint32(1, data.length);
      out.set(data, 5);
      return out;
    };
    const body = new Uint8Array([...frame(0, msg), ...frame(1, new Uint8Array(gzipSync(msg)))]);
    assert.equal(grpcMessages(body).length, 2);
    const lines = plain(renderBody(body, "application/grpc+proto", "auto"));
    assert.equal(lines[0], "message 1 (17 bytes)");
    assert.ok(lines.includes("message 2 (17 bytes, gzip-compressed)"));
    assert.equal(lines.filter((l) => l === '  2: "testing"').length, 2);
  });

  test("property: messages built from random fields decode to those fields", () => {
    const varint = (n: bigint) => {
      const out: number[] = [];
      do {
        let b = Number(n & 0x7fn);
        n >>= 7n;
        if (n > 0n) b |= 0x80;
        out.push(b);
      } while (n > 0n);
      return out;
    };
    const field = fc.record({
      field: fc.integer({ min: 1, max: 5000 }),
      value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    });
    fc.assert(fc.property(fc.array(field, { maxLength: 20 }), (fields) => {
      const bytes = new Uint8Array(
        fields.flatMap((f) => [...varint(BigInt(f.field) << 3n), ...varint(f.value)]),
      );
      const decoded = decodeProtobuf(bytes);
      assert.deepEqual(
        decoded.map((d) => [d.field, d.wire === "varint" ? d.value : null]),
        fields.map((f) => [f.field, f.value]),
      );
    }));
  });
});

describe("MessagePack", () => {
  test("maps, arrays, strings, booleans, nil, exact 64-bit integers, binary as hex", () => {
    assert.equal(
      msgpackToJson(new Uint8Array([0x82, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0x92, 0xc3, 0xc0])),
      '{"a":1,"b":[true,null]}',
    );
    assert.equal(
      msgpackToJson(new Uint8Array([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
      "18446744073709551615",
    );
    assert.equal(
      msgpackToJson(new Uint8Array([0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0])),
      "-9223372036854775808",
    );
    assert.equal(msgpackToJson(new Uint8Array([0xc4, 0x02, 0xab, 0xcd])), '"abcd"');
    assert.equal(
      msgpackToJson(new Uint8Array([0xd6, 0xff, 0, 0, 0, 0])),
      '"1970-01-01T00:00:00.000Z"',
    );
    assert.equal(msgpackToJson(new Uint8Array([0xe0])), "-32");
  });

  test("trailing or truncated bytes fall back with a note", () => {
    assert.match(
      renderBody(new Uint8Array([0x01, 0x02]), null, "msgpack").note!,
      /1 bytes after the value/,
    );
    assert.match(
      renderBody(new Uint8Array([0x92, 0x01]), null, "msgpack").note!,
      /truncated|longer than the body/,
    );
  });

  test("the view is pretty JSON", () => {
    const r = renderBody(new Uint8Array([0x81, 0xa1, 0x61, 0x01]), "application/msgpack", "auto");
    assert.deepEqual(plain(r), ["{", '  "a": 1', "}"]);
  });
});

describe("GraphQL", () => {
  test("operation name, the query as written, variables as sent", () => {
    const body =
      '{"operationName":"Q","query":"query Q($id: ID!) {\\n  user(id: $id) { name }\\n}","variables":{"id":12345678901234567890}}';
    const r = renderBody(utf8.encode(body), "application/json", "auto");
    assert.equal(r.view, "graphql");
    assert.deepEqual(plain(r), [
      "operation Q",
      "query Q($id: ID!) {",
      "  user(id: $id) { name }",
      "}",
      "",
      "variables",
      "{",
      '  "id": 12345678901234567890',
      "}",
    ]);
    assert.ok(kinds(r).includes("keyword:query") && kinds(r).includes("attr:$id"));
  });

  test("batched operations are numbered", () => {
    const r = renderBody(utf8.encode('[{"query":"{ a }"},{"query":"{ b }"}]'), null, "graphql");
    assert.deepEqual(plain(r).filter((l) => l.includes("operation")), [
      "#1 operation (anonymous)",
      "#2 operation (anonymous)",
    ]);
  });

  test("rawMembers gives members and elements as written", () => {
    assert.deepEqual([...rawMembers('{"a": 1.10, "b": {"c": [1, "]"]}}')!], [["a", "1.10"], [
      "b",
      '{"c": [1, "]"]}',
    ]]);
    assert.deepEqual([...rawMembers("[1e5, null]")!], [["0", "1e5"], ["1", "null"]]);
    assert.equal(rawMembers("3"), null);
  });
});

test("property: any bytes in any view render without throwing", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(...VIEW_NAMES),
      (bytes, view) => {
        const r = renderBody(bytes, "multipart/form-data; boundary=a", view);
        assert.ok(Array.isArray(r.lines));
      },
    ),
    { numRuns: 2000 },
  );
});
