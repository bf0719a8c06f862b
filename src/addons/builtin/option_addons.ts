/**
 * The rewrite and replay addons that options switch on, in mitmproxy's order: block list,
 * anticache, anticomp, map remote, map local, modify body, modify headers, then server replay (so
 * replay matches the rewritten request). Each is added only when its option is set, since a
 * `request`/`response` hook makes the proxy hold bodies.
 */
import type { Options } from "../../options.ts";
import type { Addon } from "../types.ts";
import { anticache } from "./anticache.ts";
import { anticomp } from "./anticomp.ts";
import { blockList } from "./block_list.ts";
import { mapLocal } from "./map_local.ts";
import { mapRemote } from "./map_remote.ts";
import { modifyBody } from "./modify_body.ts";
import { modifyHeaders } from "./modify_headers.ts";
import {
  parseBlockList,
  parseMapLocal,
  parseMapRemote,
  parseModifyBody,
  parseModifyHeaders,
} from "./rewrite_spec.ts";
import { serverReplay } from "./server_replay.ts";

export function rewriteAndReplayAddons(options: Options): Addon[] {
  const out: Addon[] = [];
  if (options.block_list.length) out.push(blockList(options.block_list.map(parseBlockList)));
  if (options.anticache) out.push(anticache());
  if (options.anticomp) out.push(anticomp());
  if (options.map_remote.length) out.push(mapRemote(options.map_remote.map(parseMapRemote)));
  if (options.map_local.length) out.push(mapLocal(options.map_local.map(parseMapLocal)));
  if (options.modify_body.length) out.push(modifyBody(options.modify_body.map(parseModifyBody)));
  if (options.modify_headers.length) {
    out.push(modifyHeaders(options.modify_headers.map(parseModifyHeaders)));
  }
  if (options.server_replay.length) out.push(serverReplay(options));
  return out;
}
