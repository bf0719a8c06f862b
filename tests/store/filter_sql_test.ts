/**
 * The store answers filters as the in-memory matcher does: random flows and random filter trees
 * (fast-check), the ids the store lists (SQL, with the JS matcher for what SQL cannot decide)
 * compared with Array.filter over the same flows, and the store's count with their number.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import zlib from "node:zlib";
import fc from "fast-check";
import {
  filterFromAst,
  type FilterNode,
  parseFilterAst,
  type RegexFilterName,
} from "../../src/filter/mod.ts";
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { FlowDb } from "../../src/store/flow_db.ts";
import { filterToSql, literalOf, requiredText } from "../../src/store/filter_sql.ts";
import { withTempDir } from "./helpers.ts";

// ---- values: ASCII of both cases, LIKE's and regex's special characters, non-ASCII, astral
const PIECES = [
  "a",
  "B",
  "x",
  "json",
  "JSON",
  "api",
  ".",
  "-",
  "/",
  "%",
  "_",
  "\\",
  ":",
  " ",
  "é",
  "É",
  "ſ",
  "K",
  "😀",
  "1",
  "0",
  "?",
  "=",
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 6 }).map((p) => p.join(""));
const encoder = new TextEncoder();

const CONTENT_TYPES = [
  "application/json",
  "text/html; charset=utf-8",
  "image/png",
  "TEXT/CSS",
  "application/x-javascript",
  "font/woff2",
];

const headersArb = fc.record({
  types: fc.array(fc.constantFrom(...CONTENT_TYPES), { maxLength: 2 }),
  extra: fc.array(fc.tuple(fc.constantFrom("X-A", "x-b", "Accept", "Upgrade"), text), {
    maxLength: 3,
  }),
});

const bodyArb = fc.oneof(
  fc.constant(null), // not kept
  text.map((t) => ({ text: t, gzip: false })),
  text.map((t) => ({ text: t, gzip: true })),
  // Over the test's chunk size: stored in several chunks.
  text.map((t) => ({ text: "padding-".repeat(3) + t, gzip: false })),
);

const flowArb = fc.record({
  method: fc.constantFrom("GET", "post", "Put", "DELETE", "gét"),
  host: fc.constantFrom("example.com", "EXAMPLE.org", "bücher.example", "a_b.test", "x%y.test"),
  path: text.map((t) => "/" + t),
  reqHeaders: headersArb,
  reqBody: bodyArb,
  response: fc.option(
    fc.record({
      status: fc.constantFrom(200, 404, 101, 500),
      headers: headersArb,
      body: bodyArb,
    }),
    { nil: null },
  ),
  error: fc.boolean(),
  marked: fc.boolean(),
  websocket: fc.boolean(),
});

type FlowSpec = typeof flowArb extends fc.Arbitrary<infer T> ? T : never;

function setBody(
  m: FlowRequest | FlowResponse,
  spec: { text: string; gzip: boolean } | null,
): void {
  if (spec === null) {
    m.body = null;
    m.streamed = true;
    m.bodySize = 99;
    return;
  }
  let bytes: Uint8Array = encoder.encode(spec.text);
  if (spec.gzip) {
    bytes = new Uint8Array(zlib.gzipSync(bytes));
    m.headers.append("Content-Encoding", "gzip");
  }
  m.body = bytes;
  m.bodySize = bytes.length;
}

function headers(spec: FlowSpec["reqHeaders"]): HeaderList {
  const h = new HeaderList();
  for (const t of spec.types) h.append("Content-Type", t);
  for (const [name, value] of spec.extra) h.append(name, value);
  return h;
}

function buildFlow(spec: FlowSpec, i: number): Flow {
  const request = new FlowRequest({
    method: spec.method,
    scheme: "http",
    host: spec.host,
    port: 80,
    path: spec.path,
    httpVersion: "HTTP/1.1",
    headers: headers(spec.reqHeaders),
    timestampStart: 1000 + i,
  });
  setBody(request, spec.reqBody);
  const flow = new Flow({ address: "127.0.0.1", port: 4000 + i, tls: null }, request, `f${i}`);
  if (spec.response) {
    const response = new FlowResponse({
      status: spec.response.status,
      reason: "",
      httpVersion: "HTTP/1.1",
      headers: headers(spec.response.headers),
      timestampStart: 2000 + i,
    });
    setBody(response, spec.response.body);
    flow.response = response;
  }
  if (spec.error) flow.error = { message: "boom", timestamp: 3000 };
  flow.marked = spec.marked;
  if (spec.websocket) flow.metadata.websocket = true;
  return flow;
}

// ---- filters: literals (escaped or not, anchored or not, with dots) and a few real regexes
const REGEX_NAMES: RegexFilterName[] = [
  "m",
  "d",
  "u",
  "t",
  "tq",
  "ts",
  "h",
  "hq",
  "hs",
  "b",
  "bq",
  "bs",
  "src",
  "dst",
];
const escapeRegex = (s: string) => s.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
const patternArb = fc.oneof(
  fc.tuple(text.filter((t) => t !== ""), fc.boolean(), fc.boolean(), fc.boolean()).map(
    ([t, start, end, escape]) =>
      (start ? "^" : "") + (escape ? escapeRegex(t) : t.replace(/[\\^$|?*+()[\]{}]/g, "")) +
      (end ? "$" : ""),
  ),
  fc.constantFrom(
    "json",
    "^get$",
    "example\\.com",
    "example.com",
    "a.b",
    "x%y",
    "a_b",
    "content-type: application/json",
    "^x-a:",
    "padding",
    "[0-9]+",
    "é|json",
    "^/",
    "\\\\",
    // Real regexes: SQL rules out rows without their required text, the matcher decides.
    "js+on",
    "ap?i",
    "x(y)?z",
    "json[0-9]*",
    "a{2}pi",
    "pad{1,3}ing-",
    "(exa|bü)mple",
    "^/a.*b",
    "ding-p+add",
    // `.` is one UTF-16 unit: an astral character is two of them, LIKE's `_` one code point.
    "/..$",
    "^.{0}/.$",
    "é.",
  ),
).filter((p) => {
  try {
    new RegExp(p);
    return p !== "" && p !== "^" && p !== "$" && p !== "^$";
  } catch {
    return false;
  }
});

const leafArb: fc.Arbitrary<FilterNode> = fc.oneof(
  fc.constantFrom("all", "a", "e", "http", "q", "s", "websocket", "marked").map((name) => ({
    type: "flag" as const,
    name: name as "all",
  })),
  fc.constantFrom(200, 404, 101).map((code) => ({
    type: "code" as const,
    name: "c" as const,
    code,
  })),
  fc.tuple(fc.constantFrom(...REGEX_NAMES), patternArb).map(([name, pattern]) => ({
    type: "regex" as const,
    name,
    pattern,
  })),
);

const filterArb: fc.Arbitrary<FilterNode> = fc.letrec<{ node: FilterNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb,
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((children) => ({
      type: "and" as const,
      children,
    })),
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }).map((children) => ({
      type: "or" as const,
      children,
    })),
    tie("node").map((child) => ({ type: "not" as const, child })),
  ),
})).node;

test("filters answered by the store list and count the flows the matcher picks", async () => {
  await withTempDir((dir) => {
    const db = new FlowDb(path.join(dir, "flows.db"), { chunkSize: 16 });
    try {
      let run = 0;
      fc.assert(
        fc.property(
          fc.array(flowArb, { minLength: 1, maxLength: 25 }),
          fc.array(filterArb, { minLength: 1, maxLength: 8 }),
          (specs, filters) => {
            db.clear();
            const base = run++ * 1000;
            const flows = specs.map((s, i) => buildFlow(s, i));
            db.write(flows.map((flow, i) => ({ seq: base + i + 1, flow, written: false })));
            for (const ast of filters) {
              const filter = filterFromAst(ast);
              const expected = flows.filter((f) => filter(f)).map((f) => f.id);
              const listed = db.page({ filter }).rows.map((r) => r.id);
              assert.deepEqual(listed, expected, `filter ${filter}`);
              assert.equal(db.total({ filter }), expected.length, `count of ${filter}`);
            }
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      db.close();
    }
  });
});

test("SQL alone decides indexed filters; regexes and encoded bodies go to the matcher", () => {
  const exact = (text: string) => filterToSql(parseFilterAst(text)).exact;
  for (const f of ["~c 404", "~m ^get$", "~d example\\.com", "~marked & !~e", "~t json", "~q"]) {
    assert.equal(exact(f), true, f);
  }
  for (const f of ["~d [a-z]+", "~src 127", "~b foo", "~h a.b"]) {
    assert.equal(exact(f), false, f);
  }
  assert.deepEqual(literalOf("^a\\.b$"), { text: "a.b", start: true, end: true, dots: false });
  assert.equal(literalOf("a|b"), null);
  assert.equal(literalOf("é"), null);
  assert.equal(literalOf("a.b")?.dots, true);
  assert.equal(literalOf("x\\$")?.end, false);
  assert.equal(requiredText("needle-12 [a-z]"), "needle-12 ");
  assert.equal(requiredText("jsonx+yz"), "jsonx");
  assert.equal(requiredText("js+on"), null); // too short to be worth a LIKE
  assert.equal(requiredText("abc{0,3}def"), "def");
  assert.equal(requiredText("abcd|efgh"), null);
  assert.equal(requiredText("(abcd|x)efg"), "efg");
});

test("a `.` next to astral characters and line breaks is left to the matcher", async () => {
  await withTempDir((dir) => {
    const db = new FlowDb(path.join(dir, "flows.db"));
    try {
      const paths = ["/\u{1F600}", "/ab", "/a\nb", "/\u{1F600}\u{1F600}"];
      const flows = paths.map((p, i) => {
        const spec = fc.sample(flowArb, { numRuns: 1, seed: i })[0];
        return buildFlow({ ...spec, path: p, host: "example.com" }, i);
      });
      db.write(flows.map((flow, i) => ({ seq: i + 1, flow, written: false })));
      for (const text of ["~u /..$", "~u /.b", "~u /...$", "~u m/.", "!~u /..$"]) {
        const filter = filterFromAst(parseFilterAst(text));
        const expected = flows.filter((f) => filter(f)).map((f) => f.id);
        assert.deepEqual(db.page({ filter }).rows.map((r) => r.id), expected, text);
      }
    } finally {
      db.close();
    }
  });
});
