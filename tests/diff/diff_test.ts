/** mitm diff's pure parts: the JSON diff, pairing flows by the replay key, and the output. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { jsonDiff } from "../../src/diff/json_diff.ts";
import { diffFlows, hasDifferences, VOLATILE_HEADERS } from "../../src/diff/flow_diff.ts";
import { diffJson, formatDiff } from "../../src/diff/format.ts";
import { DEFAULT_MATCH_OPTIONS } from "../../src/replay/match_key.ts";
import { recordedFlow } from "../replay/helpers.ts";

const OPTIONS = { match: DEFAULT_MATCH_OPTIONS, ignoreHeaders: VOLATILE_HEADERS };
const json: [string, string][] = [["Content-Type", "application/json"]];

describe("jsonDiff", () => {
  test("changed, added and removed fields with their paths; key order does not matter", () => {
    const a = { id: 1, user: { name: "ann", "e-mail": "a@x" }, tags: ["x", "y", "z"], gone: true };
    const b = { user: { "e-mail": "b@x", name: "ann" }, id: 1, tags: ["x", "Y"], extra: null };
    assert.deepEqual(jsonDiff(a, b), [
      { path: '$.user["e-mail"]', kind: "changed", before: "a@x", after: "b@x" },
      { path: "$.tags[1]", kind: "changed", before: "y", after: "Y" },
      { path: "$.tags[2]", kind: "removed", before: "z" },
      { path: "$.gone", kind: "removed", before: true },
      { path: "$.extra", kind: "added", after: null },
    ]);
    assert.deepEqual(jsonDiff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
  });

  test("a value changing kind is one change of the whole value", () => {
    assert.deepEqual(jsonDiff({ a: [1] }, { a: { 0: 1 } }), [
      { path: "$.a", kind: "changed", before: [1], after: { 0: 1 } },
    ]);
    assert.deepEqual(jsonDiff(1, "1"), [{ path: "$", kind: "changed", before: 1, after: "1" }]);
  });

  test("stops at the limit", () => {
    const a = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    assert.equal(jsonDiff(a, {}, 10).length, 10);
  });
});

describe("diffFlows", () => {
  test("same requests with the same answers: no differences, volatile headers ignored", () => {
    const a = [
      recordedFlow({ url: "http://api/x", responseBody: "hi", responseHeaders: [["Date", "1"]] }),
    ];
    const b = [
      recordedFlow({ url: "http://api/x", responseBody: "hi", responseHeaders: [["Date", "2"]] }),
    ];
    const diff = diffFlows(a, b, OPTIONS);
    assert.equal(hasDifferences(diff), false);
    assert.equal(diff.same, 1);
    assert.equal(formatDiff(diff, { a: "A", b: "B" }), "1 same, 0 changed, 0 added, 0 removed\n");
  });

  test("added, removed, and changed status, headers and JSON body", () => {
    const a = [
      recordedFlow({
        url: "http://api/keep",
        responseBody: '{"n":1,"list":[1,2]}',
        responseHeaders: json,
      }),
      recordedFlow({ url: "http://api/old" }),
      recordedFlow({ url: "http://api/status", status: 200 }),
    ];
    const b = [
      recordedFlow({
        url: "http://api/keep",
        responseBody: '{"list":[1,2,3],"n":2}',
        responseHeaders: [...json, ["X-Version", "2"]],
      }),
      recordedFlow({ url: "http://api/status", status: 500 }),
      recordedFlow({ url: "http://api/new", method: "POST", body: "x" }),
    ];
    const diff = diffFlows(a, b, OPTIONS);
    assert.deepEqual(diff.removed, [{ method: "GET", url: "http://api/old" }]);
    assert.deepEqual(diff.added, [{ method: "POST", url: "http://api/new" }]);
    assert.equal(diff.same, 0);
    assert.deepEqual(diff.changed.map((c) => c.url), ["http://api/keep", "http://api/status"]);
    assert.equal(
      formatDiff(diff, { a: "A.jsonl", b: "B.jsonl" }),
      [
        "- GET http://api/old  (only in A.jsonl)",
        "+ POST http://api/new  (only in B.jsonl)",
        "~ GET http://api/keep",
        '    header x-version: (absent) -> "2"',
        "    body $.n: 1 -> 2",
        "    body $.list[2]: added 3",
        "~ GET http://api/status",
        "    status: 200 -> 500",
        "0 same, 2 changed, 1 added, 1 removed",
        "",
      ].join("\n"),
    );
    const parsed = JSON.parse(diffJson(diff));
    assert.deepEqual(parsed.changed[1].changes, [{ what: "status", before: 200, after: 500 }]);
    assert.deepEqual(parsed.changed[0].changes[1], {
      what: "body",
      kind: "json",
      changes: [
        { path: "$.n", kind: "changed", before: 1, after: 2 },
        { path: "$.list[2]", kind: "added", after: 3 },
      ],
    });
  });

  test("repeated requests pair in order; the same JSON written differently is the same", () => {
    const a = [
      recordedFlow({ url: "http://api/poll", responseBody: '{"a": 1}', responseHeaders: json }),
      recordedFlow({ url: "http://api/poll", responseBody: "second" }),
    ];
    const b = [
      recordedFlow({ url: "http://api/poll", responseBody: '{"a":1}', responseHeaders: json }),
      recordedFlow({ url: "http://api/poll", responseBody: "second\nmore" }),
      recordedFlow({ url: "http://api/poll", responseBody: "third" }),
    ];
    const diff = diffFlows(a, b, OPTIONS);
    assert.equal(diff.same, 1);
    assert.deepEqual(diff.changed[0].changes, [
      { what: "body", kind: "text", line: 2, before: "", after: "more" },
    ]);
    assert.deepEqual(diff.added, [{ method: "GET", url: "http://api/poll" }]);
  });

  test("the replay key's options apply: ignoring a query parameter pairs the flows", () => {
    const a = [recordedFlow({ url: "http://api/x?t=1&q=a" })];
    const b = [recordedFlow({ url: "http://api/x?t=2&q=a" })];
    assert.equal(hasDifferences(diffFlows(a, b, OPTIONS)), true);
    const match = { ...DEFAULT_MATCH_OPTIONS, ignoreParams: ["t"] };
    assert.equal(hasDifferences(diffFlows(a, b, { ...OPTIONS, match })), false);
  });

  test("binary bodies are told apart by size and hash", () => {
    const a = [recordedFlow({ url: "http://api/bin", responseBody: "\u00ff\u00fe" })];
    const flowB = recordedFlow({ url: "http://api/bin" });
    flowB.response!.body = new Uint8Array([0xff, 0x00, 0xfe]);
    flowB.response!.bodySize = 3;
    a[0].response!.body = new Uint8Array([0xff, 0xfe]);
    const diff = diffFlows(a, [flowB], OPTIONS);
    assert.match(
      formatDiff(diff, { a: "A", b: "B" }),
      /body: 2 bytes \(sha256 \w{12}\) -> 3 bytes/,
    );
  });
});
