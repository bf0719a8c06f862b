/**
 * Splits a filter expression into tokens. Context-free: the parser decides whether a word is a
 * filter's argument or a bare URL regex.
 *
 * - `(` `)` `!` `&` `|` are operators wherever a token starts.
 * - `~name` is a filter; the name runs up to whitespace or one of `( ) ! & | " ' ~`.
 * - `"..."` and `'...'` are quoted words. Inside, `\"` (or `\'` in single quotes) stands for the
 *   quote; every other backslash pair is kept as written, so regex escapes like `\d` or `\\` need
 *   no doubling. `"a\\"` is the regex `a\\` (a literal backslash), and the string ends there.
 * - Anything else starts a bare word, which runs up to whitespace or a `)` that closes a group.
 *   Parentheses opened inside the word are part of it (`~u a(b|c)d` is one regex), and so is
 *   whatever follows a backslash (`\)`, `\(` do not count as parentheses). Inside a word, `! & | ~`
 *   and quotes are ordinary characters: `~d foo|bar` is the regex `foo|bar`.
 */
import { FilterError } from "./errors.ts";

export type TokenKind = "(" | ")" | "!" | "&" | "|" | "filter" | "word" | "eof";

export interface Token {
  kind: TokenKind;
  /** Index of the token's first character; for "eof", the length of the text. */
  pos: number;
  /** Index just past the token. */
  end: number;
  /**
   * For "filter", the name without `~`; for "word", the text with quotes and `\<quote>` escapes
   * removed; for operators, the operator; for "eof", "".
   */
  value: string;
  /** For "word": true when written in quotes. */
  quoted: boolean;
}

/** Characters that cannot start a bare word (they are operators, filters or quotes). */
const NOT_WORD_START = new Set(["(", ")", "!", "&", "|", "~", '"', "'"]);
/** Characters that end a filter name. */
const NAME_END = new Set(["(", ")", "!", "&", "|", "~", '"', "'"]);

function isSpace(c: string): boolean {
  return /\s/.test(c);
}

/** Index just past the bare word starting at `start` (see the module comment for the rules). */
function scanBareWord(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i];
    if (isSpace(c)) break;
    if (c === "\\" && i + 1 < text.length && !isSpace(text[i + 1])) {
      i += 2;
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")") {
      if (depth === 0) break;
      depth--;
    }
    i++;
  }
  return i;
}

/**
 * True when `text` can be written as a bare word and read back unchanged, whatever follows it
 * (a space, `)` or the end of the expression).
 */
export function isSafeBareWord(text: string): boolean {
  if (text === "" || NOT_WORD_START.has(text[0]) || isSpace(text[0])) return false;
  // The appended ")" must end the word: no whitespace inside, no unclosed "(", no trailing "\".
  return scanBareWord(text + ")", 0) === text.length;
}

/** The tokens of `text`, ending with one "eof" token. Throws {@link FilterError}. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "(" || c === ")" || c === "!" || c === "&" || c === "|") {
      tokens.push({ kind: c, pos: start, end: start + 1, value: c, quoted: false });
      i++;
    } else if (c === "~") {
      i++;
      while (i < n && !isSpace(text[i]) && !NAME_END.has(text[i])) i++;
      if (i === start + 1) throw new FilterError(text, start, "expected a filter name after ~");
      tokens.push({
        kind: "filter",
        pos: start,
        end: i,
        value: text.slice(start + 1, i),
        quoted: false,
      });
    } else if (c === '"' || c === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= n) {
          throw new FilterError(text, start, `unterminated string: missing closing ${c}`);
        }
        const d = text[i];
        if (d === c) {
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n) {
          const e = text[i + 1];
          value += e === c ? e : d + e;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: "word", pos: start, end: i, value, quoted: true });
    } else {
      i = scanBareWord(text, start);
      tokens.push({ kind: "word", pos: start, end: i, value: text.slice(start, i), quoted: false });
    }
  }
  tokens.push({ kind: "eof", pos: n, end: n, value: "", quoted: false });
  return tokens;
}
