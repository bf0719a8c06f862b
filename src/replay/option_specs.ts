/** The server and client replay options (mitmproxy's names), merged into the option registry. */
import type { Spec } from "../option_spec.ts";

/** Types each entry like the registry does (from src/option_spec.ts: no import cycle). */
function opt<T>(spec: Spec<T>): Spec<T> {
  return spec;
}

function oneOf(choices: readonly string[]): (text: string) => string | null {
  return (text) =>
    choices.includes(text) ? null : `is not one of ${choices.join(", ")} (e.g. ${choices[0]})`;
}

export const REPLAY_OPTION_SPECS = {
  server_replay: opt({
    type: "strings",
    default: [] as string[],
    help: "Answer requests from the flows in these recordings (JSON lines or HAR) instead of " +
      "the origins (-S, repeatable).",
  }),
  server_replay_extra: opt({
    type: "string",
    default: "forward",
    help: "What server replay does with a request it has no recording for: forward (to the " +
      "origin), 404, or kill (drop the connection).",
    check: oneOf(["forward", "404", "kill"]),
  }),
  server_replay_reuse: opt({
    type: "bool",
    default: false,
    help: "Answer every matching request with the same recorded flow, instead of using each " +
      "recorded flow once, in order.",
  }),
  server_replay_ignore_host: opt({
    type: "bool",
    default: false,
    help: "Server replay: match requests whatever their host.",
  }),
  server_replay_ignore_port: opt({
    type: "bool",
    default: false,
    help: "Server replay: match requests whatever their port.",
  }),
  server_replay_ignore_content: opt({
    type: "bool",
    default: false,
    help: "Server replay: match requests whatever their body.",
  }),
  server_replay_ignore_params: opt({
    type: "strings",
    default: [] as string[],
    help: "Server replay: query parameters left out of the match (repeatable).",
  }),
  server_replay_ignore_payload_params: opt({
    type: "strings",
    default: [] as string[],
    help: "Server replay: form (urlencoded) or JSON body fields left out of the match " +
      "(repeatable).",
  }),
  server_replay_use_headers: opt({
    type: "strings",
    default: [] as string[],
    help: "Server replay: request headers that must match too (repeatable).",
  }),
  client_replay: opt({
    type: "strings",
    default: [] as string[],
    help: "Send the requests in these recordings again through the proxy once it runs (-C, " +
      "repeatable).",
  }),
  client_replay_concurrency: opt({
    type: "int",
    default: 1,
    min: 1,
    max: 1000,
    help: "Client replay: requests in flight at once.",
  }),
  connection_strategy: opt({
    type: "string",
    default: "eager",
    help: "eager: connect to the origin when a client sends CONNECT (an unreachable one is a " +
      "502); lazy: only when a request needs it. Server replay always connects lazily.",
    check: oneOf(["eager", "lazy"]),
  }),
};
