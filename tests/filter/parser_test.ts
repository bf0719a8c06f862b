import { test } from "node:test";
import assert from "node:assert/strict";
import {
  describe,
  filterFromAst,
  filterHelp,
  type FilterNode,
  FILTERS,
  formatArgument,
  formatFilter,
  parseFilter,
  parseFilterAst,
  tokenize,
} from "../../src/filter/mod.ts";
import { makeFlow } from "./helpers.ts";

const q: FilterNode = { type: "flag", name: "q" };
const s: FilterNode = { type: "flag", name: "s" };
const e: FilterNode = { type: "flag", name: "e" };
const u = (pattern: string): FilterNode => ({ type: "regex", name: "u", pattern });
const and = (...children: FilterNode[]): FilterNode => ({ type: "and", children });
const or = (...children: FilterNode[]): FilterNode => ({ type: "or", children });
const not = (child: FilterNode): FilterNode => ({ type: "not", child });

test("parse: every no-argument filter", () => {
  for (const name of ["all", "a", "e", "http", "q", "s", "websocket", "marked"]) {
    assert.deepEqual(parseFilterAst(`~${name}`), { type: "flag", name });
  }
});

test("parse: every regex filter keeps its argument as written", () => {
  const names = ["b", "bq", "bs", "d", "dst", "h", "hq", "hs", "m", "src", "t", "tq", "ts", "u"];
  for (const name of names) {
    assert.deepEqual(parseFilterAst(`~${name} ^a\\.b$`), {
      type: "regex",
      name,
      pattern: "^a\\.b$",
    });
  }
});

test("parse: the filter table and the parser agree", () => {
  for (const [name, spec] of Object.entries(FILTERS)) {
    const text = spec.arg === "none"
      ? `~${name}`
      : spec.arg === "int"
      ? `~${name} 1`
      : `~${name} x`;
    assert.equal(
      parseFilterAst(text).type,
      spec.arg === "none" ? "flag" : spec.arg === "int" ? "code" : "regex",
    );
  }
  assert.equal(Object.keys(FILTERS).length, 24);
});

test("parse: ~c takes a decimal integer", () => {
  assert.deepEqual(parseFilterAst("~c 404"), { type: "code", name: "c", code: 404 });
  assert.deepEqual(parseFilterAst("~c 0200"), { type: "code", name: "c", code: 200 });
  assert.deepEqual(parseFilterAst('~c "301"'), { type: "code", name: "c", code: 301 });
});

test("parse: a bare regex is ~u", () => {
  assert.deepEqual(parseFilterAst("example\\.com/api"), u("example\\.com/api"));
  assert.deepEqual(parseFilterAst('"a b"'), u("a b"));
  assert.deepEqual(parseFilterAst("foo ~q"), and(u("foo"), q));
});

test("parse: quoted arguments, both quote styles, with escapes", () => {
  assert.deepEqual(parseFilterAst('~h "Content-Type: text/html"'), {
    type: "regex",
    name: "h",
    pattern: "Content-Type: text/html",
  });
  assert.deepEqual(parseFilterAst("~b 'say \"hi\"'"), {
    type: "regex",
    name: "b",
    pattern: 'say "hi"',
  });
  assert.deepEqual(parseFilterAst('~b "say \\"hi\\""'), {
    type: "regex",
    name: "b",
    pattern: 'say "hi"',
  });
  assert.deepEqual(parseFilterAst("~b 'it\\'s'"), { type: "regex", name: "b", pattern: "it's" });
  assert.deepEqual(parseFilterAst('~b "\\d+ (a|b)"'), {
    type: "regex",
    name: "b",
    pattern: "\\d+ (a|b)",
  });
  assert.deepEqual(parseFilterAst('~u ""'), u(""));
});

test("parse: operators in a quoted argument are not operators", () => {
  assert.deepEqual(parseFilterAst('~d "a & b | !c (d)"'), {
    type: "regex",
    name: "d",
    pattern: "a & b | !c (d)",
  });
});

test("parse: ! binds tighter than &, which binds tighter than |", () => {
  assert.deepEqual(parseFilterAst("!~q & ~s | ~e"), or(and(not(q), s), e));
  assert.deepEqual(parseFilterAst("~e | ~q & !~s"), or(e, and(q, not(s))));
  assert.deepEqual(parseFilterAst("~q | ~s & ~e"), or(q, and(s, e)));
});

test("parse: parentheses override precedence", () => {
  assert.deepEqual(parseFilterAst("(~q | ~s) & ~e"), and(or(q, s), e));
  assert.deepEqual(parseFilterAst("!(~q & ~s)"), not(and(q, s)));
  assert.deepEqual(parseFilterAst("((((~q))))"), q);
});

test("parse: ! stacks", () => {
  assert.deepEqual(parseFilterAst("!!~q"), not(not(q)));
  assert.deepEqual(parseFilterAst("! ! ! ~q"), not(not(not(q))));
});

test("parse: chains of the same operator are flattened", () => {
  assert.deepEqual(parseFilterAst("~q & ~s & ~e"), and(q, s, e));
  assert.deepEqual(parseFilterAst("~q | ~s | ~e"), or(q, s, e));
  assert.deepEqual(parseFilterAst("~q & (~s & ~e)"), and(q, s, e));
  assert.deepEqual(parseFilterAst("(~q | ~s) | ~e"), or(q, s, e));
});

test("parse: expressions side by side are and-ed", () => {
  assert.deepEqual(
    parseFilterAst("~m GET ~d example.com"),
    and(
      { type: "regex", name: "m", pattern: "GET" },
      { type: "regex", name: "d", pattern: "example.com" },
    ),
  );
  assert.deepEqual(parseFilterAst("~q ~s ~e"), and(q, s, e));
  assert.deepEqual(parseFilterAst("~q !~s"), and(q, not(s)));
  assert.deepEqual(parseFilterAst("(~q ~s) ~e"), and(q, s, e));
  assert.deepEqual(parseFilterAst("~q(~s)"), and(q, s));
});

test("parse: implicit and binds looser than | (as in mitmproxy)", () => {
  assert.deepEqual(parseFilterAst("~q | ~s ~e"), and(or(q, s), e));
  assert.deepEqual(parseFilterAst("~e ~q | ~s"), and(e, or(q, s)));
  assert.deepEqual(parseFilterAst("~q & ~s ~e | ~q"), and(q, s, or(e, q)));
});

test("parse: whitespace of any kind is ignored between tokens", () => {
  assert.deepEqual(parseFilterAst(" \t\n~q\r\n&\t~s  "), and(q, s));
});

test("parse: filter names are case-sensitive", () => {
  assert.throws(() => parseFilterAst("~Q"), /unknown filter ~Q/);
});

test("formatFilter: explicit operators and only the parentheses precedence needs", () => {
  const cases: Array<[string, string]> = [
    ["~q ~s", "~q & ~s"],
    ["~q | ~s ~e", "(~q | ~s) & ~e"],
    ["~q | ~s & ~e", "~q | ~s & ~e"],
    ["!(~q | ~s)", "!(~q | ~s)"],
    ["!(~q & ~s)", "!(~q & ~s)"],
    ["!!~q", "!!~q"],
    ["(((~q)))", "~q"],
    ["foo", "~u foo"],
    ["~d 'a b'", '~d "a b"'],
    ['~b "x\\"y"', "~b 'x\"y'"],
    ["~c 0404", "~c 404"],
    ["~h '\\d+ \\\\'", '~h "\\d+ \\\\"'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(formatFilter(parseFilterAst(input)), expected, input);
  }
});

test("formatFilter: degenerate hand-built trees", () => {
  assert.equal(formatFilter(and()), "~all");
  assert.equal(formatFilter(or()), "!~all");
  assert.equal(formatFilter(and(or(q, s))), "~q | ~s");
  assert.equal(formatFilter(not(and(or(q, s)))), "!(~q | ~s)");
  assert.equal(formatFilter(or(q, or(s, e))), "~q | ~s | ~e");
});

test("formatArgument: bare when possible, quoted otherwise, and it reads back", () => {
  const cases: Array<[string, string]> = [
    ["foo", "foo"],
    ["a|b", "a|b"],
    ["a(b)c", "a(b)c"],
    ["a b", '"a b"'],
    ["", '""'],
    ["(x", '"(x"'],
    ["!x", '"!x"'],
    ["~x", '"~x"'],
    ['a"b', "'a\"b'"],
    ["a'b", '"a\'b"'],
    ["a'b\"c", '"a\'b\\"c"'],
    ["a\\", '"a\\\\"'],
    ["\\d\\\\", "\\d\\\\"],
  ];
  for (const [text, expected] of cases) {
    assert.equal(formatArgument(text), expected, text);
    const t = tokenize(formatArgument(text));
    if (text !== "a\\") assert.equal(t[0].value, text, `reads back: ${text}`);
  }
  // A lone trailing backslash (not a valid regex anyway) comes back doubled.
  assert.equal(tokenize(formatArgument("a\\"))[0].value, "a\\\\");
});

test("Filter: a callable predicate with source, ast and canonical toString", () => {
  const f = parseFilter("~m GET  ~d example");
  assert.equal(typeof f, "function");
  assert.equal(f.source, "~m GET  ~d example");
  assert.equal(String(f), "~m GET & ~d example");
  assert.equal(f.ast.type, "and");
  const flows = [makeFlow({ method: "GET" }), makeFlow({ method: "POST" })];
  assert.deepEqual(flows.filter(f), [flows[0]]);
});

test("filterFromAst: hand-built trees, source defaults to the canonical form", () => {
  const f = filterFromAst(or(u("nope"), { type: "code", name: "c", code: 204 }));
  assert.equal(f.source, "~u nope | ~c 204");
  assert.equal(f(makeFlow({ response: { status: 204 } })), true);
  assert.equal(f(makeFlow({ response: { status: 200 } })), false);
  assert.equal(filterFromAst(and())(makeFlow()), true);
  assert.equal(filterFromAst(or())(makeFlow()), false);
  assert.throws(() => filterFromAst(u("(")), SyntaxError);
});

test("describe: an indented tree with help for each filter", () => {
  const text = describe(parseFilterAst("~m GET !(~d foo.com | ~q)"));
  assert.equal(
    text,
    [
      "and",
      "  ~m GET          # Request method",
      "  not",
      "    or",
      "      ~d foo.com  # Domain (request host)",
      "      ~q          # Request with no response yet",
    ].join("\n"),
  );
  assert.equal(describe(q), "~q  # Request with no response yet");
});

test("filterHelp: one line per filter and operator", () => {
  const help = filterHelp();
  const syntax = help.map(([s]) => s);
  assert.equal(help.length, 24 + 5);
  for (const s of ["~c int", "~d regex", "~websocket", "regex", "!", "&", "|", "(...)"]) {
    assert.ok(syntax.includes(s), s);
  }
});
