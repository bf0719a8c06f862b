/** Contentviews: pretty JSON keeps every value as written; views fall back and say why. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hexLines, nextView, prettyJson, renderBody } from "../../src/contentviews/mod.ts";

const utf8 = new TextEncoder();
/** A rendered body's lines as plain text. */
const plain = (r: { lines: { text: string }[][] }) =>
  r.lines.map((l) => l.map((s) => s.text).join(""));

describe("prettyJson", () => {
  test("keeps numbers as written (JSON.parse would change these)", () => {
    const text = '{"big":12345678901234567890,"f":1.10,"e":1E400,"neg":-0.0}';
    const pretty = prettyJson(text)!;
    assert.ok(pretty.includes("12345678901234567890"));
    assert.ok(pretty.includes("1.10"));
    assert.ok(pretty.includes("1E400"));
    assert.ok(pretty.includes("-0.0"));
    assert.equal(
      pretty,
      '{\n  "big": 12345678901234567890,\n  "f": 1.10,\n  "e": 1E400,\n  "neg": -0.0\n}',
    );
  });

  test("nested containers, empty ones on one line, strings with escapes and brackets", () => {
    assert.equal(
      prettyJson('{"a":[1,{"b":[]}],"c":{},"s":"x\\"]}{,:"}'),
      '{\n  "a": [\n    1,\n    {\n      "b": []\n    }\n  ],\n  "c": {},\n  "s": "x\\"]}{,:"\n}',
    );
  });

  test("not JSON: null", () => {
    for (const bad of ["", "{", "[1,]", '{"a" 1}', "1 2", "{}{}", "tru", '{"a":1,}', '"open']) {
      assert.equal(prettyJson(bad), null, bad);
    }
  });

  test("property: the pretty text parses to the same value, and again to the same text", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const pretty = prettyJson(text);
        assert.notEqual(pretty, null);
        assert.deepEqual(JSON.parse(pretty!), JSON.parse(text));
        assert.equal(prettyJson(pretty!), pretty);
      }),
    );
  });
});

describe("renderBody", () => {
  test("auto picks JSON by content type and by the first byte", () => {
    assert.equal(renderBody(utf8.encode('{"a":1}'), "application/json", "auto").view, "json");
    assert.equal(renderBody(utf8.encode(" [1]"), "text/plain", "auto").view, "json");
    assert.equal(renderBody(utf8.encode("hi"), "text/plain", "auto").view, "raw");
  });

  test("invalid JSON asked for as JSON is shown raw, with a note", () => {
    const r = renderBody(utf8.encode("{nope"), "application/json", "json");
    assert.equal(r.view, "raw");
    assert.match(r.note!, /not valid JSON/);
  });

  test("binary bytes are shown as hex whatever the view", () => {
    const r = renderBody(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe]), null, "raw");
    assert.equal(r.view, "hex");
    assert.ok(plain(r)[0].startsWith("00000000  89 50 4e 47 ff fe"), plain(r)[0]);
  });

  test("urlencoded forms as name = value", () => {
    const r = renderBody(utf8.encode("a=1&bb=x%20y"), "application/x-www-form-urlencoded", "auto");
    assert.deepEqual(plain(r), ["a  = 1", "bb = x y"]);
  });

  test("hex lines: offset, two groups of eight, ASCII", () => {
    const lines = hexLines(utf8.encode("0123456789abcdefXY"));
    assert.equal(
      lines[0],
      "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef",
    );
    assert.ok(lines[1].startsWith("00000010  58 59 "));
  });

  test("the view cycle visits every view and comes back", () => {
    let v = nextView("auto");
    const seen = ["auto"];
    while (v !== "auto") {
      seen.push(v);
      v = nextView(v);
    }
    assert.equal(seen.length, 16);
    assert.equal(new Set(seen).size, 16);
  });
});
