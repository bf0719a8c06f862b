/**
 * GraphQL over HTTP: a JSON body with `query`, `variables` and `operationName` (or a list of them,
 * batched), shown as the operation name, the query as written (keywords and names highlighted) and
 * the variables as pretty JSON.
 */
import { jsonView } from "./json_view.ts";
import { rawMembers } from "./json_pretty.ts";
import { NotThisFormat, type Span, type ViewLine } from "./types.ts";

const KEYWORDS = new Set([
  "query",
  "mutation",
  "subscription",
  "fragment",
  "on",
  "true",
  "false",
  "null",
]);

function queryLine(line: string): ViewLine {
  const spans: Span[] = [];
  for (
    const m of line.matchAll(
      /(#.*$)|("(?:[^"\\]|\\.)*")|(\$\w+)|(\b[A-Za-z_]\w*\b)|(-?\d+(?:\.\d+)?)|(\s+)|([^\s\w"$#]+)/g,
    )
  ) {
    const kind = m[1] !== undefined
      ? "comment"
      : m[2] !== undefined
      ? "string"
      : m[3] !== undefined
      ? "attr"
      : m[4] !== undefined && KEYWORDS.has(m[4])
      ? "keyword"
      : m[5] !== undefined
      ? "number"
      : m[7] !== undefined
      ? "punct"
      : undefined;
    spans.push(kind ? { text: m[0], kind } : { text: m[0] });
  }
  return spans;
}

/** `raw` is the operation's own JSON text, so that variables are shown as sent. */
function operationLines(op: unknown, raw: string, n: number | null): ViewLine[] {
  if (
    typeof op !== "object" || op === null || typeof (op as { query?: unknown }).query !== "string"
  ) {
    throw new NotThisFormat("no GraphQL query in the body");
  }
  const { query, variables, operationName } = op as {
    query: string;
    variables?: unknown;
    operationName?: unknown;
  };
  const lines: ViewLine[] = [];
  const name = typeof operationName === "string" ? operationName : "(anonymous)";
  lines.push([{ text: `${n === null ? "" : `#${n + 1} `}operation ${name}`, kind: "meta" }]);
  for (const l of query.split(/\r?\n/)) lines.push(queryLine(l));
  const rawVariables = rawMembers(raw)?.get("variables");
  if (variables !== undefined && variables !== null && rawVariables !== undefined) {
    lines.push([], [{ text: "variables", kind: "meta" }]);
    lines.push(...jsonView(rawVariables));
  }
  return lines;
}

export function graphqlView(text: string): ViewLine[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new NotThisFormat("not a JSON GraphQL request");
  }
  if (Array.isArray(body)) {
    const raws = rawMembers(text)!;
    return body.flatMap((op, i) => [...operationLines(op, raws.get(String(i))!, i), []]);
  }
  return operationLines(body, text, null);
}

/** Whether a JSON request body looks like a GraphQL request (for the auto view). */
export function looksLikeGraphql(text: string): boolean {
  return /^\s*[[{][\s\S]*"query"\s*:\s*"\s*(?:query|mutation|subscription|fragment|\{)/.test(text);
}
