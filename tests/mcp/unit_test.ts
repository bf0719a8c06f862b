/** The MCP layer's pure parts: header merges, line diffs, HAR bound, text detection, redaction. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mergeHeaders, toEdit } from "../../src/mcp/changes.ts";
import { lineDiff } from "../../src/diff/line_diff.ts";
import { asText, summaryLine } from "../../src/mcp/format.ts";
import { boundedHar } from "../../src/mcp/har_bound.ts";
import { redact } from "../../src/mcp/server.ts";
import { explain, ToolError } from "../../src/mcp/tools.ts";
import { ApiError } from "../../src/mcp/control_api.ts";

test("mergeHeaders sets in place, drops repeats of a set name, removes and appends", () => {
  const base: [string, string][] = [["Host", "a"], ["Cookie", "x"], ["Accept", "*/*"], [
    "cookie",
    "y",
  ]];
  assert.deepEqual(mergeHeaders(base, { COOKIE: "z", "X-New": "1" }, ["accept"]), [
    ["Host", "a"],
    ["Cookie", "z"],
    ["X-New", "1"],
  ]);
  assert.deepEqual(mergeHeaders(base), base);
});

test("toEdit sends the whole header list only when headers change", () => {
  const current: [string, string][] = [["Host", "a"]];
  assert.deepEqual(toEdit({ body: "b" }, current), { body: "b" });
  assert.deepEqual(toEdit({ set_headers: { "X-A": "1" } }, current), {
    headers: [["Host", "a"], ["X-A", "1"]],
  });
  assert.deepEqual(toEdit({ headers: [["X-B", "2"]], remove_headers: ["x-b"] }, current), {
    headers: [],
  });
});

test("lineDiff shows changed lines with the line number of a", () => {
  assert.deepEqual(lineDiff(["a", "b", "c", "d"], ["a", "B", "c", "d", "e"]), [
    "  @@ line 2 of a",
    "  - b",
    "  + B",
    "  @@ line 5 of a",
    "  + e",
  ]);
  assert.deepEqual(lineDiff(["same"], ["same"]), []);
  const many = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
  const other = many.map((l) => l + "!");
  assert.match(lineDiff(many, other)[0], /first difference at line 1; 3000 vs 3000 lines/);
  const long = lineDiff(many.slice(0, 500), other.slice(0, 500));
  assert.equal(long.at(-1), "  ... 801 more changed lines");
});

test("boundedHar leaves out the largest bodies first, and says so", () => {
  const entry = (text: string) => ({
    request: { url: "http://x/", postData: { mimeType: "text/plain", text: "small" } },
    response: { content: { size: text.length, mimeType: "text/plain", text } },
  });
  const har = {
    log: { version: "1.2", entries: [entry("a".repeat(5000)), entry("b".repeat(100))] },
  };
  const whole = boundedHar(structuredClone(har), 100_000)!;
  assert.deepEqual(JSON.parse(whole), har);
  const out = JSON.parse(boundedHar(structuredClone(har), 1000)!);
  assert.equal(out.log.entries[0].response.content.text, undefined);
  assert.match(out.log.entries[0].response.content.comment, /body of 5000 bytes left out/);
  assert.equal(out.log.entries[1].response.content.text, "b".repeat(100));
  assert.equal(boundedHar(structuredClone(har), 10), null);
});

test("asText: UTF-8 text (a cut character dropped), binary as null", () => {
  const text = new TextEncoder().encode("héllo €");
  assert.equal(asText(text.subarray(0, text.length - 1), null), "héllo ");
  assert.equal(asText(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), "image/png"), null);
  assert.equal(asText(new Uint8Array([0, 1, 2, 65]), null), null);
  assert.equal(asText(new Uint8Array([0, 65]), "application/json"), "\0A");
});

test("redact masks credentials an error may quote", () => {
  assert.equal(
    redact('bad header ["Authorization","Bearer abc.def"]: expected'),
    'bad header ["Authorization","[redacted]"]: expected',
  );
  assert.equal(redact("Cookie: a=b; c=d"), "Cookie: [redacted]");
  assert.equal(redact("sent Bearer abc123 to x"), "sent Bearer [redacted] to x");
  assert.equal(redact("no flow 01ABC"), "no flow 01ABC");
});

test("explain: one sentence, with what to do for the usual mistakes", () => {
  assert.equal(
    explain(new ApiError(404, "no flow x")),
    "No flow x: it was never there, or was deleted or dropped; list_flows shows the ids kept.",
  );
  assert.match(explain(new ApiError(401, "wrong API token")), /MITM_API_TOKEN or --api-token\.$/);
  assert.equal(explain(new ApiError(400, "bad filter: oops.\nmore")), "Bad filter: oops. more.");
  assert.equal(explain(new ToolError("As is.")), "As is.");
  assert.equal(
    explain(new ApiError(0, "cannot reach the API at http://127.0.0.1:1: connect ECONNREFUSED")),
    "Cannot reach the API at http://127.0.0.1:1: connect ECONNREFUSED; is the proxy running, " +
      "at that address?",
  );
});

test("summaryLine is one line with the marks an agent needs", () => {
  const line = summaryLine({
    id: "01ABC",
    request: {
      method: "POST",
      scheme: "https",
      host: "x",
      port: 443,
      path: "/a",
      url: "https://x/a",
      httpVersion: "HTTP/1.1",
      contentType: null,
      bodySize: 3,
    },
    response: null,
    error: "connection refused\nby peer",
    timestamps: { start: 0, requestEnd: 1, responseStart: null, end: 5 },
    duration: 5,
    isReplay: true,
    marked: false,
    comment: "",
    websocket: null,
    intercepted: "request",
  });
  assert.equal(
    line,
    "01ABC POST https://x/a -> (no response) 5ms [error: connection refused by peer] " +
      "[paused at request] [replay]",
  );
});
