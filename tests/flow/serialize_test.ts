import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  base64Decode,
  base64Encode,
  FLOW_FORMAT_VERSION,
  FlowFormatError,
  flowFromJson,
  type FlowJson,
  flowToJson,
  FlowVersionError,
  jsonSafe,
} from "../../src/flow/serialize.ts";
import { BINARY, errorFlow, richFlow, simpleFlow, T0 } from "./helpers.ts";

/** Through a JSON string and back. */
function roundTrip(json: FlowJson): FlowJson {
  return flowToJson(flowFromJson(JSON.parse(JSON.stringify(json))));
}

test("base64Encode matches Buffer for every length 0..300 and random bytes", () => {
  for (let n = 0; n <= 300; n++) {
    const bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    const expected = Buffer.from(bytes).toString("base64");
    assert.equal(base64Encode(bytes), expected, `length ${n}`);
    assert.deepEqual(base64Decode(expected), bytes, `length ${n}`);
  }
});

test("base64Decode accepts missing padding, whitespace and the URL-safe alphabet; rejects junk", () => {
  assert.deepEqual(base64Decode("YWI"), new TextEncoder().encode("ab"));
  assert.deepEqual(base64Decode("YW\nJj\r\n"), new TextEncoder().encode("abc"));
  assert.deepEqual(base64Decode("-_8"), Uint8Array.from([0xfb, 0xff]));
  assert.throws(() => base64Decode("YW*j"), FlowFormatError);
  assert.throws(() => base64Decode("YWJjZ"), /truncated/);
  assert.throws(() => base64Decode("YQ==YQ=="), FlowFormatError);
});

test("base64 of a 3 MB body round-trips", () => {
  const big = new Uint8Array(3 * 1024 * 1024 + 1);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  const text = base64Encode(big);
  assert.equal(text, Buffer.from(big).toString("base64"));
  assert.deepEqual(base64Decode(text), big);
});

test("a rich flow: every field is written as documented", () => {
  const flow = richFlow();
  const json = flowToJson(flow);
  assert.equal(json.v, FLOW_FORMAT_VERSION);
  assert.equal(json.v, 1);
  assert.equal(json.id, flow.id);
  assert.equal(json.type, "http");
  assert.deepEqual(json.client, {
    address: "127.0.0.1",
    port: 51234,
    tls: { sni: "example.com", alpn: "http/1.1", version: "TLSv1.3" },
  });
  assert.deepEqual(json.server, {
    address: "93.184.216.34",
    port: 443,
    tls: { sni: "example.com", alpn: "http/1.1", version: "TLSv1.3" },
    timestampTcpStart: T0 + 6,
    timestampTcpEnd: T0 + 16,
    timestampTlsStart: T0 + 16,
    timestampTlsEnd: T0 + 36,
  });
  assert.equal(json.request.url, "https://example.com/api/items?q=hello%20world&x=1&x=2&plus=a+b");
  assert.deepEqual(json.request.headers.slice(0, 4), [
    ["Host", "example.com"],
    ["X-Custom-CASE", "first"],
    ["Cookie", "session=abc123; theme=dark"],
    ["x-custom-case", "second"],
  ]);
  assert.deepEqual(json.request.body, { text: '{"name":"caf\u00e9 \u2603","n":1}' });
  assert.deepEqual(json.request.trailers, [["X-Checksum", "abc"], ["x-checksum", "def"]]);
  assert.equal(json.request.timestampEnd, T0 + 5);
  // gzip bytes are not UTF-8: base64 of the raw (still encoded) bytes.
  assert.ok(json.response !== null && json.response.body !== null);
  assert.ok("base64" in json.response.body);
  assert.deepEqual(base64Decode(json.response.body.base64), flow.response!.body);
  assert.equal(json.response.status, 200);
  assert.equal(json.response.reason, "OK");
  assert.equal(json.response.trailers, null);
  assert.equal(json.response.truncated, false);
  assert.equal(json.response.streamed, false);
  assert.equal(json.error, null);
  assert.equal(json.marked, true);
  assert.equal(json.isReplay, false);
  assert.deepEqual(json.metadata, { note: "hi", nested: { list: [1, "two", null, true] } });
});

test("JSON round trip keeps everything: bodies, header order and case, trailers, TLS, timestamps", () => {
  const flow = richFlow();
  flow.isReplay = true;
  const json = flowToJson(flow);
  const back = flowFromJson(JSON.parse(JSON.stringify(json)));
  assert.deepEqual(flowToJson(back), json);
  assert.equal(back.id, flow.id);
  assert.deepEqual(back.request.headers.raw, flow.request.headers.raw);
  assert.deepEqual(back.request.trailers?.raw, flow.request.trailers?.raw);
  assert.deepEqual(back.request.body, flow.request.body);
  assert.deepEqual(back.response?.body, flow.response?.body);
  assert.equal(back.response?.text(), "<html>hello \u00fcber</html>");
  assert.deepEqual(back.client, flow.client);
  assert.deepEqual(back.server, flow.server);
  assert.equal(back.request.url, flow.request.url);
  assert.equal(back.isReplay, true);
  assert.equal(back.marked, true);
});

test("binary and text bodies: { base64 } exactly when the bytes are not UTF-8", () => {
  const bin = flowToJson(simpleFlow(BINARY));
  assert.deepEqual(bin.response?.body, { base64: Buffer.from(BINARY).toString("base64") });
  assert.deepEqual(flowFromJson(bin).response?.body, BINARY);

  const text = flowToJson(simpleFlow("h\u00e9llo \u{1F600}"));
  assert.deepEqual(text.response?.body, { text: "h\u00e9llo \u{1F600}" });

  // A lone surrogate's bytes (ED A0 80) are not valid UTF-8.
  const bad = flowToJson(simpleFlow(Uint8Array.from([0x61, 0xed, 0xa0, 0x80])));
  assert.ok(bad.response?.body !== null && "base64" in bad.response!.body!);

  // An empty body is kept as empty text.
  assert.deepEqual(flowToJson(simpleFlow("")).response?.body, { text: "" });
  assert.deepEqual(flowToJson(simpleFlow("")).request.body, { text: "" });
});

test("a UTF-8 byte order mark survives the round trip", () => {
  const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, 0x41]);
  const json = flowToJson(simpleFlow(bytes));
  assert.deepEqual(json.response?.body, { text: "\uFEFFA" });
  assert.deepEqual(roundTrip(json).response?.body, { text: "\uFEFFA" });
  assert.deepEqual(flowFromJson(JSON.parse(JSON.stringify(json))).response?.body, bytes);
});

test("bodyLimit: a body over it is null and truncated; at the limit it is kept", () => {
  const flow = simpleFlow("0123456789");
  const at = flowToJson(flow, { bodyLimit: 10 });
  assert.deepEqual(at.response?.body, { text: "0123456789" });
  assert.equal(at.response?.truncated, false);

  const over = flowToJson(flow, { bodyLimit: 9 });
  assert.equal(over.response?.body, null);
  assert.equal(over.response?.truncated, true);
  assert.equal(over.response?.streamed, false);
  assert.equal(over.response?.bodySize, 10);

  // Read back: no body, its size known; written again it is still truncated.
  const back = flowFromJson(JSON.parse(JSON.stringify(over)));
  assert.equal(back.response?.body, null);
  assert.equal(back.response?.bodySize, 10);
  assert.equal(flowToJson(back).response?.truncated, true);

  assert.deepEqual(flowToJson(flow, { bodyLimit: 0 }).request.body, { text: "" }, "empty: kept");
  assert.throws(() => flowToJson(flow, { bodyLimit: -1 }), RangeError);
});

test("a streamed body is null with streamed: true and its size", () => {
  const flow = simpleFlow("x");
  flow.response!.body = null;
  flow.response!.streamed = true;
  flow.response!.bodySize = 5_000_000;
  const json = flowToJson(flow);
  assert.equal(json.response?.body, null);
  assert.equal(json.response?.streamed, true);
  assert.equal(json.response?.truncated, false);
  assert.equal(json.response?.bodySize, 5_000_000);
  const back = flowFromJson(json);
  assert.equal(back.response?.streamed, true);
  assert.equal(back.response?.bodySize, 5_000_000);
  assert.equal(back.response?.body, null);
});

test("an error without a response round-trips", () => {
  const json = flowToJson(errorFlow());
  assert.equal(json.response, null);
  assert.equal(json.server, null);
  assert.deepEqual(json.error, { message: "connection refused", timestamp: T0 + 50 });
  const back = flowFromJson(JSON.parse(JSON.stringify(json)));
  assert.equal(back.response, null);
  assert.deepEqual(back.error, { message: "connection refused", timestamp: T0 + 50 });
  assert.deepEqual(flowToJson(back), json);
});

test("metadata keeps only JSON-safe values", () => {
  const flow = simpleFlow();
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  flow.metadata = {
    ok: "yes",
    n: 1.5,
    fn: () => 1,
    undef: undefined,
    big: 10n,
    nan: NaN,
    date: new Date(0),
    bytes: new Uint8Array(2),
    list: [1, undefined, () => 2, "x"],
    cyclic,
    nested: { deep: { deeper: [null, false] } },
  };
  assert.deepEqual(flowToJson(flow).metadata, {
    ok: "yes",
    n: 1.5,
    list: [1, null, null, "x"],
    cyclic: { a: 1 },
    nested: { deep: { deeper: [null, false] } },
  });
  assert.equal(jsonSafe(Symbol("s")), undefined);
  // deno-lint-ignore no-sparse-arrays
  assert.deepEqual(jsonSafe([1, , 3]), [1, null, 3]);
  assert.deepEqual(jsonSafe(Object.assign(Object.create(null), { a: 1 })), { a: 1 });
});

test("unknown extra fields are ignored", () => {
  const json = flowToJson(richFlow()) as unknown as Record<string, unknown>;
  const extended = {
    ...json,
    futureField: { anything: [1, 2] },
    request: { ...(json.request as object), priority: "high" },
    client: { ...(json.client as object), geo: "here" },
  };
  assert.deepEqual(flowToJson(flowFromJson(extended)), json);
});

test("a newer format version is refused with a clear error", () => {
  const json = { ...flowToJson(simpleFlow()), v: 2 };
  assert.throws(() => flowFromJson(json), (e: unknown) => {
    assert.ok(e instanceof FlowVersionError);
    assert.ok(e instanceof FlowFormatError);
    assert.equal(e.version, 2);
    assert.match(e.message, /version 2 is newer than this reader supports \(1\)/);
    return true;
  });
});

test("invalid records fail with the field named", () => {
  const good = flowToJson(simpleFlow());
  const cases: [unknown, RegExp][] = [
    [null, /flow: expected an object/],
    [[1], /flow: expected an object/],
    [{ ...good, v: undefined }, /flow\.v/],
    [{ ...good, v: "1" }, /flow\.v/],
    [{ ...good, type: "tcp" }, /unsupported flow type "tcp"/],
    [{ ...good, id: 5 }, /flow\.id: expected a string/],
    [{ ...good, request: { ...good.request, port: "80" } }, /request\.port: expected a number/],
    [{ ...good, request: { ...good.request, scheme: "ftp" } }, /request\.scheme/],
    [{ ...good, request: { ...good.request, headers: [["a"]] } }, /request\.headers\[0\]/],
    [{ ...good, request: { ...good.request, body: { base64: "*" } } }, /request\.body: invalid/],
    [{ ...good, request: { ...good.request, body: { hex: "00" } } }, /request\.body/],
    [{ ...good, response: { ...good.response, status: null } }, /response\.status/],
    [{ ...good, error: { message: 1, timestamp: 0 } }, /error\.message/],
    [{ ...good, client: { address: "x", port: 1, tls: "yes" } }, /client\.tls/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(() => flowFromJson(input), (e: unknown) => {
      assert.ok(e instanceof FlowFormatError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
});
