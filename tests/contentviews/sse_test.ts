/** The server-sent events view: the body read as a browser's EventSource reads it. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { autoView, parseSse, renderBody } from "../../src/contentviews/mod.ts";

const utf8 = new TextEncoder();

describe("parseSse", () => {
  test("events with type, id, retry and multi-line data; comments; the default type", () => {
    const { events, incomplete } = parseSse(
      ': hello\n\nevent: tick\nid: 7\nretry: 3000\ndata: one\ndata:two\n\ndata: {"a":1}\n\n',
    );
    assert.equal(incomplete, null);
    assert.deepEqual(events, [
      { event: "", data: "", id: "", retry: null, comments: ["hello"] },
      { event: "tick", data: "one\ntwo", id: "7", retry: 3000, comments: [] },
      // The last id stays in force for later events, as EventSource's lastEventId does.
      { event: "message", data: '{"a":1}', id: "7", retry: null, comments: [] },
    ]);
  });

  test("CRLF and CR line ends, a BOM, one leading space only, odd fields ignored", () => {
    const { events } = parseSse("\uFEFFdata:  two spaces\r\nfoo: bar\rretry: 1x\r\n\r\ndata\n\n");
    assert.deepEqual(events.map((e) => [e.data, e.retry]), [[" two spaces", null], ["", null]]);
  });

  test("an id with NUL is ignored; the unfinished block at the end is reported", () => {
    const { events, incomplete } = parseSse("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\ndata: par");
    assert.deepEqual(events.map((e) => e.id), ["1", "1"]);
    assert.deepEqual(incomplete, {
      event: "message",
      data: "par",
      id: "1",
      retry: null,
      comments: [],
    });
  });
});

describe("the sse view", () => {
  test("auto picks it for text/event-stream and shows one header per event", () => {
    const body = utf8.encode("event: greeting\nid: 1\ndata: hi\n\ndata: line 1\ndata: line 2\n\n");
    assert.equal(autoView(body, "text/event-stream; charset=utf-8"), "sse");
    const r = renderBody(body, "text/event-stream", "auto");
    assert.equal(r.view, "sse");
    assert.deepEqual(r.lines.map((l) => l.map((s) => s.text).join("")), [
      "#1 event greeting id 1",
      "  hi",
      "#2 event message id 1",
      "  line 1",
      "  line 2",
    ]);
  });

  test("text that holds no event says so instead of inventing one", () => {
    const r = renderBody(utf8.encode("just words"), "text/plain", "sse");
    assert.equal(r.view, "sse");
    assert.deepEqual(r.lines.map((l) => l.map((s) => s.text).join("")), [
      "(unfinished: no blank line after it yet) (no data: not an event)",
    ]);
    const empty = renderBody(utf8.encode("\n\n"), "text/event-stream", "auto");
    assert.deepEqual(empty.lines, [[{ text: "(no events)", kind: "meta" }]]);
  });

  test("property: the data of any events comes back as it was sent", () => {
    const line = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
    fc.assert(
      fc.property(fc.array(fc.array(line, { minLength: 1, maxLength: 3 }), { maxLength: 5 }), (
        events,
      ) => {
        const text = events.map((d) => d.map((l) => `data: ${l}\n`).join("") + "\n").join("");
        const parsed = parseSse(text);
        assert.deepEqual(parsed.events.map((e) => e.data), events.map((d) => d.join("\n")));
      }),
      { numRuns: 500 },
    );
  });
});
