import { test } from "node:test";
import assert from "node:assert/strict";
import { isSafeBareWord, tokenize } from "../../src/filter/mod.ts";

/** kind:value@pos for each token, without the final eof. */
function toks(text: string): string[] {
  return tokenize(text)
    .filter((t) => t.kind !== "eof")
    .map((t) => `${t.kind}:${t.value}@${t.pos}`);
}

/** The values of the word tokens. */
function words(text: string): string[] {
  return tokenize(text).filter((t) => t.kind === "word").map((t) => t.value);
}

test("tokenize: operators, filters and words with positions", () => {
  assert.deepEqual(toks("!(~m GET & ~d x)|y"), [
    "!:!@0",
    "(:(@1",
    "filter:m@2",
    "word:GET@5",
    "&:&@9",
    "filter:d@11",
    "word:x@14",
    "):)@15",
    "|:|@16",
    "word:y@17",
  ]);
});

test("tokenize: eof token sits at the end of the text, after trailing spaces", () => {
  const t = tokenize("~q  ");
  assert.equal(t.length, 2);
  assert.deepEqual(t[1], { kind: "eof", pos: 4, end: 4, value: "", quoted: false });
  assert.deepEqual(tokenize(""), [{ kind: "eof", pos: 0, end: 0, value: "", quoted: false }]);
});

test("tokenize: operators need no spaces around them", () => {
  assert.deepEqual(toks("~q&~s|!~e"), [
    "filter:q@0",
    "&:&@2",
    "filter:s@3",
    "|:|@5",
    "!:!@6",
    "filter:e@7",
  ]);
});

test("tokenize: filter names end at quotes, parens and ~", () => {
  assert.deepEqual(toks('~d"a b"'), ["filter:d@0", "word:a b@2"]);
  assert.deepEqual(toks("(~q)"), ["(:(@0", "filter:q@1", "):)@3"]);
  assert.deepEqual(toks("~q~s"), ["filter:q@0", "filter:s@2"]);
  // Anything else is part of the name (and the parser will call it unknown).
  assert.deepEqual(toks("~d.com ~c200"), ["filter:d.com@0", "filter:c200@7"]);
});

test("tokenize: a bare word runs to whitespace or a closing paren", () => {
  assert.deepEqual(words("foo bar\tbaz\nqux"), ["foo", "bar", "baz", "qux"]);
  assert.deepEqual(toks("(foo)"), ["(:(@0", "word:foo@1", "):)@4"]);
});

test("tokenize: operators and ~ inside a bare word are ordinary characters", () => {
  assert.deepEqual(words("~d foo|bar&baz!x~y"), ["foo|bar&baz!x~y"]);
  assert.deepEqual(words("a\"b'c"), ["a\"b'c"]);
});

test("tokenize: parentheses opened inside a bare word belong to it", () => {
  assert.deepEqual(toks("(~u a(b|c)d)"), ["(:(@0", "filter:u@1", "word:a(b|c)d@4", "):)@11"]);
  assert.deepEqual(words("x(y(z))w"), ["x(y(z))w"]);
  // Unclosed: the word runs to whitespace.
  assert.deepEqual(words("a(b c"), ["a(b", "c"]);
});

test("tokenize: a backslash keeps the next character in the word, parens included", () => {
  assert.deepEqual(toks("(\\) \\(x)"), ["(:(@0", "word:\\)@1", "word:\\(x@4", "):)@7"]);
  assert.deepEqual(words("\\d+\\.\\w"), ["\\d+\\.\\w"]);
  // Not whitespace, though: a backslash before a space ends the word there.
  assert.deepEqual(words("a\\ b"), ["a\\", "b"]);
});

test("tokenize: double and single quotes, with spaces and operators inside", () => {
  assert.deepEqual(tokenize('"a & (b)"')[0], {
    kind: "word",
    pos: 0,
    end: 9,
    value: "a & (b)",
    quoted: true,
  });
  assert.deepEqual(words("'x | y' \"~q\""), ["x | y", "~q"]);
  assert.deepEqual(words('""'), [""]);
});

test("tokenize: backslash escapes the quote; other backslash pairs stay as written", () => {
  assert.deepEqual(words('"a\\"b"'), ['a"b']);
  assert.deepEqual(words("'a\\'b'"), ["a'b"]);
  // The other quote character is not an escape in this string.
  assert.deepEqual(words("'a\\\"b'"), ['a\\"b']);
  assert.deepEqual(words('"\\d+\\s"'), ["\\d+\\s"]);
  // "\\" is a pair, so the quote after it closes the string.
  assert.deepEqual(toks('"a\\\\" b'), ["word:a\\\\@0", "word:b@6"]);
});

test("tokenize: a quoted word ends at its closing quote even without a space", () => {
  assert.deepEqual(toks('"a"b'), ["word:a@0", "word:b@3"]);
  assert.deepEqual(toks("'a')"), ["word:a@0", "):)@3"]);
});

test("isSafeBareWord: what can be printed without quotes", () => {
  for (const w of ["foo", "a|b", "\\d+", "a(b)c", "x\\)", "é", "a&b!c~d"]) {
    assert.equal(isSafeBareWord(w), true, w);
  }
  for (
    const w of ["", " a", "a b", "(a", "a(b", "a\\", ")", "!a", "&", "|a", "~a", '"a', "'a", "a)"]
  ) {
    assert.equal(isSafeBareWord(w), false, w);
  }
});
