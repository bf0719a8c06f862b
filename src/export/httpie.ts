/**
 * Copy as HTTPie (`http`). Items are single-quoted; a text body is given with `--raw`, a binary
 * one is written by a POSIX `printf` and piped in (HTTPie sends its standard input as the body).
 * HTTPie normalises the URL's percent-escapes (`[` becomes %5B, %41 becomes A): same meaning,
 * not always the same bytes.
 */
import type { FlowRequest } from "../flow/flow.ts";
import { pastableText, requestParts } from "./request_parts.ts";
import { commandLines, printfBytes, shellQuote } from "./shell.ts";

export function toHttpie(request: FlowRequest): string {
  const { method, url, headers, body } = requestParts(request);
  const text = body === null ? null : pastableText(body);
  const first = ["http"];
  // Only a piped body is read from standard input (else HTTPie would wait on a terminal's).
  if (body === null || text !== null) first.push("--ignore-stdin");
  first.push(shellQuote(method), shellQuote(url));
  // "Name;" is HTTPie's way of sending a header with an empty value.
  const rest = headers.map(([name, value]) => [
    shellQuote(value === "" ? `${name};` : `${name}:${value}`),
  ]);
  if (body === null) return commandLines(first, rest);
  if (text !== null) {
    rest.push(["--raw", shellQuote(text)]);
    return commandLines(first, rest);
  }
  return `${printfBytes(body)} |\n${commandLines(first, rest)}`;
}
