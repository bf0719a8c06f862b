/**
 * `mitm replay FILE...`: start a proxy on a free loopback port (with every option given, so
 * rewrites, recording and server replay apply), send the recorded requests through it, print one
 * line per result, and exit with 1 if any got no response. Also -C/--client-replay in a running
 * proxy, which logs each result.
 */
import process from "node:process";
import { formatFlow } from "../addons/builtin/dumper.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
import { clientReplay, type ClientReplayResult } from "../replay/client_replay.ts";
import { hasReplayableRequest, type LoadedFlows, loadFlows } from "../replay/load.ts";
import { type ProxyServer, startProxy } from "../proxy/server.ts";

/** The flows of the client replay files; throws OptionError when a file cannot be read. */
export function loadClientReplay(files: readonly string[]): LoadedFlows {
  return loadFlows("client_replay", files, hasReplayableRequest);
}

/** How one result reads: the flow's usual line, or the request and why it was not sent. */
export function resultLine(result: ClientReplayResult, color: boolean): string {
  if (result.flow !== null) return formatFlow(result.flow, 1, color);
  const { method, url } = result.original.request;
  return `${method} ${url}: error: ${result.error}\n`;
}

function skippedNote(loaded: LoadedFlows): string {
  const parts = [
    loaded.unusable > 0 ? `${loaded.unusable} flows without a kept request body left out` : "",
    loaded.invalid > 0 ? `${loaded.invalid} unreadable lines skipped` : "",
  ].filter(Boolean);
  return parts.join(", ");
}

/** Runs `mitm replay`; resolves with the exit status. */
export async function replayCommand(
  files: readonly string[],
  options: Options,
  log: Logger,
  color: boolean,
): Promise<number> {
  const loaded = loadClientReplay(files);
  const note = skippedNote(loaded);
  if (note) log.warn(`mitm replay: ${note}`);
  const proxy = await startProxy(
    { ...options, listen_host: "127.0.0.1", listen_port: 0, client_replay: [] },
    { log },
  );
  let failed = 0;
  try {
    await clientReplay(proxy, loaded.flows, {
      concurrency: options.client_replay_concurrency,
      onResult: (result) => {
        if (result.error !== null) failed++;
        process.stdout.write(resultLine(result, color));
      },
    });
  } finally {
    await proxy.close();
  }
  if (failed > 0) log.error(`mitm replay: ${failed} of ${loaded.flows.length} requests failed`);
  return failed > 0 ? 1 : 0;
}

/** -C in a running proxy: replays in the background and logs how it went. */
export function replayInBackground(
  proxy: ProxyServer,
  loaded: LoadedFlows,
  concurrency: number,
  log: Logger,
): void {
  const note = skippedNote(loaded);
  log.info(`client replay: sending ${loaded.flows.length} requests${note ? ` (${note})` : ""}`);
  clientReplay(proxy, loaded.flows, {
    concurrency,
    onResult: (r) => {
      if (r.error !== null) {
        log.info(
          `client replay: ${r.original.request.method} ${r.original.request.url}: ${r.error}`,
        );
      }
    },
  }).then((results) => {
    const failed = results.filter((r) => r.error !== null).length;
    log.info(`client replay: done, ${results.length - failed} answered, ${failed} failed`);
  }, (e) => log.error(`client replay stopped: ${(e as Error).message}`));
}
