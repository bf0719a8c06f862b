/**
 * The syntax tree of a filter expression, the table of known filters, and the two ways of turning
 * a tree back into text: {@link formatFilter} (an expression that parses to the same tree) and
 * {@link describe} (an indented dump for debugging).
 */
import { isSafeBareWord } from "./tokenizer.ts";

/** Filters that take no argument (`~q`, `~marked`, ...). */
export type FlagFilterName = "all" | "a" | "e" | "http" | "q" | "s" | "websocket" | "marked";

/** Filters that take a regular expression (`~d example\.com`, ...). */
export type RegexFilterName =
  | "b"
  | "bq"
  | "bs"
  | "comment"
  | "d"
  | "dst"
  | "h"
  | "hq"
  | "hs"
  | "m"
  | "src"
  | "t"
  | "tq"
  | "ts"
  | "u";

/** Filters that take a decimal integer (`~c 404`). */
export type CodeFilterName = "c";

export type FilterName = FlagFilterName | RegexFilterName | CodeFilterName;

/**
 * A parsed filter expression. Plain data (JSON-serializable); regexes are kept as their source
 * text and compiled by the matcher. `and`/`or` are n-ary: `a & b & c` is one `and` with three
 * children, and so is `a b c` (implicit and).
 */
export type FilterNode =
  | { type: "and"; children: FilterNode[] }
  | { type: "or"; children: FilterNode[] }
  | { type: "not"; child: FilterNode }
  | { type: "flag"; name: FlagFilterName }
  | { type: "regex"; name: RegexFilterName; pattern: string }
  | { type: "code"; name: CodeFilterName; code: number };

/** What a filter takes after its name. */
export type FilterArgKind = "none" | "regex" | "int";

export interface FilterSpec {
  arg: FilterArgKind;
  /** One line of help, for `--help` style listings. */
  help: string;
}

/** Every filter the language knows, by name (without the `~`). */
export const FILTERS: Readonly<Record<FilterName, FilterSpec>> = {
  all: { arg: "none", help: "All flows" },
  a: { arg: "none", help: "Asset in response: CSS, JavaScript, images, fonts" },
  e: { arg: "none", help: "Flow has an error" },
  http: { arg: "none", help: "HTTP flow" },
  q: { arg: "none", help: "Request with no response yet" },
  s: { arg: "none", help: "Flow has a response" },
  websocket: { arg: "none", help: "WebSocket flow" },
  marked: { arg: "none", help: "Marked flow" },
  b: { arg: "regex", help: "Body of request or response (decoded)" },
  bq: { arg: "regex", help: "Request body (decoded)" },
  bs: { arg: "regex", help: "Response body (decoded)" },
  c: { arg: "int", help: "Response status code" },
  comment: { arg: "regex", help: "Flow comment" },
  d: { arg: "regex", help: "Domain (request host)" },
  dst: { arg: "regex", help: "Destination address (server address:port)" },
  h: { arg: "regex", help: 'Header of request or response ("Name: value")' },
  hq: { arg: "regex", help: "Request header" },
  hs: { arg: "regex", help: "Response header" },
  m: { arg: "regex", help: "Request method" },
  src: { arg: "regex", help: "Source address (client address:port)" },
  t: { arg: "regex", help: "Content-Type of request or response" },
  tq: { arg: "regex", help: "Request Content-Type" },
  ts: { arg: "regex", help: "Response Content-Type" },
  u: { arg: "regex", help: "Request URL" },
};

/** True when `name` (without `~`) is a known filter. */
export function isFilterName(name: string): name is FilterName {
  return Object.prototype.hasOwnProperty.call(FILTERS, name);
}

/** Body filters match across line breaks (`.` matches `\n`), as mitmproxy's do. */
const BODY_FILTERS: ReadonlySet<string> = new Set(["b", "bq", "bs"]);

/** RegExp flags for a filter's argument: always case-insensitive; `s` too for body filters. */
export function regexFlags(name: RegexFilterName): string {
  return BODY_FILTERS.has(name) ? "is" : "i";
}

/**
 * Help lines for every filter and operator, sorted by filter name: `["~d regex", "Domain ..."]`.
 */
export function filterHelp(): Array<[syntax: string, help: string]> {
  const out: Array<[string, string]> = [];
  for (const name of Object.keys(FILTERS).sort() as FilterName[]) {
    const spec = FILTERS[name];
    const arg = spec.arg === "none" ? "" : spec.arg === "regex" ? " regex" : " int";
    out.push([`~${name}${arg}`, spec.help]);
  }
  out.push(
    ["regex", "Same as ~u regex"],
    ["!", "Not"],
    ["&", "And (also: two expressions side by side)"],
    ["|", "Or"],
    ["(...)", "Grouping"],
  );
  return out;
}

// ---- Formatting ----

/**
 * An argument as it must be written: bare when that reads back the same, else in quotes.
 * Double quotes are preferred; single quotes when the text has `"` but no `'`. Inside quotes only
 * `\<quote>` is an escape (every other backslash pair is kept verbatim), so the result parses back
 * to the same text. The one exception: a regex that contains both `\"` and `\'` comes back with
 * `\"` as `"`, which is the same regex.
 */
export function formatArgument(text: string): string {
  // Quotes inside a bare word would read back fine, but look like a mistake: quote those too.
  if (isSafeBareWord(text) && !/["']/.test(text)) return text;
  const quote = text.includes('"') && !text.includes("'") ? "'" : '"';
  let out = quote;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) {
        // A lone trailing backslash would escape the closing quote; double it.
        out += "\\\\";
      } else if (next === quote) {
        // `\"` in a regex is just `"`; it reads back as `"`.
        out += "\\" + quote;
        i++;
      } else {
        out += c + next;
        i++;
      }
    } else if (c === quote) {
      out += "\\" + quote;
    } else {
      out += c;
    }
  }
  return out + quote;
}

/** Binding strength when printing: a child binding weaker than its parent needs parentheses. */
function strength(node: FilterNode): number {
  switch (node.type) {
    case "or":
      return node.children.length === 1 ? strength(node.children[0]) : 1;
    case "and":
      return node.children.length === 1 ? strength(node.children[0]) : 2;
    default:
      return 3;
  }
}

function formatChild(node: FilterNode, min: number): string {
  const text = formatFilter(node);
  return strength(node) < min ? `(${text})` : text;
}

/**
 * The tree as an expression that parses back to an equivalent tree: explicit `&` and `|`, and
 * parentheses only where precedence needs them. An empty `and` prints as `~all`, an empty `or`
 * as `!~all`.
 */
export function formatFilter(node: FilterNode): string {
  switch (node.type) {
    case "and":
      if (node.children.length === 0) return "~all";
      if (node.children.length === 1) return formatFilter(node.children[0]);
      return node.children.map((c) => formatChild(c, 2)).join(" & ");
    case "or":
      if (node.children.length === 0) return "!~all";
      if (node.children.length === 1) return formatFilter(node.children[0]);
      return node.children.map((c) => formatChild(c, 1)).join(" | ");
    case "not":
      return "!" + formatChild(node.child, 3);
    case "flag":
      return `~${node.name}`;
    case "regex":
      return `~${node.name} ${formatArgument(node.pattern)}`;
    case "code":
      return `~${node.name} ${node.code}`;
  }
}

/**
 * An indented dump of the tree, one node per line, for debugging:
 *
 * ```text
 * and
 *   ~m GET        # Request method
 *   not
 *     ~d foo.com  # Domain (request host)
 * ```
 */
export function describe(node: FilterNode): string {
  const lines: Array<[string, string]> = [];
  const walk = (n: FilterNode, indent: string): void => {
    switch (n.type) {
      case "and":
      case "or":
        lines.push([indent + n.type, ""]);
        for (const c of n.children) walk(c, indent + "  ");
        return;
      case "not":
        lines.push([indent + "not", ""]);
        walk(n.child, indent + "  ");
        return;
      default:
        lines.push([indent + formatFilter(n), FILTERS[n.name].help]);
    }
  };
  walk(node, "");
  const width = Math.max(...lines.map(([l, h]) => (h ? l.length : 0)));
  return lines.map(([l, h]) => (h ? `${l.padEnd(width)}  # ${h}` : l)).join("\n");
}
