/**
 * Recursive-descent parser from tokens to a {@link FilterNode}. Grammar, loosest binding first:
 *
 * ```text
 * expression := or or*                       (side by side: implicit and)
 * or         := and ("|" and)*
 * and        := not ("&" not)*
 * not        := "!" not | primary
 * primary    := "(" expression ")" | "~" name [argument] | word    (a bare word is ~u word)
 * ```
 *
 * As in mitmproxy, the implicit and binds loosest of all: `~q | ~s ~m GET` is
 * `(~q | ~s) & ~m GET`, while `~q | ~s & ~m GET` is `~q | (~s & ~m GET)`.
 */
import {
  type FilterNode,
  FILTERS,
  type FlagFilterName,
  isFilterName,
  type RegexFilterName,
  regexFlags,
} from "./ast.ts";
import { FilterError } from "./errors.ts";
import { type Token, tokenize } from "./tokenizer.ts";

/** Deeper nesting (parentheses or `!`) than this is refused rather than overflowing the stack. */
export const MAX_DEPTH = 500;

class Parser {
  readonly #text: string;
  readonly #tokens: Token[];
  #i = 0;
  #depth = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = tokenize(text);
  }

  #peek(): Token {
    return this.#tokens[this.#i];
  }

  #next(): Token {
    const t = this.#tokens[this.#i];
    if (t.kind !== "eof") this.#i++;
    return t;
  }

  #fail(position: number, detail: string): never {
    throw new FilterError(this.#text, position, detail);
  }

  parse(): FilterNode {
    if (this.#peek().kind === "eof") this.#fail(this.#peek().pos, "empty filter expression");
    const node = this.#expression();
    const t = this.#peek();
    if (t.kind === ")") this.#fail(t.pos, "unmatched ): there is no ( to close");
    // #expression stops only at ")" or the end.
    return node;
  }

  /** One or more or-expressions side by side, and-ed. */
  #expression(): FilterNode {
    const parts = [this.#or()];
    for (;;) {
      const k = this.#peek().kind;
      if (k === ")" || k === "eof") break;
      parts.push(this.#or());
    }
    return join("and", parts);
  }

  #or(): FilterNode {
    const parts = [this.#and()];
    while (this.#peek().kind === "|") {
      this.#next();
      parts.push(this.#and());
    }
    return join("or", parts);
  }

  #and(): FilterNode {
    const parts = [this.#not()];
    while (this.#peek().kind === "&") {
      this.#next();
      parts.push(this.#not());
    }
    return join("and", parts);
  }

  #not(): FilterNode {
    if (this.#peek().kind !== "!") return this.#primary();
    const bang = this.#next();
    this.#enter(bang);
    const child = this.#not();
    this.#depth--;
    return { type: "not", child };
  }

  #enter(t: Token): void {
    if (++this.#depth > MAX_DEPTH) {
      this.#fail(t.pos, `expression nested too deeply (more than ${MAX_DEPTH} levels)`);
    }
  }

  #primary(): FilterNode {
    const prev = this.#i > 0 ? this.#tokens[this.#i - 1] : null;
    const t = this.#next();
    switch (t.kind) {
      case "(": {
        this.#enter(t);
        const inner = this.#expression();
        if (this.#peek().kind !== ")") this.#fail(t.pos, "unmatched (: missing )");
        this.#next();
        this.#depth--;
        return inner;
      }
      case "filter":
        return this.#filter(t);
      case "word":
        return this.#regex("u", t);
      default: {
        // ")", "&", "|" or the end, where an expression should start.
        const after = prev
          ? ` after ${prev.kind === "filter" ? "~" + prev.value : prev.value}`
          : "";
        const found = t.kind === "eof" ? "" : `, found ${t.value}`;
        this.#fail(t.pos, `expected an expression${after}${found}`);
      }
    }
  }

  #filter(t: Token): FilterNode {
    const name = t.value;
    if (!isFilterName(name)) this.#fail(t.pos, `unknown filter ~${name}`);
    const spec = FILTERS[name];
    if (spec.arg === "none") return { type: "flag", name: name as FlagFilterName };
    const arg = this.#peek();
    if (arg.kind !== "word") this.#fail(arg.pos, `expected an argument after ~${name}`);
    this.#next();
    if (spec.arg === "int") {
      if (!/^[0-9]+$/.test(arg.value)) {
        this.#fail(arg.pos, `~${name} needs a decimal integer, not ${JSON.stringify(arg.value)}`);
      }
      return { type: "code", name: "c", code: Number(arg.value) };
    }
    return this.#regex(name as RegexFilterName, arg);
  }

  #regex(name: RegexFilterName, arg: Token): FilterNode {
    try {
      new RegExp(arg.value, regexFlags(name));
    } catch (e) {
      const why = String((e as Error).message ?? e).replace(/\s+/g, " ");
      this.#fail(arg.pos, `invalid regex ${JSON.stringify(arg.value)}: ${why}`);
    }
    return { type: "regex", name, pattern: arg.value };
  }
}

/** One node for a list of and-ed or or-ed parts, flattening nested nodes of the same type. */
function join(type: "and" | "or", parts: FilterNode[]): FilterNode {
  if (parts.length === 1) return parts[0];
  const children: FilterNode[] = [];
  for (const p of parts) {
    if (p.type === type) children.push(...p.children);
    else children.push(p);
  }
  return { type, children };
}

/**
 * Parses a filter expression into its syntax tree. Every regex is checked here, so a tree that
 * comes back compiles. Throws {@link FilterError} for anything malformed.
 */
export function parseFilterAst(text: string): FilterNode {
  return new Parser(text).parse();
}
