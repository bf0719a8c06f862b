/**
 * HPACK against every example of RFC 7541 Appendix C, byte for byte (C.1 integers, C.2 single
 * fields, C.3-C.6 request and response sequences with and without Huffman coding, including the
 * dynamic table after each block), plus the errors a decoder must raise.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ByteWriter,
  HpackDecoder,
  HpackEncoder,
  huffmanDecode,
  huffmanEncode,
  readInteger,
  writeInteger,
} from "../../src/http2/hpack/mod.ts";
import { ErrorCode, HpackError } from "../../src/http2/errors.ts";
import { b, hex, unhex } from "./helpers.ts";

interface Example {
  name: string;
  headers: [string, string][];
  hex: string;
  table: [string, string][];
  tableSize: number;
}
interface Group {
  group: string;
  examples: Example[];
}
const APPENDIX_C: Group[] = JSON.parse(
  readFileSync(new URL("./fixtures/rfc7541_appendix_c.json", import.meta.url), "utf8"),
);

describe("RFC 7541 C.1 integer representation", () => {
  const cases: [number, number, string][] = [[10, 5, "0a"], [1337, 5, "1f9a0a"], [42, 8, "2a"]];
  for (const [value, prefix, bytes] of cases) {
    test(`${value} with a ${prefix}-bit prefix`, () => {
      const w = new ByteWriter();
      writeInteger(w, value, prefix, 0);
      assert.equal(hex(w.take()), bytes);
      assert.deepEqual(readInteger(unhex(bytes), 0, prefix), { value, next: bytes.length / 2 });
    });
  }
  test("flags above the prefix are kept and ignored when reading", () => {
    const w = new ByteWriter();
    writeInteger(w, 1337, 5, 0xe0);
    assert.equal(hex(w.take()), "ff9a0a");
    assert.equal(readInteger(unhex("ff9a0a"), 0, 5).value, 1337);
  });
  test("integers past 2^32 and endless continuation bytes are refused", () => {
    assert.throws(() => readInteger(unhex("1fffffffffff0f"), 0, 5), HpackError);
    assert.throws(() => readInteger(unhex("1f8080808080808000"), 0, 5), HpackError);
    assert.throws(() => readInteger(unhex("1f9a"), 0, 5), /ends inside an integer/);
  });
});

function decoderFor(group: string): HpackDecoder {
  // C.5 and C.6 use SETTINGS_HEADER_TABLE_SIZE = 256.
  return new HpackDecoder({ maxTableSize: group.startsWith("Response") ? 256 : 4096 });
}

function encoderFor(group: string): HpackEncoder {
  const enc = new HpackEncoder({
    huffman: group.includes("with Huffman") ? "always" : "never",
    // The examples add every field to the table.
    shouldIndex: () => true,
  });
  // Both sides start at 256 in C.5/C.6 without a size update in the blocks.
  if (group.startsWith("Response")) enc.table.resize(256);
  return enc;
}

describe("RFC 7541 C.2-C.6: decoding", () => {
  for (const g of APPENDIX_C) {
    test(g.group, () => {
      const shared = decoderFor(g.group);
      for (const ex of g.examples) {
        // C.2 examples are independent; C.3-C.6 share one decoder per group.
        const dec = g.group.startsWith("Header Field") ? decoderFor(g.group) : shared;
        const fields = dec.decode(unhex(ex.hex)).map(([n, v]) => [n, v]);
        assert.deepEqual(fields, ex.headers, ex.name);
        assert.deepEqual(dec.table.list(), ex.table, `${ex.name}: dynamic table`);
        assert.equal(dec.table.size, ex.tableSize, `${ex.name}: table size`);
      }
    });
  }
});

describe("RFC 7541 C.2-C.6: encoding byte for byte", () => {
  test("C.2 single fields (indexing decided per field)", () => {
    const [withIndexing, withoutIndexing, neverIndexed, indexed] = APPENDIX_C[0].examples;
    const plain = () => new HpackEncoder({ huffman: "never" });
    const enc1 = plain();
    assert.equal(hex(enc1.encode(withIndexing.headers)), withIndexing.hex);
    assert.deepEqual(enc1.table.list(), withIndexing.table);
    // :path churns, so it is not indexed by default.
    assert.equal(hex(plain().encode(withoutIndexing.headers)), withoutIndexing.hex);
    const [[n, v]] = neverIndexed.headers;
    assert.equal(hex(plain().encode([[n, v, true]])), neverIndexed.hex);
    assert.equal(hex(plain().encode(indexed.headers)), indexed.hex);
  });
  for (const g of APPENDIX_C.slice(1)) {
    test(g.group, () => {
      const enc = encoderFor(g.group);
      for (const ex of g.examples) {
        assert.equal(hex(enc.encode(ex.headers)), ex.hex, ex.name);
        assert.deepEqual(enc.table.list(), ex.table, `${ex.name}: dynamic table`);
      }
    });
  }
});

describe("Huffman coding", () => {
  test("every byte value round-trips", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(huffmanDecode(huffmanEncode(all)), all);
  });
  test("the RFC's www.example.com", () => {
    assert.equal(hex(huffmanEncode(b("www.example.com"))), "f1e3c2e5f23a6ba0ab90f4ff");
  });
  test("padding longer than 7 bits is an error", () => {
    // "0" is 00000 (5 bits): 0x07 pads it with 3 ones; 0x07 0xff pads with 11 ones.
    assert.deepEqual(huffmanDecode(unhex("07")), b("0"));
    assert.throws(() => huffmanDecode(unhex("07ff")), /invalid padding/);
  });
  test("padding that is not ones is an error", () => {
    assert.throws(() => huffmanDecode(unhex("00")), /invalid padding/); // "0" + 000
  });
  test("EOS inside a string is an error", () => {
    assert.throws(() => huffmanDecode(unhex("fffffffc")), /EOS/);
  });
});

describe("decoder errors (h2spec hpack cases)", () => {
  const dec = () => new HpackDecoder();
  const compression = (block: string, re: RegExp) => {
    assert.throws(() => dec().decode(unhex(block)), (e: unknown) => {
      assert.ok(e instanceof HpackError);
      assert.equal(e.code, ErrorCode.COMPRESSION_ERROR);
      assert.match(e.message, re);
      return true;
    });
  };
  test("index 0", () => compression("80", /index 0/));
  test("index past the static and dynamic tables", () => compression("be", /past the tables/));
  test("literal with an index past the tables", () => compression("7f0a0161", /past the tables/));
  test("string longer than the block", () => compression("400a6375", /runs past/));
  test("block ends inside an integer", () => compression("ff", /inside an integer/));
  test("table size update above SETTINGS_HEADER_TABLE_SIZE", () => {
    compression("3fe21f", /exceeds the limit of 4096/); // 4097
  });
  test("table size update after a field", () => compression("8220", /after a header field/));
  test("a lowered limit requires an update at the start of the next block", () => {
    const d = dec();
    d.setMaxTableSize(100);
    assert.throws(() => d.decode(unhex("82")), /lacks the dynamic table size update/);
    const ok = dec();
    ok.setMaxTableSize(100);
    assert.deepEqual(ok.decode(unhex("3f4582")), [[":method", "GET"]]); // update to 100, then :method
    assert.equal(ok.table.maxSize, 100);
  });
  test("HPACK bomb: the decoded list size is capped (ENHANCE_YOUR_CALM)", () => {
    // One 4000-byte field indexed, then referenced 100 times: 13 bytes expand to 400 KB.
    const enc = new HpackEncoder({ huffman: "never", shouldIndex: () => true });
    const first = enc.encode([["x", "a".repeat(4000)]]);
    const refs = new Uint8Array(100).fill(0xbe); // index 62: the newest dynamic entry
    const d = new HpackDecoder({ maxHeaderListSize: 16384 });
    d.decode(first);
    assert.throws(() => d.decode(refs), (e: unknown) => {
      assert.ok(e instanceof HpackError);
      assert.equal(e.code, ErrorCode.ENHANCE_YOUR_CALM);
      return true;
    });
  });
  test("a never-indexed field is reported as such", () => {
    assert.deepEqual(dec().decode(unhex("100870617373776f726406736563726574")), [[
      "password",
      "secret",
      true,
    ]]);
  });
});

describe("encoder", () => {
  test("credentials are never indexed and short cookies too", () => {
    const enc = new HpackEncoder();
    const block = enc.encode([["authorization", "Bearer abc"], ["cookie", "a=1"]]);
    assert.equal(enc.table.length, 0);
    const fields = new HpackDecoder().decode(block);
    assert.deepEqual(fields, [["authorization", "Bearer abc", true], ["cookie", "a=1", true]]);
  });
  test("a lowered peer table size is announced, smallest first, then the final size", () => {
    const enc = new HpackEncoder();
    enc.setPeerMaxTableSize(0);
    enc.setPeerMaxTableSize(2048);
    const block = enc.encode([[":method", "GET"]]);
    assert.equal(hex(block), "203fe10f82"); // update 0, update 2048, :method GET
    const dec = new HpackDecoder();
    assert.deepEqual(dec.decode(block), [[":method", "GET"]]);
    assert.equal(dec.table.maxSize, 2048);
  });
  test("chars above U+00FF go out as UTF-8 and both tables stay the same size", () => {
    const enc = new HpackEncoder({ shouldIndex: () => true });
    const dec = new HpackDecoder();
    for (let i = 0; i < 200; i++) {
      const fields = dec.decode(enc.encode([["x-name", `caf\u00e9 \u20ac${i}`]]));
      // The whole string goes out as UTF-8 (as the HTTP/1 codec writes it): é 2 bytes, € 3.
      assert.equal(fields[0][1], `caf\u00c3\u00a9 \u00e2\u0082\u00ac${i}`);
      assert.equal(dec.table.size, enc.table.size);
      assert.equal(dec.table.length, enc.table.length);
    }
  });
  test("a table cap below 4096 is announced in the first block", () => {
    const enc = new HpackEncoder({ maxTableSize: 0 });
    const block = enc.encode([["x-a", "b"]]);
    const dec = new HpackDecoder();
    dec.decode(block);
    assert.equal(dec.table.maxSize, 0);
  });
});
