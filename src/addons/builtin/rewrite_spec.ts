/**
 * mitmproxy's rewrite option syntax: the first character is the separator, then an optional
 * filter, a subject and a replacement: `|~d example.com|/static/|./public` or `/name/value`. The
 * last part may contain the separator. A replacement starting with `@` names a file whose content
 * is the replacement, read each time it is used (so it can be edited while the proxy runs).
 *
 * ```ts
 * const spec = parseModifyBody("/~s/hello/goodbye"); // throws SpecError with one line if bad
 * ```
 */
import { readFileSync } from "node:fs";
import { type Filter, parseFilter } from "../../filter/mod.ts";
import { expandHome } from "../../ca/store.ts";

/** What is wrong with a spec, worded to follow the quoted spec ("... has an empty filter"). */
export class SpecError extends Error {}

export interface RewriteSpec {
  /** Null matches every flow. */
  filter: Filter | null;
  subject: string;
  /** The replacement text, or the file to read it from (`@file`). */
  replacement: string | { file: string };
}

/** Splits into [filter, subject, replacement]; `form` names the expected shape in the error. */
function split(text: string, form: string, example: string): [string, string, string] {
  const bad = () =>
    new SpecError(
      `is not of the form ${form} (the first character is the separator; the filter is ` +
        `optional), e.g. '${example}'`,
    );
  if (text.length < 2) throw bad();
  const sep = text[0];
  const rest = text.slice(1);
  const first = rest.indexOf(sep);
  if (first < 0) throw bad();
  const second = rest.indexOf(sep, first + 1);
  if (second < 0) return ["", rest.slice(0, first), rest.slice(first + 1)];
  return [rest.slice(0, first), rest.slice(first + 1, second), rest.slice(second + 1)];
}

function filterOf(text: string): Filter | null {
  if (text.trim() === "") return null;
  try {
    return parseFilter(text);
  } catch (e) {
    throw new SpecError(`has an invalid filter "${text}" (${(e as Error).message})`);
  }
}

function regexOf(text: string): RegExp {
  if (text === "") throw new SpecError("has an empty regular expression");
  try {
    return new RegExp(text, "g");
  } catch (e) {
    throw new SpecError(
      `has an invalid regular expression "${text}" (${(e as Error).message})`,
    );
  }
}

function replacementOf(text: string): RewriteSpec["replacement"] {
  if (!text.startsWith("@")) return text;
  const file = expandHome(text.slice(1));
  try {
    readFileSync(file);
  } catch (e) {
    throw new SpecError(
      `names a file that cannot be read: ${text.slice(1)} (${(e as Error).message})`,
    );
  }
  return { file };
}

/** The replacement's text now (a file is read again each time). */
export function replacementText(replacement: RewriteSpec["replacement"]): string {
  return typeof replacement === "string" ? replacement : readFileSync(replacement.file, "utf8");
}

export interface RegexSpec {
  filter: Filter | null;
  regex: RegExp;
  replacement: RewriteSpec["replacement"];
}

/** --map-local '|filter|url-regex|path': `replacement` is the local file or directory. */
export function parseMapLocal(
  text: string,
): { filter: Filter | null; regex: RegExp; path: string } {
  const [f, subject, path] = split(
    text,
    "|filter|url-regex|path",
    "|example\\.com/static|./public",
  );
  if (path === "") throw new SpecError("has an empty local path");
  return { filter: filterOf(f), regex: regexOf(subject), path: expandHome(path) };
}

/** --map-remote '|filter|url-regex|replacement'. */
export function parseMapRemote(text: string): { filter: Filter | null; regex: RegExp; to: string } {
  const [f, subject, to] = split(
    text,
    "|filter|url-regex|replacement",
    "|https://api\\.example\\.com/|http://127.0.0.1:3000/",
  );
  return { filter: filterOf(f), regex: regexOf(subject), to };
}

/** --modify-body '/filter/regex/replacement' (replacement may be @file). */
export function parseModifyBody(text: string): RegexSpec {
  const [f, subject, r] = split(text, "/filter/regex/replacement", "/~s/hello/goodbye");
  return { filter: filterOf(f), regex: regexOf(subject), replacement: replacementOf(r) };
}

/** --modify-headers '/filter/name/value' (an empty value deletes; value may be @file). */
export function parseModifyHeaders(text: string): RewriteSpec {
  const [f, name, value] = split(text, "/filter/name/value", "/~q/User-Agent/mitm.ts");
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new SpecError(`has an invalid header name "${name}"`);
  }
  return { filter: filterOf(f), subject: name, replacement: replacementOf(value) };
}

/** --block-list '/filter/status': 444 hangs up without answering. */
export function parseBlockList(text: string): { filter: Filter | null; status: number } {
  const bad = () =>
    new SpecError(
      `is not of the form /filter/status (the first character is the separator), ` +
        `e.g. '/~d ads\\.example/404' or '|~u /track|444'`,
    );
  if (text.length < 2) throw bad();
  const sep = text[0];
  const at = text.lastIndexOf(sep);
  if (at <= 0 || at === text.length - 1) throw bad();
  const f = text.slice(1, at);
  const status = text.slice(at + 1);
  if (!/^[0-9]{3}$/.test(status) || Number(status) < 200 || Number(status) > 599) {
    throw new SpecError(`has "${status}" where an HTTP status from 200 to 599 belongs`);
  }
  if (f.trim() === "") throw new SpecError("has an empty filter (use ~all for every flow)");
  return { filter: filterOf(f), status: Number(status) };
}

/**
 * For the option registry: null when `text` parses with `parse`, else what is wrong (the registry
 * puts the option name and the value in front: `option map_local: "|x" is not of the form ...`).
 */
export function specProblem(parse: (text: string) => unknown): (text: string) => string | null {
  return (text) => {
    try {
      parse(text);
      return null;
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      return e.message;
    }
  };
}
