/** The rewrite options (mitmproxy's names and syntax), merged into the option registry. */
import type { Spec } from "../../option_spec.ts";

/** Types each entry like the registry does (from src/option_spec.ts: no import cycle). */
function opt<T>(spec: Spec<T>): Spec<T> {
  return spec;
}
import {
  parseBlockList,
  parseMapLocal,
  parseMapRemote,
  parseModifyBody,
  parseModifyHeaders,
  specProblem,
} from "./rewrite_spec.ts";

export const REWRITE_OPTION_SPECS = {
  map_local: opt({
    type: "strings",
    default: [] as string[],
    help: "Answer matching requests from a local file or directory: |filter|url-regex|path " +
      "(repeatable).",
    check: specProblem(parseMapLocal),
  }),
  map_remote: opt({
    type: "strings",
    default: [] as string[],
    help: "Send matching requests elsewhere: |filter|url-regex|replacement (repeatable).",
    check: specProblem(parseMapRemote),
  }),
  modify_headers: opt({
    type: "strings",
    default: [] as string[],
    help: "Set a header on matching requests and responses: /filter/name/value; an empty value " +
      "deletes it, @file reads the value from a file (repeatable).",
    check: specProblem(parseModifyHeaders),
  }),
  modify_body: opt({
    type: "strings",
    default: [] as string[],
    help: "Replace a regex in matching bodies: /filter/regex/replacement; @file reads the " +
      "replacement from a file (repeatable).",
    check: specProblem(parseModifyBody),
  }),
  block_list: opt({
    type: "strings",
    default: [] as string[],
    help: "Answer matching requests with a status instead of forwarding them: /filter/status; " +
      "444 closes the connection without an answer (repeatable).",
    check: specProblem(parseBlockList),
  }),
  anticache: opt({
    type: "bool",
    default: false,
    help: "Remove If-None-Match and If-Modified-Since from requests, so origins answer in full.",
  }),
  anticomp: opt({
    type: "bool",
    default: false,
    help: "Ask origins for uncompressed responses (Accept-Encoding: identity).",
  }),
};
