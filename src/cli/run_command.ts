/**
 * `mitm run [proxy options] -- COMMAND [ARGS]`: the proxy on a free loopback port for the life of
 * one command, which runs with an environment that sends its HTTP(S) through the proxy and trusts
 * the CA (src/run/env.ts). Flows print to standard error, so the command's standard output stays
 * its own; the exit status is the command's.
 */
import process from "node:process";
import { dumper } from "../addons/builtin/dumper.ts";
import type { Filter } from "../filter/mod.ts";
import { createLogger, type Logger, type LogLevel } from "../log.ts";
import type { Options } from "../options.ts";
import type { ProxyServer } from "../proxy/server.ts";
import { CommandStartError, runChild } from "../run/child.ts";
import { runEnvironment } from "../run/env.ts";
import { type PreparedRunFiles, prepareRunFiles } from "../run/run_files.ts";
import type { Flags } from "./program.ts";
import { startProxyOrExplain } from "./proxy_start.ts";
import { loadClientReplay, replayInBackground } from "./replay_command.ts";
import { startWebUi, WebStartError } from "./web_start.ts";

/** Everything to standard error: standard output belongs to the command. */
const stderrSink = (_level: LogLevel, message: string) => console.error(message);

/**
 * `options` as `mitm run` uses them: a free port on loopback unless one was asked for, and no web
 * UI unless a web port was (a fixed default port would clash between runs in parallel).
 */
export function runOptions(options: Options, flags: Flags): Options {
  const given = (name: string) => (flags.set ?? []).some((s) => s.startsWith(`${name}=`));
  return {
    ...options,
    listen_port: flags.listenPort !== undefined || given("listen_port") ? options.listen_port : 0,
    web: flags.webPort !== undefined || given("web_port") ? options.web : false,
  };
}

/** Colour for flows on standard error only when it is a terminal (https://no-color.org). */
export function stderrColor(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
}

export interface ThroughProxy {
  proxy: ProxyServer;
  prepared: PreparedRunFiles;
  env: Record<string, string>;
  log: Logger;
}

/**
 * Starts the proxy and writes the run files, calls `body`, then stops both whatever happens.
 * Resolves with body's status, or 1 when the proxy could not start (the reason printed).
 */
export async function withProxy(
  options: Options,
  flags: Flags,
  viewFilter: Filter | null,
  color: boolean,
  body: (ctx: ThroughProxy) => Promise<number>,
): Promise<number> {
  const level: LogLevel = flags.quiet ? "error" : flags.verbose ? "debug" : "info";
  const log = createLogger(level, stderrSink);
  const output = flags.quiet ? [] : [
    dumper({
      detail: options.flow_detail,
      filter: viewFilter,
      color,
      write: (text) => process.stderr.write(text),
    }),
  ];
  const replaying = options.client_replay.length > 0
    ? loadClientReplay(options.client_replay)
    : null;
  const started = await startProxyOrExplain(options, flags.scripts ?? [], output, log);
  if (typeof started === "number") return started;
  const proxy = started;
  if (!proxy.listeners.some((l) => l.mode.kind === "regular" || l.mode.kind === "upstream")) {
    // Programs are pointed at the proxy with HTTP_PROXY: a mode they can use that way is needed.
    await proxy.close();
    console.error(
      `mitm: this command needs a regular or upstream mode (--mode regular, or ` +
        `--mode upstream:URL) for programs to use through HTTP_PROXY. Run "mitm --help" for usage.`,
    );
    return 2;
  }
  let web = null;
  let prepared: PreparedRunFiles | null = null;
  try {
    web = await startWebUi(proxy, options, flags.apiToken, true, log);
    const caPem = proxy.ca.authority.certPem;
    prepared = await prepareRunFiles(options.confdir, proxy.ca.files.certPemFile, caPem);
    const env = runEnvironment(process.env, proxy.url, prepared.files);
    log.info(
      `mitm: proxy at ${proxy.url}` +
        (options.record ? `, recording to ${options.record}` : "") +
        (web ? `, web UI at ${web.uiUrl}` : ""),
    );
    if (replaying !== null) {
      replayInBackground(proxy, replaying, options.client_replay_concurrency, log);
    }
    return await body({ proxy, prepared, env, log });
  } catch (e) {
    if (e instanceof WebStartError) {
      console.error(`mitm: ${e.message}.`);
      return 1;
    }
    if (e instanceof CommandStartError) {
      console.error(`mitm: ${e.message}.`);
      return e.status;
    }
    throw e;
  } finally {
    prepared?.remove();
    await web?.close();
    await proxy.close();
  }
}

/** Runs `argv` through the proxy; resolves with the status to exit with. */
export function runCommand(
  options: Options,
  flags: Flags,
  argv: string[],
  viewFilter: Filter | null,
): Promise<number> {
  return withProxy(
    runOptions(options, flags),
    flags,
    viewFilter,
    stderrColor(),
    ({ env }) => runChild(argv, env),
  );
}
