/**
 * --server-replay FILE (-S): requests are answered from recorded flows instead of the origins.
 * The answer is looked up by match key (src/replay/match_key.ts) in a hash index, so it costs the
 * same with 10 or 100,000 recorded flows. Requests with no recording are forwarded, answered 404,
 * or dropped, as server_replay_extra says.
 */
import { Flow, FlowResponse } from "../../flow/flow.ts";
import type { Logger } from "../../log.ts";
import type { Options } from "../../options.ts";
import { hasReplayableResponse, loadFlows } from "../../replay/load.ts";
import type { MatchOptions } from "../../replay/match_key.ts";
import { ReplayIndex } from "../../replay/replay_index.ts";
import type { Addon } from "../types.ts";

/** Fields that describe how the recorded answer was framed on its connection, not the answer. */
const FRAMING_FIELDS = ["transfer-encoding", "content-length", "connection", "keep-alive"];

export function matchOptionsFrom(options: Options): MatchOptions {
  return {
    ignoreHost: options.server_replay_ignore_host,
    ignorePort: options.server_replay_ignore_port,
    ignoreParams: options.server_replay_ignore_params,
    ignorePayloadParams: options.server_replay_ignore_payload_params,
    ignoreContent: options.server_replay_ignore_content,
    useHeaders: options.server_replay_use_headers,
  };
}

/** Loads the recordings now (a file that cannot be read throws OptionError) and returns the addon. */
export function serverReplay(options: Options): Addon {
  const started = performance.now();
  const loaded = loadFlows("server_replay", options.server_replay, hasReplayableResponse);
  const index = new ReplayIndex(matchOptionsFrom(options), options.server_replay_reuse);
  for (const flow of loaded.flows) index.add(flow);
  const ms = Math.round(performance.now() - started);
  const extra = options.server_replay_extra;
  let log: Logger | null = null;

  const answer = (flow: Flow) => {
    if (flow.responded || flow.killed) return;
    const recorded = index.take(flow);
    if (recorded !== null) return respondWith(flow, recorded);
    log?.debug(`server replay: no recorded flow for ${flow.request.method} ${flow.request.url}`);
    if (extra === "404") {
      flow.respond(
        404,
        `mitm.ts server replay: no recorded response for ${flow.request.method} ${flow.request.url}\n`,
        { "Content-Type": "text/plain; charset=utf-8" },
      );
    } else if (extra === "kill") flow.kill();
  };

  const addon: Addon = {
    name: "server_replay",
    load(ctx) {
      log = ctx.log;
      const set = [
        loaded.unusable > 0 ? `${loaded.unusable} without a complete response left out` : "",
        loaded.invalid > 0 ? `${loaded.invalid} unreadable lines skipped` : "",
      ].filter(Boolean);
      ctx.log.info(
        `server replay: ${loaded.flows.length} flows (${index.keys} distinct requests) loaded ` +
          `in ${ms} ms${set.length ? "; " + set.join(", ") : ""}`,
      );
    },
  };
  // Matching on the body needs it whole (the `request` hook); otherwise the head is enough, and
  // request bodies keep streaming.
  if (options.server_replay_ignore_content) addon.requestheaders = answer;
  else addon.request = answer;
  return addon;
}

/** Answers `flow` with a copy of the recorded response (the recording is not changed). */
function respondWith(flow: Flow, recorded: Flow): void {
  const from = recorded.response!;
  const headers = from.headers.clone();
  for (const name of FRAMING_FIELDS) headers.delete(name);
  const now = Date.now();
  const response = new FlowResponse({
    status: from.status,
    reason: from.reason,
    httpVersion: from.httpVersion,
    headers,
    timestampStart: now,
  });
  // Raw bytes as recorded, Content-Encoding included: set directly, not re-encoded by setBody.
  response.body = from.body ?? new Uint8Array(0);
  response.bodySize = response.body.length;
  response.timestampEnd = now;
  flow.response = response;
  flow.responded = true;
  flow.metadata.serverReplay = recorded.id;
}
