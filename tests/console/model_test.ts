/** The console's keys and state, without a terminal or a proxy. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeKeys } from "../../src/console/keys.ts";
import { ConsoleModel, type Effect } from "../../src/console/model.ts";

function model(paused: Record<string, "request" | "response"> = {}) {
  const m = new ConsoleModel({
    hasResponse: () => false,
    pausedAt: (id) => paused[id] ?? null,
  }, ["intercept", "ssl_insecure"]);
  m.pageRows = 10;
  return m;
}

/** Types the keys (as a terminal would send them) and collects the effects. */
function type(m: ConsoleModel, input: string): Effect[] {
  return decodeKeys(input).flatMap((k) => m.press(k));
}

describe("flow list", () => {
  test("follows new flows until the user moves, and again after G", () => {
    const m = model();
    m.added("a");
    m.added("b");
    assert.equal(m.selected, "b");
    type(m, "k");
    assert.equal(m.selected, "a");
    assert.equal(m.follow, false);
    m.added("c");
    assert.equal(m.selected, "a", "the cursor stays where the user put it");
    type(m, "G");
    assert.equal(m.follow, true);
    m.added("d");
    assert.equal(m.selected, "d");
  });

  test("j/k, arrows, g, paging stay within the list", () => {
    const m = model();
    for (let i = 0; i < 30; i++) m.added(`f${String(i).padStart(2, "0")}`);
    type(m, "g");
    assert.equal(m.cursor, 0);
    type(m, "kkk");
    assert.equal(m.cursor, 0);
    type(m, "jj\x1b[B");
    assert.equal(m.cursor, 3);
    type(m, "\x1b[6~");
    assert.equal(m.cursor, 13);
    type(m, "\x1b[6~\x1b[6~\x1b[6~");
    assert.equal(m.cursor, 29);
  });

  test("removing flows keeps the cursor on a real flow", () => {
    const m = model();
    for (const id of ["a", "b", "c"]) m.added(id);
    m.removed("c");
    assert.equal(m.selected, "b");
    type(m, "g");
    m.removed("b");
    assert.equal(m.selected, "a");
    m.removed("a");
    assert.equal(m.selected, null);
  });

  test("flow actions name the selected flow", () => {
    const m = model();
    m.added("a");
    assert.deepEqual(type(m, "a"), [{ type: "resume", id: "a" }]);
    assert.deepEqual(type(m, "x"), [{ type: "kill", id: "a" }]);
    assert.deepEqual(type(m, "r"), [{ type: "replay", id: "a" }]);
    assert.deepEqual(type(m, "d"), [{ type: "delete", id: "a" }]);
    assert.deepEqual(type(m, "m"), [{ type: "mark", id: "a" }]);
    assert.deepEqual(type(m, "A"), [{ type: "resumeAll" }]);
    assert.deepEqual(type(m, "z"), [{ type: "clear" }]);
  });

  test("an empty list has no flow actions", () => {
    const m = model();
    assert.deepEqual(type(m, "axrdm\r"), []);
    assert.equal(m.view, "list");
  });

  test("q asks first; y quits, n stays; Ctrl-C quits at once", () => {
    const m = model();
    assert.deepEqual(type(m, "q"), []);
    assert.equal(m.prompt?.kind, "quit");
    assert.deepEqual(type(m, "n"), []);
    assert.equal(m.prompt, null);
    assert.deepEqual(type(m, "qy"), [{ type: "quit" }]);
    assert.deepEqual(type(m, "\x03"), [{ type: "quit" }]);
  });
});

describe("prompts", () => {
  test("f sets the filter; a bad one keeps the old filter and shows where it is wrong", () => {
    const m = model();
    assert.deepEqual(type(m, "f~d example.com\r"), [{ type: "setFilter", text: "~d example.com" }]);
    assert.equal(m.filterText, "~d example.com");
    assert.deepEqual(type(m, "f"), []);
    assert.equal(m.prompt?.text, "~d example.com", "the prompt starts from the current filter");
    type(m, "\x7f".repeat(20));
    assert.deepEqual(type(m, "~m GET ~d\r"), []);
    assert.match(m.prompt!.error!, /filter error at position 9/);
    assert.equal(m.prompt!.errorAt, 9);
    assert.equal(m.filterText, "~d example.com");
    type(m, "\x1b");
    assert.equal(m.prompt, null);
    assert.equal(m.filterText, "~d example.com");
  });

  test("i sets the intercept filter; an empty one turns it off", () => {
    const m = model();
    assert.deepEqual(type(m, "i~q\r"), [{ type: "setIntercept", text: "~q" }]);
    type(m, "i");
    assert.deepEqual(type(m, "\x7f\x7f\r"), [{ type: "setIntercept", text: "" }]);
  });

  test("w asks for a file name", () => {
    const m = model();
    type(m, "w");
    assert.equal(m.prompt?.text, "flows.jsonl");
    assert.deepEqual(type(m, "\r"), [{ type: "save", path: "flows.jsonl" }]);
  });

  test("e asks which part, on the side of the tab shown", () => {
    const m = model({ a: "response" });
    m.added("a");
    type(m, "\r"); // a flow paused at its response opens on the response tab
    assert.equal(m.tab, "response");
    assert.deepEqual(type(m, "eh"), [{ type: "edit", id: "a", part: "response-headers" }]);
    type(m, "\t\t\t"); // to the request tab
    assert.equal(m.tab, "request");
    assert.deepEqual(type(m, "eb"), [{ type: "edit", id: "a", part: "request-body" }]);
    assert.deepEqual(type(m, "e?"), []);
  });

  test("e in the list edits the side where the flow is paused", () => {
    const m = model({ a: "response", b: "request" });
    m.added("a");
    m.added("b");
    assert.deepEqual(type(m, "el"), [{ type: "edit", id: "b", part: "request-line" }]);
    assert.deepEqual(type(m, "keb"), [{ type: "edit", id: "a", part: "response-body" }]);
  });

  test("options: Enter on an option asks for its value", () => {
    const m = model();
    type(m, "Oj");
    assert.equal(m.view, "options");
    assert.deepEqual(type(m, "\rtrue\r"), [{
      type: "setOption",
      name: "ssl_insecure",
      value: "true",
    }]);
  });
});

describe("flow view", () => {
  test("Enter opens, Tab cycles the tabs, m cycles the body view, q goes back", () => {
    const m = model();
    m.added("a");
    type(m, "\r");
    assert.equal(m.view, "flow");
    assert.equal(m.tab, "request");
    type(m, "\t");
    assert.equal(m.tab, "response");
    type(m, "l");
    assert.equal(m.tab, "detail");
    type(m, "h");
    assert.equal(m.tab, "response");
    type(m, "m");
    assert.equal(m.contentView, "raw");
    type(m, "jj");
    assert.equal(m.scroll, 2);
    type(m, "q");
    assert.equal(m.view, "list");
  });

  test("?, E and O open pages that q leaves", () => {
    const m = model();
    for (const [key, view] of [["?", "help"], ["E", "events"], ["O", "options"]] as const) {
      type(m, key);
      assert.equal(m.view, view);
      type(m, "q");
      assert.equal(m.view, "list");
    }
  });
});
