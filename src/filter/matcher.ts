/**
 * Turns a {@link FilterNode} into a predicate over flows. Regexes are compiled once, here; bodies
 * are decoded at most once per message per call.
 */
import { latin1 } from "../http1/bytes.ts";
import { tokens } from "../http/headers.ts";
import type { Flow, FlowRequest, FlowResponse } from "../flow/flow.ts";
import type { FilterNode, FlagFilterName, RegexFilterName } from "./ast.ts";
import { regexFlags } from "./ast.ts";

type Message = FlowRequest | FlowResponse;

/** What one evaluation of a filter against one flow knows, so that bodies are decoded once. */
class MatchContext {
  readonly flow: Flow;
  #requestText: string | null | undefined;
  #responseText: string | null | undefined;

  constructor(flow: Flow) {
    this.flow = flow;
  }

  requestText(): string | null {
    if (this.#requestText === undefined) this.#requestText = bodyText(this.flow.request);
    return this.#requestText;
  }

  responseText(): string | null {
    const response = this.flow.response;
    if (response === null) return null;
    if (this.#responseText === undefined) this.#responseText = bodyText(response);
    return this.#responseText;
  }
}

type Test = (ctx: MatchContext) => boolean;

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * A body as text: Content-Encoding undone (the raw bytes when that fails), then UTF-8, or
 * Latin-1 when it is not valid UTF-8. Null when the body was not kept.
 */
function bodyText(message: Message): string | null {
  const raw = message.body;
  if (raw === null) return null;
  let bytes: Uint8Array = raw;
  try {
    bytes = message.decodedBody() ?? raw;
  } catch {
    // Unknown or corrupt encoding: match what was on the wire.
  }
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

/** "Name: value" lines of a header list. */
function headerLines(message: Message): string[] {
  const raw = message.headers.raw;
  const lines: string[] = [];
  for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  return lines;
}

/** True when `re` matches one "Name: value" line, or the whole block (CRLF after each line). */
function headersMatch(re: RegExp, message: Message | null): boolean {
  if (message === null) return false;
  const lines = headerLines(message);
  if (lines.some((l) => re.test(l))) return true;
  return re.test(lines.map((l) => l + "\r\n").join(""));
}

function contentTypeMatches(re: RegExp, message: Message | null): boolean {
  return message !== null && message.headers.getAll("content-type").some((v) => re.test(v));
}

/** Response Content-Types that make a flow an asset (~a), as in mitmproxy. */
export const ASSET_TYPES = [
  /text\/javascript/i,
  /application\/x-javascript/i,
  /application\/javascript/i,
  /text\/css/i,
  /image\/.*/i,
  /font\/.*/i,
  /application\/font.*/i,
];

function flagTest(name: FlagFilterName): Test {
  switch (name) {
    case "all":
    case "http":
      return () => true;
    case "a":
      return ({ flow }) => ASSET_TYPES.some((re) => contentTypeMatches(re, flow.response));
    case "e":
      return ({ flow }) => flow.error !== null && flow.error !== undefined;
    case "q":
      return ({ flow }) => flow.response === null;
    case "s":
      return ({ flow }) => flow.response !== null;
    case "marked":
      return ({ flow }) => flow.marked === true;
    case "websocket":
      return ({ flow }) => {
        if (flow.metadata.websocket) return true;
        const r = flow.response;
        return r !== null && r.status === 101 &&
          tokens(r.headers.get("upgrade")).includes("websocket");
      };
  }
}

function regexTest(name: RegexFilterName, re: RegExp): Test {
  const body = (text: string | null) => text !== null && re.test(text);
  switch (name) {
    case "b":
      return (ctx) => body(ctx.requestText()) || body(ctx.responseText());
    case "bq":
      return (ctx) => body(ctx.requestText());
    case "bs":
      return (ctx) => body(ctx.responseText());
    case "comment":
      return ({ flow }) => re.test(flow.comment ?? "");
    case "d":
      return ({ flow }) => re.test(flow.request.host);
    case "dst":
      return ({ flow }) => {
        const s = flow.server;
        return re.test(s ? `${s.address}:${s.port}` : `${flow.request.host}:${flow.request.port}`);
      };
    case "h":
      return ({ flow }) => headersMatch(re, flow.request) || headersMatch(re, flow.response);
    case "hq":
      return ({ flow }) => headersMatch(re, flow.request);
    case "hs":
      return ({ flow }) => headersMatch(re, flow.response);
    case "m":
      return ({ flow }) => re.test(flow.request.method);
    case "src":
      return ({ flow }) => re.test(`${flow.client.address}:${flow.client.port}`);
    case "t":
      return ({ flow }) =>
        contentTypeMatches(re, flow.request) || contentTypeMatches(re, flow.response);
    case "tq":
      return ({ flow }) => contentTypeMatches(re, flow.request);
    case "ts":
      return ({ flow }) => contentTypeMatches(re, flow.response);
    case "u":
      return ({ flow }) => re.test(flow.request.url);
  }
}

function compile(node: FilterNode): Test {
  switch (node.type) {
    case "and": {
      const parts = node.children.map(compile);
      return (ctx) => parts.every((p) => p(ctx));
    }
    case "or": {
      const parts = node.children.map(compile);
      return (ctx) => parts.some((p) => p(ctx));
    }
    case "not": {
      const inner = compile(node.child);
      return (ctx) => !inner(ctx);
    }
    case "flag":
      return flagTest(node.name);
    case "regex":
      return regexTest(node.name, new RegExp(node.pattern, regexFlags(node.name)));
    case "code": {
      const code = node.code;
      return ({ flow }) => flow.response !== null && flow.response.status === code;
    }
  }
}

/**
 * A predicate for a tree. Throws the RegExp constructor's SyntaxError when a hand-built tree has
 * a bad regex (trees from the parser never do).
 */
export function compileMatcher(node: FilterNode): (flow: Flow) => boolean {
  const test = compile(node);
  return (flow) => test(new MatchContext(flow));
}
