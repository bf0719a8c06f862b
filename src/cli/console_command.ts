/**
 * `mitm console`: the proxy with the terminal UI in front instead of the mitmdump-style output.
 * The proxy's log goes to the console's event log (E), since printing would tear the screen.
 */
import process from "node:process";
import { Control } from "../api/control.ts";
import { ConsoleApp } from "../console/app.ts";
import type { Filter } from "../filter/mod.ts";
import { createLogger, type LogLevel } from "../log.ts";
import type { Options } from "../options.ts";
import { onShutdownSignal } from "../runtime/mod.ts";
import type { Flags } from "./program.ts";
import { startProxyAndWeb } from "./proxy_start.ts";
import { checkRecordFile } from "./startup_checks.ts";
import { loadProtobufDefinitions } from "./proto_definitions.ts";

export async function runConsole(
  options: Options,
  flags: Flags,
  viewFilter: Filter | null,
  webPortChosen: boolean,
): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    console.error(
      "mitm: the console needs a terminal on standard input and output; " +
        "run plain `mitm` for line output instead.",
    );
    return 2; // a usage error, as elsewhere on the command line
  }
  if (options.record) checkRecordFile(options.record, 2);
  const early: string[] = [];
  let app: ConsoleApp | null = null;
  const level: LogLevel = flags.verbose ? "debug" : "info";
  const log = createLogger(level, (_level, message) => {
    if (app) app.log(message);
    else early.push(message);
  });
  loadProtobufDefinitions(options, (line) => log.warn(line));
  const started = await startProxyAndWeb(options, flags, [], log, webPortChosen);
  if (typeof started === "number") return started;
  const { proxy, web } = started;
  const control = web?.control ?? await Control.attach(proxy);
  for (const l of proxy.listeners) early.push(`${l.mode.kind} proxy listening at ${l.url}`);
  early.push(`HTTPS: clients must trust ${proxy.ca.files.certPemFile}`);
  if (web) early.push(`Web UI: ${web.uiUrl}`);

  app = new ConsoleApp({
    control,
    title: `proxy at ${proxy.url}`,
    color: !process.env.NO_COLOR,
    events: [],
  });
  for (const line of early) app.log(line);
  if (viewFilter) app.setFilter(viewFilter.source);
  // Whatever happens, the terminal is given back: a crash prints below a usable shell.
  const restore = () => app?.stop();
  process.once("exit", restore);
  const stopSignals = onShutdownSignal(() => app?.stop());
  app.start();
  await app.finished;
  stopSignals();
  process.off("exit", restore);
  if (web) await web.close();
  else await control.close();
  await proxy.close();
  return 0;
}
