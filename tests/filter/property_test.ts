/**
 * Property-style tests: random trees printed back to text (canonically, and with random spacing,
 * redundant parentheses, implicit and, bare URL regexes) parse back to the same tree and match
 * the same flows; random junk either parses or fails with a FilterError inside the text.
 * Deterministic: a small seeded PRNG, no dependencies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FilterError,
  filterFromAst,
  type FilterNode,
  type FlagFilterName,
  formatArgument,
  formatFilter,
  parseFilter,
  parseFilterAst,
  type RegexFilterName,
  tokenize,
} from "../../src/filter/mod.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { makeFlow } from "./helpers.ts";

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const FLAGS: FlagFilterName[] = ["all", "a", "e", "http", "q", "s", "websocket", "marked"];
const REGEX_NAMES: RegexFilterName[] = [
  "b",
  "bq",
  "bs",
  "d",
  "dst",
  "h",
  "hq",
  "hs",
  "m",
  "src",
  "t",
  "tq",
  "ts",
  "u",
];
/** Pieces of patterns: words the flows below contain, and characters the syntax cares about. */
const PIECES = [
  "GET",
  "post",
  "example",
  "api\\.",
  "json",
  "html",
  "image/",
  "items",
  "id=7",
  "8443",
  "127\\.0",
  "::1",
  "hello",
  "caf\u00e9",
  "^",
  "$",
  ".",
  ".*",
  "\\d+",
  "(a|b)",
  "(x)?",
  "[)(]",
  " ",
  "  ",
  "\t",
  '"',
  "'",
  '\\"',
  "\\'",
  "\\\\",
  "\\(",
  "\\)",
  "!",
  "&",
  "|",
  "~",
  "~q",
  "say",
  "it's",
  "content-type",
  "Server: x",
];

function randomPattern(r: Random): string {
  for (;;) {
    const n = r.int(4);
    let p = "";
    for (let i = 0; i < n; i++) p += r.pick(PIECES);
    try {
      new RegExp(p, "is");
      return p;
    } catch {
      // Not a regex: try again.
    }
  }
}

function randomLeaf(r: Random): FilterNode {
  const k = r.int(10);
  if (k < 3) return { type: "flag", name: r.pick(FLAGS) };
  if (k < 4) return { type: "code", name: "c", code: r.pick([0, 101, 200, 201, 404, 500]) };
  return { type: "regex", name: r.pick(REGEX_NAMES), pattern: randomPattern(r) };
}

function randomTree(r: Random, depth: number): FilterNode {
  if (depth <= 0 || r.chance(0.3)) return randomLeaf(r);
  const k = r.int(10);
  if (k < 2) return { type: "not", child: randomTree(r, depth - 1) };
  const children: FilterNode[] = [];
  // Mostly 2-4 children; sometimes 1, which is printed as the child alone.
  const n = r.chance(0.1) ? 1 : 2 + r.int(3);
  for (let i = 0; i < n; i++) children.push(randomTree(r, depth - 1));
  return { type: k < 6 ? "and" : "or", children };
}

/** What the parser gives back for a tree: nested and/or flattened, single children unwrapped. */
function normalize(node: FilterNode): FilterNode {
  switch (node.type) {
    case "and":
    case "or": {
      const children: FilterNode[] = [];
      for (const c of node.children.map(normalize)) {
        if (c.type === node.type) children.push(...c.children);
        else children.push(c);
      }
      return children.length === 1 ? children[0] : { type: node.type, children };
    }
    case "not":
      return { type: "not", child: normalize(node.child) };
    case "regex":
      // What the printed argument reads back as (the same regex; see formatArgument).
      return { ...node, pattern: tokenize(formatArgument(node.pattern))[0].value };
    default:
      return node;
  }
}

/** Whitespace between tokens: at least one character, of several kinds. */
function space(r: Random): string {
  return r.pick([" ", " ", " ", "  ", "\t", "\n", " \r\n "]);
}

/** Binding level of printed text: 0 side by side (implicit and), 1 or, 2 and, 3 atom or not. */
type Printed = { text: string; level: number };

/**
 * Prints a tree the way a person might: random spacing, `&` or nothing between and-ed parts,
 * redundant parentheses, `~u` left out, `!` with or without a space.
 */
function noisy(node: FilterNode, r: Random): Printed {
  const wrap = (p: Printed, min: number): string =>
    p.level < min || r.chance(0.1)
      ? `(${r.chance(0.5) ? space(r) : ""}${p.text}${r.chance(0.5) ? space(r) : ""})`
      : p.text;
  switch (node.type) {
    case "and": {
      if (node.children.length === 1) return noisy(node.children[0], r);
      if (r.chance(0.4)) {
        // Side by side: the loosest binding, so or-ed children need no parentheses.
        const text = node.children.map((c) => wrap(noisy(c, r), 1)).join(space(r));
        return { text, level: 0 };
      }
      const text = node.children.map((c) => wrap(noisy(c, r), 2)).join(`${space(r)}&${space(r)}`);
      return { text, level: 2 };
    }
    case "or": {
      if (node.children.length === 1) return noisy(node.children[0], r);
      const text = node.children.map((c) => wrap(noisy(c, r), 1)).join(`${space(r)}|${space(r)}`);
      return { text, level: 1 };
    }
    case "not":
      return {
        text: `!${r.chance(0.5) ? "" : space(r)}${wrap(noisy(node.child, r), 3)}`,
        level: 3,
      };
    case "regex": {
      const arg = formatArgument(node.pattern);
      if (node.name === "u" && r.chance(0.5)) return { text: arg, level: 3 };
      return { text: `~${node.name}${space(r)}${arg}`, level: 3 };
    }
    default:
      return { text: formatFilter(node), level: 3 };
  }
}

/** Flows that the patterns above sometimes match. */
const FLOWS: Flow[] = [
  makeFlow(),
  makeFlow({
    method: "POST",
    scheme: "https",
    host: "api.example.com",
    port: 8443,
    path: "/v1/items?id=7",
    request: {
      headers: [["Host", "api.example.com"], ["Content-Type", "application/json"]],
      body: '{"say": "hello (a)"}',
      encoding: "gzip",
    },
    response: {
      status: 201,
      headers: [["Content-Type", "application/json"], ["Server", "x"]],
      body: '{"id": 7}',
      encoding: "br",
    },
    server: { address: "10.0.0.8", port: 8443 },
  }),
  makeFlow({
    path: "/missing",
    response: { status: 404, headers: [["Content-Type", "text/html"]], body: "<p>not here</p>" },
    error: "connection reset",
  }),
  makeFlow({
    path: "/ws",
    response: { status: 101, headers: [["Upgrade", "websocket"], ["Connection", "Upgrade"]] },
  }),
  makeFlow({
    host: "cdn.example.org",
    path: "/logo.png",
    marked: true,
    client: { address: "::1", port: 61000 },
    response: { status: 200, headers: [["Content-Type", "image/png"]], body: "\x89PNG" },
  }),
  makeFlow({
    method: "PUT",
    path: "/say?q=it's",
    request: { headers: [["X-Quote", 'say "hi" it\'s \\d']], body: 'say "hi", it\'s 42 \\ ok' },
    response: { status: 500, body: "caf\u00e9 (b) ~q & | !" },
  }),
  makeFlow({ metadata: { websocket: true }, response: { status: 200, body: null } }),
  makeFlow({ method: "get", host: "127.0.0.1", port: 8080, path: "/a|b" }),
];

test("property: canonical text of a random tree parses back to it and matches the same flows", () => {
  const r = new Random(0x5eed);
  let matched = 0;
  let unmatched = 0;
  for (let i = 0; i < 600; i++) {
    const tree = randomTree(r, 4);
    const text = formatFilter(tree);
    const where = `#${i}: ${JSON.stringify(text)}`;
    const parsed = parseFilterAst(text);
    assert.deepEqual(parsed, normalize(tree), where);
    assert.equal(formatFilter(parsed), text, `printing is stable, ${where}`);
    const direct = filterFromAst(tree);
    const reparsed = parseFilter(text);
    for (const [j, flow] of FLOWS.entries()) {
      const want = direct(flow);
      assert.equal(reparsed(flow), want, `flow ${j}, ${where}`);
      if (want) matched++;
      else unmatched++;
    }
  }
  // The trees and flows are not trivially all-true or all-false.
  assert.ok(matched > 600 && unmatched > 600, `matched ${matched}, unmatched ${unmatched}`);
});

test("property: noisy spellings (spacing, parens, implicit and, bare ~u) parse to the same tree", () => {
  const r = new Random(20240611);
  for (let i = 0; i < 600; i++) {
    const tree = randomTree(r, 4);
    const { text } = noisy(tree, r);
    const where = `#${i}: ${JSON.stringify(text)}`;
    assert.deepEqual(parseFilterAst(text), normalize(tree), where);
    const direct = filterFromAst(tree);
    const reparsed = parseFilter(text);
    for (const [j, flow] of FLOWS.entries()) {
      assert.equal(reparsed(flow), direct(flow), `flow ${j}, ${where}`);
    }
  }
});

test("property: De Morgan and double negation hold on every flow", () => {
  const r = new Random(7);
  for (let i = 0; i < 200; i++) {
    const a = formatFilter(randomTree(r, 2));
    const b = formatFilter(randomTree(r, 2));
    const pairs: Array<[string, string]> = [
      [`!((${a}) & (${b}))`, `!(${a}) | !(${b})`],
      [`!((${a}) | (${b}))`, `!(${a}) & !(${b})`],
      [`!!(${a})`, a],
      [`(${a}) (${b})`, `(${a}) & (${b})`],
      [`(${a}) | !(${a})`, "~all"],
    ];
    for (const [x, y] of pairs) {
      const fx = parseFilter(x);
      const fy = parseFilter(y);
      for (const [j, flow] of FLOWS.entries()) {
        assert.equal(fx(flow), fy(flow), `flow ${j}: ${x} vs ${y}`);
      }
    }
  }
});

test("property: random junk either parses or throws a FilterError inside the text", () => {
  const r = new Random(99);
  const alphabet = [
    "~",
    "q",
    "s",
    "d",
    "c",
    "h",
    "b",
    "u",
    "m",
    "all",
    "1",
    "0",
    "x",
    " ",
    " ",
    "(",
    ")",
    "!",
    "&",
    "|",
    '"',
    "'",
    "\\",
    "[",
    "]",
    "*",
    "?",
    "\n",
  ];
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < 3000; i++) {
    let text = "";
    const n = r.int(14);
    for (let k = 0; k < n; k++) text += r.pick(alphabet);
    let tree: FilterNode;
    try {
      tree = parseFilterAst(text);
    } catch (e) {
      assert.ok(e instanceof FilterError, `${JSON.stringify(text)} threw ${e}`);
      assert.ok(
        e.position >= 0 && e.position <= text.length,
        `${JSON.stringify(text)}: ${e.message}`,
      );
      assert.equal(e.message.includes("\n"), false);
      assert.equal(e.caret.split("\n").length, 2);
      failed++;
      continue;
    }
    ok++;
    // Whatever parsed prints back to something that parses to the same tree.
    assert.deepEqual(parseFilterAst(formatFilter(tree)), normalize(tree), JSON.stringify(text));
  }
  assert.ok(ok > 200 && failed > 200, `ok ${ok}, failed ${failed}`);
});
