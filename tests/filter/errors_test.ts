import { test } from "node:test";
import assert from "node:assert/strict";
import { FilterError, MAX_DEPTH, parseFilter, parseFilterAst } from "../../src/filter/mod.ts";

/** The FilterError parseFilter throws for `text` (fails the test if there is none). */
function errorOf(text: string): FilterError {
  try {
    parseFilter(text);
  } catch (e) {
    assert.ok(e instanceof FilterError, `${JSON.stringify(text)}: not a FilterError: ${e}`);
    return e;
  }
  assert.fail(`${JSON.stringify(text)} parsed, but should not have`);
}

/** [expression, position, exact detail] */
const CASES: Array<[string, number, string]> = [
  // Empty
  ["", 0, "empty filter expression"],
  ["   ", 3, "empty filter expression"],
  // Parentheses
  ["(", 1, "expected an expression after ("],
  ["(~q", 0, "unmatched (: missing )"],
  ["~s (~q", 3, "unmatched (: missing )"],
  ["((~q)", 0, "unmatched (: missing )"],
  ["(~q | (~s)", 0, "unmatched (: missing )"],
  [")", 0, "expected an expression, found )"],
  ["~q)", 2, "unmatched ): there is no ( to close"],
  ["(~q))", 4, "unmatched ): there is no ( to close"],
  ["~q ) ~s", 3, "unmatched ): there is no ( to close"],
  ["()", 1, "expected an expression after (, found )"],
  ["~q & ()", 6, "expected an expression after (, found )"],
  // Missing argument
  ["~d", 2, "expected an argument after ~d"],
  ["~m GET ~d", 9, "expected an argument after ~d"],
  ["~q & ~d", 7, "expected an argument after ~d"],
  ["~d   ", 5, "expected an argument after ~d"],
  ["(~h)", 3, "expected an argument after ~h"],
  ["~b ~q", 3, "expected an argument after ~b"],
  ["~bs & ~q", 4, "expected an argument after ~bs"],
  ["~u !x", 3, "expected an argument after ~u"],
  ["~src (x)", 5, "expected an argument after ~src"],
  ["~c", 2, "expected an argument after ~c"],
  ["~c | ~q", 3, "expected an argument after ~c"],
  // Unknown filters
  ["~zz", 0, "unknown filter ~zz"],
  ["~q & ~zz x", 5, "unknown filter ~zz"],
  ["~D example", 0, "unknown filter ~D"],
  ["~dexample.com", 0, "unknown filter ~dexample.com"],
  ["~c200", 0, "unknown filter ~c200"],
  ["~", 0, "expected a filter name after ~"],
  ["~q ~ x", 3, "expected a filter name after ~"],
  ["~q (~)", 4, "expected a filter name after ~"],
  // Operators with nothing on one side
  ["~q &", 4, "expected an expression after &"],
  ["~q |", 4, "expected an expression after |"],
  ["~q | ", 5, "expected an expression after |"],
  ["!", 1, "expected an expression after !"],
  ["~q !", 4, "expected an expression after !"],
  ["& ~q", 0, "expected an expression, found &"],
  ["| ~q", 0, "expected an expression, found |"],
  ["~q & & ~s", 5, "expected an expression after &, found &"],
  ["~q & | ~s", 5, "expected an expression after &, found |"],
  ["~q | & ~s", 5, "expected an expression after |, found &"],
  ["!& ~q", 1, "expected an expression after !, found &"],
  ["(& ~q)", 1, "expected an expression after (, found &"],
  ["(~q &)", 5, "expected an expression after &, found )"],
  ["! )", 2, "expected an expression after !, found )"],
  // ~c needs an integer
  ["~c abc", 3, '~c needs a decimal integer, not "abc"'],
  ["~c 20x", 3, '~c needs a decimal integer, not "20x"'],
  ["~c -1", 3, '~c needs a decimal integer, not "-1"'],
  ["~c 2.0", 3, '~c needs a decimal integer, not "2.0"'],
  ['~c ""', 3, '~c needs a decimal integer, not ""'],
  ["~q ~c 'x y'", 6, '~c needs a decimal integer, not "x y"'],
  // Strings
  ['~d "abc', 3, 'unterminated string: missing closing "'],
  ["~d 'abc", 3, "unterminated string: missing closing '"],
  ['~d "abc\\"', 3, 'unterminated string: missing closing "'],
  ["'", 0, "unterminated string: missing closing '"],
  ['~q "a" "b', 7, 'unterminated string: missing closing "'],
];

test("malformed expressions: exact positions and messages", () => {
  for (const [text, position, detail] of CASES) {
    const e = errorOf(text);
    assert.equal(e.detail, detail, `detail for ${JSON.stringify(text)}`);
    assert.equal(e.position, position, `position for ${JSON.stringify(text)}`);
    assert.equal(e.message, `filter error at position ${position}: ${detail}`);
    assert.equal(e.source, text);
  }
});

test("bad regexes are reported at the argument, for every regex filter and bare words", () => {
  const names = ["b", "bq", "bs", "d", "dst", "h", "hq", "hs", "m", "src", "t", "tq", "ts", "u"];
  for (const name of names) {
    const text = `~q & ~${name} [a-`;
    const e = errorOf(text);
    assert.equal(e.position, text.indexOf("["), text);
    assert.match(e.detail, /^invalid regex "\[a-": \S/, text);
  }
  const cases: Array<[string, number, string]> = [
    ["~d [", 3, "["],
    ['~u "("', 3, "("],
    ["~q a(b", 3, "a(b"],
    ["~q *x", 3, "*x"],
    ["~h '(?<n>a)(?<n>b)'", 3, "(?<n>a)(?<n>b)"],
    ['~b "a{2,1}"', 3, "a{2,1}"],
    ["~m a\\", 3, "a\\"],
    ["x | +", 4, "+"],
  ];
  for (const [text, position, pattern] of cases) {
    const e = errorOf(text);
    assert.equal(e.position, position, text);
    assert.ok(e.detail.startsWith(`invalid regex ${JSON.stringify(pattern)}: `), e.detail);
  }
});

test("error messages are one line, even for patterns with line breaks", () => {
  for (const text of ['~b "a\nb("', "~q\n&", "~d\r\n[\n", "(\n~q"]) {
    const e = errorOf(text);
    assert.equal(e.message.includes("\n"), false, JSON.stringify(e.message));
  }
  assert.equal(errorOf('~b "a\nb("').detail.startsWith('invalid regex "a\\nb(": '), true);
});

test("caret: the expression with ^ under the position", () => {
  assert.equal(errorOf("~m GET ~d").caret, "~m GET ~d\n         ^");
  assert.equal(errorOf("~zz").caret, "~zz\n^");
  assert.equal(errorOf("").caret, "\n^");
  assert.equal(errorOf("~q & ~d [").caret, "~q & ~d [\n        ^");
});

test("caret: tabs are repeated so the caret lines up; line breaks shown as spaces", () => {
  assert.equal(errorOf("~q\t&\t~zz").caret, "~q\t&\t~zz\n  \t \t^");
  assert.equal(errorOf("~q\n& ~zz").caret, "~q & ~zz\n     ^");
});

test("FilterError is an Error with a name", () => {
  const e = errorOf("~zz");
  assert.ok(e instanceof Error);
  assert.equal(e.name, "FilterError");
  assert.throws(() => parseFilter("~c abc"), FilterError);
  assert.throws(() => parseFilterAst("~c abc"), /^FilterError: filter error at position 3: /);
});

test("nesting deeper than MAX_DEPTH is an error, not a stack overflow", () => {
  const depth = MAX_DEPTH + 1;
  const parens = "(".repeat(depth) + "~q" + ")".repeat(depth);
  const e = errorOf(parens);
  assert.equal(e.position, MAX_DEPTH);
  assert.equal(e.detail, `expression nested too deeply (more than ${MAX_DEPTH} levels)`);
  assert.equal(errorOf("!".repeat(depth) + "~q").position, MAX_DEPTH);
  assert.equal(errorOf("(!".repeat(depth) + "~q").position, MAX_DEPTH);
  // Exactly MAX_DEPTH is fine, and long flat chains are not nesting at all.
  parseFilter("(".repeat(MAX_DEPTH) + "~q" + ")".repeat(MAX_DEPTH));
  parseFilter(Array(20_000).fill("~q").join(" | "));
  parseFilter(Array(20_000).fill("~q").join(" "));
});

test("valid edge cases do not throw", () => {
  const valid = [
    "~q",
    " ~q ",
    "~u ''",
    "''",
    "~c 0",
    "~c 999999",
    "~d a(b)c",
    "(~d a(b)c)",
    "~b \\)",
    "~q(~s)",
    "!(!(~q))",
    "~d 'it\\'s'",
  ];
  for (const text of valid) parseFilter(text);
  // A filter right after a regex filter is not its argument.
  assert.equal(errorOf("~h ~q~s").position, 3);
});
