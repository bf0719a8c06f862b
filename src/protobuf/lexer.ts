/**
 * Tokens of a .proto file (the protobuf language guide's lexical rules): identifiers, numbers,
 * strings and punctuation, each with its line for error messages. Comments are dropped.
 */

export type TokenKind = "ident" | "number" | "string" | "punct" | "eof";

export interface Token {
  kind: TokenKind;
  /** Identifiers and punctuation as written; numbers as written; strings unescaped. */
  text: string;
  line: number;
}

/** A mistake in a .proto file, at a line; the loader adds the file name. */
export class ProtoSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
    this.name = "ProtoSyntaxError";
  }
}

const PUNCT = new Set([..."{}[]()<>;=,.:-+/"]);
const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "?": "?",
};

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
    } else if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      const start = line;
      i += 2;
      while (i < n && !(source[i] === "*" && source[i + 1] === "/")) {
        if (source[i] === "\n") line++;
        i++;
      }
      if (i >= n) throw new ProtoSyntaxError(start, "comment /* is never closed");
      i += 2;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_]/.test(source[i])) i++;
      tokens.push({ kind: "ident", text: source.slice(start, i), line });
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      const m = /^(0[xX][0-9A-Fa-f]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.)/.exec(
        source.slice(i, i + 64),
      )!;
      tokens.push({ kind: "number", text: m[0], line });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      const [text, end] = readString(source, i, line);
      tokens.push({ kind: "string", text, line });
      i = end;
    } else if (PUNCT.has(c)) {
      tokens.push({ kind: "punct", text: c, line });
      i++;
    } else {
      throw new ProtoSyntaxError(line, `unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ kind: "eof", text: "end of file", line });
  return tokens;
}

/** A quoted string starting at `start`; its value and the index after the closing quote. */
function readString(source: string, start: number, line: number): [string, number] {
  const quote = source[start];
  let i = start + 1;
  let out = "";
  while (true) {
    const c = source[i];
    if (c === undefined || c === "\n") throw new ProtoSyntaxError(line, "string is never closed");
    if (c === quote) return [out, i + 1];
    if (c !== "\\") {
      out += c;
      i++;
      continue;
    }
    const e = source[i + 1];
    if (e === undefined) throw new ProtoSyntaxError(line, "string is never closed");
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === "x" || e === "X") {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(source.slice(i + 2, i + 4));
      if (!m) throw new ProtoSyntaxError(line, "\\x in a string needs hex digits");
      out += String.fromCharCode(parseInt(m[0], 16));
      i += 2 + m[0].length;
    } else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(source.slice(i + 1, i + 4))!;
      out += String.fromCharCode(parseInt(m[0], 8));
      i += 1 + m[0].length;
    } else if (e === "u" || e === "U") {
      const len = e === "u" ? 4 : 8;
      const hex = source.slice(i + 2, i + 2 + len);
      if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) {
        throw new ProtoSyntaxError(line, `\\${e} in a string needs ${len} hex digits`);
      }
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + len;
    } else {
      throw new ProtoSyntaxError(line, `unknown escape \\${e} in a string`);
    }
  }
}
