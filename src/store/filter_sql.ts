/**
 * A filter expression as SQL over the `flows` table (alias `f`), for the part SQL can decide.
 *
 * Every node becomes two conditions: `sure` (the flow certainly matches) and `maybe` (it may
 * match; false means it certainly does not). Where SQL decides exactly, both are the same text.
 * The store selects rows WHERE maybe, and asks the JS matcher only for rows where sure is false.
 * Combining keeps that meaning: and/or combine each side alike, and `not` swaps them
 * (not-maybe is sure, not-sure is maybe).
 *
 * What SQL decides: ~all ~http ~q ~s ~e ~marked ~websocket ~a ~c, and ~m ~d ~u ~t ~tq ~ts ~h
 * ~hq ~hs ~b ~bq ~bs when the regex is a plain ASCII literal (escapes like `\.` allowed,
 * optionally anchored with ^ and $; `.` is allowed too except in bodies and header lines).
 * JavaScript's case-insensitive matching folds a non-ASCII character only to another non-ASCII one,
 * and SQLite's LIKE and lower() fold ASCII alone, so for an ASCII literal they agree.
 */
import type { FilterNode, RegexFilterName } from "../filter/ast.ts";
import type { SqlValue } from "../runtime/mod.ts";
import { BODY_OTHER, BODY_PLAIN } from "./schema.ts";

export interface SqlCondition {
  sure: string;
  maybe: string;
  sureParams: SqlValue[];
  maybeParams: SqlValue[];
  /** True when sure and maybe are the same: no row needs the JS matcher. */
  exact: boolean;
}

interface Part {
  sure: string;
  sureParams: SqlValue[];
  maybe: string;
  maybeParams: SqlValue[];
}

const TRUE = "1";
const FALSE = "0";

function exact(sql: string, params: SqlValue[] = []): Part {
  // coalesce: a NULL anywhere must not turn a NOT into "unknown".
  const text = `coalesce((${sql}), 0)`;
  return { sure: text, sureParams: params, maybe: text, maybeParams: params };
}

const UNKNOWN: Part = { sure: FALSE, sureParams: [], maybe: TRUE, maybeParams: [] };

/** Stands for an unescaped `.` in Literal.text (a literal is printable ASCII otherwise). */
const ANY = "\0";

export interface Literal {
  /** The literal; ANY (a NUL) where the pattern has an unescaped `.` (see `dots`). */
  text: string;
  start: boolean;
  end: boolean;
  /** True when the literal has an unescaped `.` (any character but a line break). */
  dots: boolean;
}

/** The pattern as a literal with optional anchors, or null when it is a real regex. */
export function literalOf(pattern: string): Literal | null {
  let from = 0;
  let to = pattern.length;
  const start = pattern.startsWith("^");
  if (start) from = 1;
  let end = false;
  if (to > from && pattern[to - 1] === "$") {
    let slashes = 0;
    for (let i = to - 2; i >= from && pattern[i] === "\\"; i--) slashes++;
    if (slashes % 2 === 0) {
      end = true;
      to--;
    }
  }
  let text = "";
  let dots = false;
  for (let i = from; i < to; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1];
      if (i + 1 >= to || /[A-Za-z0-9]/.test(next)) return null;
      text += next;
      i++;
    } else if (c === ".") {
      text += ANY;
      dots = true;
    } else if ("^$|?*+()[]{}".includes(c)) return null;
    else text += c;
  }
  const plain = text.replaceAll(ANY, ".");
  if (plain === "" || !/^[\x20-\x7e]+$/.test(plain)) return null;
  return { text, start, end, dots };
}

/**
 * A run of text any match of the regex must contain (case aside), or null: the longest literal
 * run outside groups and classes, each character kept only when it is not made optional by a
 * quantifier after it. None when the regex has a `|` outside groups (either side may match).
 * SQL can then rule out the rows without it, and the JS matcher decides the rest.
 */
export function requiredText(pattern: string): string | null {
  let best = "";
  let run = "";
  let depth = 0;
  const end = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      i++;
      if (depth > 0) continue;
      if (/[A-Za-z0-9]/.test(next)) end();
      else run += next;
      continue;
    }
    if (c === "[") {
      end();
      // Skip the class; `]` right after `[` or `[^` is part of it.
      let j = i + 1;
      if (pattern[j] === "^") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j += pattern[j] === "\\" ? 2 : 1;
      i = j;
      continue;
    }
    if (c === "(") {
      end();
      depth++;
      continue;
    }
    if (c === ")") {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (depth > 0) continue;
    if (c === "|") return null;
    if (c === "?" || c === "*" || c === "{") {
      run = run.slice(0, -1); // the character before is optional (or repeated a number of times)
      end();
      if (c === "{") { while (i < pattern.length && pattern[i] !== "}") i++; }
      continue;
    }
    if (c === "+") {
      end();
      continue;
    }
    if (".^$".includes(c)) {
      end();
      continue;
    }
    run += c;
  }
  end();
  return best.length >= 3 && /^[\x20-\x7e]+$/.test(best) ? best : null;
}

/** Escapes LIKE's wildcards (ESCAPE '\'). */
function likeEscape(text: string): string {
  return text.replace(/[%_\\]/g, "\\$&");
}

/** For a regex SQL cannot decide: rows whose column lacks its required text are ruled out. */
function prefilter(column: string, pattern: string): Part {
  const text = requiredText(pattern);
  if (text === null) return UNKNOWN;
  return {
    sure: FALSE,
    sureParams: [],
    maybe: `coalesce((${column} LIKE ? ESCAPE '\\'), 0)`,
    maybeParams: ["%" + likeEscape(text) + "%"],
  };
}

/** A LIKE pattern (ESCAPE '\') for the literal; `.` becomes `_`. */
function likeBody(lit: Literal): string {
  let out = "";
  for (const c of lit.text) {
    if (c === ANY) out += "_";
    else if (c === "%" || c === "_" || c === "\\") out += "\\" + c;
    else out += c;
  }
  return out;
}

/** Characters outside printable ASCII (where `.` and `_` could disagree: surrogates, breaks). */
const NOT_PLAIN_ASCII = "[^ -~]";

/** One text column holding one value. */
function singleColumn(column: string, pattern: string): Part {
  const lit = literalOf(pattern);
  if (lit === null) return prefilter(column, pattern);
  const like = (lit.start ? "" : "%") + likeBody(lit) + (lit.end ? "" : "%");
  const match = `${column} LIKE ? ESCAPE '\\'`;
  if (!lit.dots) return exact(match, [like]);
  // `.` is one UTF-16 unit except line breaks; `_` is one code point: equal on printable ASCII.
  const odd = `${column} GLOB '*${NOT_PLAIN_ASCII}*'`;
  return {
    sure: `coalesce((${match} AND NOT ${odd}), 0)`,
    sureParams: [like],
    maybe: `coalesce((${match} OR ${odd}), 0)`,
    maybeParams: [like],
  };
}

/**
 * A column of "\nA\nB\n" lines (content types, header lines), where the JS matcher tests each
 * line alone. A literal without `.` cannot span a newline, so LIKE over the block is the same.
 */
function linesColumn(column: string, pattern: string): Part {
  const lit = literalOf(pattern);
  if (lit === null || lit.dots) return prefilter(column, pattern);
  const like = "%" + (lit.start ? "\n" : "") + likeBody(lit) + (lit.end ? "\n" : "") + "%";
  return exact(`${column} LIKE ? ESCAPE '\\'`, [like]);
}

function headsColumn(column: "req_heads" | "res_heads", pattern: string): Part {
  const inner = linesColumn(`d.${column}`, pattern);
  if (inner === UNKNOWN) return UNKNOWN;
  const exists = (cond: string) =>
    `EXISTS (SELECT 1 FROM flow_docs d WHERE d.seq = f.seq AND ${cond})`;
  return {
    sure: inner.sure === FALSE ? FALSE : exists(inner.sure),
    sureParams: inner.sureParams,
    maybe: exists(inner.maybe),
    maybeParams: inner.maybeParams,
  };
}

/** A body: SQL searches plain single-chunk bodies; the JS matcher decodes the others. */
function bodyPart(part: 0 | 1, pattern: string): Part {
  const state = part === 0 ? "f.req_body" : "f.res_body";
  const data = part === 0 ? "d.req_data" : "d.res_data";
  const lit = literalOf(pattern);
  if (lit === null || lit.dots || lit.start || lit.end) {
    // A body must hold the regex's required text, if it has one, where SQL can read it.
    const text = requiredText(pattern);
    if (text === null) {
      return { sure: FALSE, sureParams: [], maybe: `${state} <> 0`, maybeParams: [] };
    }
    return {
      sure: FALSE,
      sureParams: [],
      maybe: `(${state} = ${BODY_OTHER} OR (${state} = ${BODY_PLAIN} AND EXISTS (SELECT 1 FROM ` +
        `flow_docs d WHERE d.seq = f.seq AND instr(lower(${data}), ?) > 0)))`,
      maybeParams: [text.toLowerCase()],
    };
  }
  const needle = lit.text.toLowerCase();
  // A plain body is one chunk, the one in the flow's flow_docs row.
  const found = `(${state} = ${BODY_PLAIN} AND EXISTS (SELECT 1 FROM flow_docs d WHERE ` +
    `d.seq = f.seq AND instr(lower(${data}), ?) > 0))`;
  return {
    sure: found,
    sureParams: [needle],
    maybe: `(${found} OR ${state} = ${BODY_OTHER})`,
    maybeParams: [needle],
  };
}

function or(parts: Part[]): Part {
  return combine(parts, "OR", FALSE);
}

function and(parts: Part[]): Part {
  return combine(parts, "AND", TRUE);
}

function combine(parts: Part[], op: string, empty: string): Part {
  if (parts.length === 0) return { sure: empty, sureParams: [], maybe: empty, maybeParams: [] };
  if (parts.length === 1) return parts[0];
  return {
    sure: "(" + parts.map((p) => p.sure).join(` ${op} `) + ")",
    sureParams: parts.flatMap((p) => p.sureParams),
    maybe: "(" + parts.map((p) => p.maybe).join(` ${op} `) + ")",
    maybeParams: parts.flatMap((p) => p.maybeParams),
  };
}

function regexPart(name: RegexFilterName, pattern: string): Part {
  switch (name) {
    case "m":
      return singleColumn("f.method", pattern);
    case "d":
      return singleColumn("f.host", pattern);
    case "u":
      return singleColumn("f.url", pattern);
    case "t":
      return or([linesColumn("f.req_type", pattern), linesColumn("f.res_type", pattern)]);
    case "tq":
      return linesColumn("f.req_type", pattern);
    case "ts":
      return linesColumn("f.res_type", pattern);
    case "h":
      return or([headsColumn("req_heads", pattern), headsColumn("res_heads", pattern)]);
    case "hq":
      return headsColumn("req_heads", pattern);
    case "hs":
      return headsColumn("res_heads", pattern);
    case "comment":
      // Comments live in the flow document only: each row is read and matched in JavaScript.
      return UNKNOWN;
    case "b":
      return or([bodyPart(0, pattern), bodyPart(1, pattern)]);
    case "bq":
      return bodyPart(0, pattern);
    case "bs":
      return bodyPart(1, pattern);
    case "src":
    case "dst":
      return UNKNOWN;
  }
}

function toPart(node: FilterNode): Part {
  switch (node.type) {
    case "and":
      return and(node.children.map(toPart));
    case "or":
      return or(node.children.map(toPart));
    case "not": {
      const inner = toPart(node.child);
      return {
        sure: `NOT ${inner.maybe}`,
        sureParams: inner.maybeParams,
        maybe: `NOT ${inner.sure}`,
        maybeParams: inner.sureParams,
      };
    }
    case "code":
      return exact("f.status = ?", [node.code]);
    case "regex":
      return regexPart(node.name, node.pattern);
    case "flag":
      switch (node.name) {
        case "all":
        case "http":
          return exact(TRUE);
        case "q":
          return exact("f.status IS NULL");
        case "s":
          return exact("f.status IS NOT NULL");
        case "e":
          return exact("f.error = 1");
        case "marked":
          return exact("f.marked = 1");
        case "websocket":
          return exact("f.websocket = 1");
        case "a":
          return exact("f.asset = 1");
      }
  }
}

/** The SQL for a filter tree (see the top of this file). */
export function filterToSql(node: FilterNode): SqlCondition {
  const p = toPart(node);
  return {
    sure: p.sure,
    maybe: p.maybe,
    sureParams: p.sureParams,
    maybeParams: p.maybeParams,
    exact: p.sure === p.maybe &&
      p.sureParams.length === p.maybeParams.length &&
      p.sureParams.every((v, i) => v === p.maybeParams[i]),
  };
}
