/**
 * Copy as curl. Header values and a text body are single-quoted (everything literal); a binary
 * body is written by a POSIX `printf` with octal escapes and piped in with `--data-binary @-`.
 * A text body uses `--data-raw`, for which a leading `@` is not a file name.
 */
import type { FlowRequest } from "../flow/flow.ts";
import { hasHeader, pastableText, requestParts } from "./request_parts.ts";
import { commandLines, printfBytes, shellQuote } from "./shell.ts";

export function toCurl(request: FlowRequest): string {
  const { method, url, headers, body } = requestParts(request);
  const first = ["curl"];
  // -g: [ ] { } in the URL are not curl's URL globbing.
  if (/[[\]{}]/.test(url)) first.push("-g");
  if (method === "HEAD") first.push("-I");
  else if (!(method === "GET" && body === null) && !(method === "POST" && body !== null)) {
    first.push("-X", shellQuote(method));
  }
  first.push(shellQuote(url));
  const rest: string[][] = [];
  for (const [name, value] of headers) {
    // curl sends "Name;" as an empty field; "Name:" would remove it instead.
    rest.push(["-H", shellQuote(value === "" ? `${name};` : `${name}: ${value}`)]);
  }
  if (body === null) return commandLines(first, rest);
  // Without this curl would add Content-Type: application/x-www-form-urlencoded.
  if (!hasHeader(headers, "content-type")) rest.push(["-H", shellQuote("Content-Type:")]);
  const text = pastableText(body);
  if (text !== null) {
    rest.push(["--data-raw", shellQuote(text)]);
    return commandLines(first, rest);
  }
  rest.push(["--data-binary", "@-"]);
  return `${printfBytes(body)} |\n${commandLines(first, rest)}`;
}
