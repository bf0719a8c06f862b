/**
 * mitmproxy's flow filter expressions: `~m POST & ~d example\.com & !~c 200`.
 *
 * ```ts
 * const f = parseFilter("~d example.com ~t json");
 * flows.filter(f);            // a Filter is a plain predicate
 * f.source;                   // "~d example.com ~t json"
 * String(f);                  // "~d example.com & ~t json"  (canonical form)
 * describe(f.ast);            // indented tree, for debugging
 * ```
 *
 * Filters (regexes are JavaScript RegExps, always case-insensitive):
 *
 * | filter        | matches                                                                 |
 * | ------------- | ----------------------------------------------------------------------- |
 * | `~all`        | every flow                                                              |
 * | `~a`          | response Content-Type is JavaScript, CSS, an image or a font            |
 * | `~e`          | the flow has an error                                                   |
 * | `~http`       | HTTP flows (every flow here)                                            |
 * | `~q`          | request with no response yet                                            |
 * | `~s`          | flow with a response                                                    |
 * | `~websocket`  | `metadata.websocket` is set, or a 101 response with `Upgrade: websocket` |
 * | `~marked`     | `flow.marked`                                                           |
 * | `~b regex`    | request or response body                                                |
 * | `~bq regex`   | request body                                                            |
 * | `~bs regex`   | response body                                                           |
 * | `~c int`      | response status code                                                    |
 * | `~comment regex` | the flow's comment                                                   |
 * | `~d regex`    | request host                                                            |
 * | `~dst regex`  | server `address:port` (request `host:port` before there is a server)    |
 * | `~h regex`    | a request or response header `Name: value` line, or the whole block      |
 * | `~hq regex`   | request headers                                                         |
 * | `~hs regex`   | response headers                                                        |
 * | `~m regex`    | request method                                                          |
 * | `~src regex`  | client `address:port`                                                   |
 * | `~t regex`    | request or response Content-Type                                        |
 * | `~tq regex`   | request Content-Type                                                    |
 * | `~ts regex`   | response Content-Type                                                   |
 * | `~u regex`    | request URL                                                             |
 * | `regex`       | same as `~u regex`                                                      |
 *
 * Body filters see the body with its Content-Encoding undone (the raw bytes if that fails), as
 * UTF-8 text (Latin-1 if not valid UTF-8), with `.` matching line breaks; a body that was not kept
 * never matches. Operators: `!` not, `&` and, `|` or, `( )` grouping, binding in that order;
 * expressions side by side are and-ed, more loosely than `|` (as in mitmproxy). Arguments are
 * bare words or quoted (`"..."`, `'...'`, where `\"` / `\'` is the quote); see tokenizer.ts.
 *
 * @module
 */
import type { Flow } from "../flow/flow.ts";
import { type FilterNode, formatFilter } from "./ast.ts";
import { compileMatcher } from "./matcher.ts";
import { parseFilterAst } from "./parser.ts";

export {
  type CodeFilterName,
  describe,
  type FilterArgKind,
  filterHelp,
  type FilterName,
  type FilterNode,
  FILTERS,
  type FilterSpec,
  type FlagFilterName,
  formatArgument,
  formatFilter,
  isFilterName,
  type RegexFilterName,
} from "./ast.ts";
export { FilterError } from "./errors.ts";
export { compileMatcher } from "./matcher.ts";
export { MAX_DEPTH, parseFilterAst } from "./parser.ts";
export { isSafeBareWord, type Token, tokenize, type TokenKind } from "./tokenizer.ts";

/**
 * A compiled filter: call it with a flow to know whether the flow matches. Being a plain
 * function, it can be passed straight to `Array.prototype.filter`.
 */
export interface Filter {
  (flow: Flow): boolean;
  /** The expression as given to {@link parseFilter} (or the canonical form, from {@link filterFromAst}). */
  readonly source: string;
  /** The parsed expression. */
  readonly ast: FilterNode;
  /** The canonical expression ({@link formatFilter}): explicit operators, minimal parentheses. */
  toString(): string;
}

/** A {@link Filter} for an already parsed (or hand-built) tree. */
export function filterFromAst(ast: FilterNode, source: string = formatFilter(ast)): Filter {
  const match = compileMatcher(ast);
  const filter = (flow: Flow): boolean => match(flow);
  return Object.defineProperties(filter, {
    source: { value: source, enumerable: true },
    ast: { value: ast, enumerable: true },
    toString: { value: () => formatFilter(ast) },
  }) as Filter;
}

/**
 * Parses and compiles a filter expression.
 *
 * @throws {FilterError} when the expression is malformed: empty, unbalanced parentheses, an
 * unknown filter, a missing or bad argument (including a regex that does not compile), or an
 * operator with nothing after it. The error says where (`position`) and shows it (`caret`).
 */
export function parseFilter(text: string): Filter {
  return filterFromAst(parseFilterAst(text), text);
}
