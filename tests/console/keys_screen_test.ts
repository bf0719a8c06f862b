/** Terminal input decoding and the line-diffing screen, without a terminal. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeKeys } from "../../src/console/keys.ts";
import { renderLine, Screen } from "../../src/console/screen.ts";

describe("decodeKeys", () => {
  test("characters, control keys and escape sequences in one chunk", () => {
    assert.deepEqual(decodeKeys("j\x1b[A\x1b[B\x1b[5~\x1b[6~\r\t\x7f\x03"), [
      { kind: "char", char: "j" },
      { kind: "up" },
      { kind: "down" },
      { kind: "pageup" },
      { kind: "pagedown" },
      { kind: "enter" },
      { kind: "tab" },
      { kind: "backspace" },
      { kind: "ctrl-c" },
    ]);
  });

  test("a lone ESC is escape; SS3 arrows and Home/End", () => {
    assert.deepEqual(decodeKeys("\x1b"), [{ kind: "escape" }]);
    assert.deepEqual(decodeKeys("\x1bOA\x1b[H\x1b[4~"), [
      { kind: "up" },
      { kind: "home" },
      { kind: "end" },
    ]);
  });

  test("SGR mouse: wheel and click; releases are dropped", () => {
    assert.deepEqual(decodeKeys("\x1b[<64;10;5M\x1b[<65;10;5M\x1b[<0;3;7M\x1b[<0;3;7m"), [
      { kind: "wheelup" },
      { kind: "wheeldown" },
      { kind: "click", col: 2, row: 6 },
    ]);
  });

  test("non-ASCII characters are one key each", () => {
    assert.deepEqual(decodeKeys("é😀"), [{ kind: "char", char: "é" }, {
      kind: "char",
      char: "😀",
    }]);
  });
});

describe("Screen", () => {
  test("renderLine cuts and pads to the width; control characters are shown as dots", () => {
    assert.equal(renderLine([{ text: "abc\x1b[2J" }], 6, false), "abc·[2");
    assert.equal(renderLine([{ text: "ab" }], 4, false), "ab  ");
  });

  test("colours are dropped without colour, reverse and bold are kept", () => {
    assert.equal(renderLine([{ text: "x", style: ["red"] }], 1, false), "x");
    assert.equal(
      renderLine([{ text: "x", style: ["reverse", "red"] }], 1, false),
      "\x1b[7mx\x1b[0m",
    );
    assert.equal(renderLine([{ text: "x", style: ["red"] }], 1, true), "\x1b[31mx\x1b[0m");
  });

  test("only changed lines are written again", () => {
    let out = "";
    const screen = new Screen((t) => (out += t), false);
    const frame = [[{ text: "one" }], [{ text: "two" }], [{ text: "three" }]];
    screen.draw(frame, 10, 3);
    assert.ok(out.includes("one") && out.includes("two") && out.includes("three"));
    out = "";
    assert.equal(screen.draw(frame, 10, 3), 0);
    assert.equal(out, "");
    screen.draw([[{ text: "one" }], [{ text: "TWO" }], [{ text: "three" }]], 10, 3);
    assert.equal(out, "\x1b[2;1HTWO       ");
    out = "";
    screen.draw(frame, 12, 3); // a resize redraws everything
    assert.ok(out.startsWith("\x1b[2J") && out.includes("one") && out.includes("three"));
  });
});
