/** Starting the proxy from the command line, with one line for each way it can fail. */
import { ScriptError } from "../addons/scripts.ts";
import type { Addon } from "../addons/types.ts";
import { formatAuthority } from "../http1/mod.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
import type { WebServer } from "../api/web.ts";
import type { FlowStore } from "../api/store.ts";
import type { EventLog } from "../api/event_log.ts";
import { StoreFileError } from "../store/open_file.ts";
import type { Flags } from "./program.ts";
import { startWebUi, WebStartError } from "./web_start.ts";
import { ListenError, type ProxyServer, startProxy } from "../proxy/server.ts";
import { NetError } from "../runtime/mod.ts";

/** How a subcommand words its failures: its name, and what to suggest when it cannot listen. */
export interface Explain {
  prefix?: string;
  listenHint?: string;
}

/** The running proxy, or the exit status after a one-line message on standard error. */
export async function startProxyOrExplain(
  options: Options,
  scripts: string[],
  addons: Addon[],
  log: Logger,
  explain: Explain = {},
): Promise<ProxyServer | number> {
  const prefix = explain.prefix ?? "mitm";
  try {
    return await startProxy(options, { log, scripts, addons });
  } catch (e) {
    if (e instanceof ScriptError) {
      console.error(`${prefix}: ${e.message.replace(/\s+/g, " ")}`);
      return 2; // the user's script: a usage error, like a bad flag
    }
    if (!(e instanceof NetError)) throw e;
    const where = e instanceof ListenError
      ? formatAuthority(e.address.host, e.address.port)
      : `${options.listen_host}:${options.listen_port}`;
    const hint = explain.listenHint ??
      (e.code === "address-in-use"
        ? " Stop the program using it or choose another port with -p (or --mode MODE@PORT)."
        : e.code === "address-not-available"
        ? " Choose an address of this machine with --listen-host (127.0.0.1, or 0.0.0.0 for all)."
        : "");
    console.error(`${prefix}: cannot listen on ${where}: ${e.message}.${hint}`);
    return 1;
  }
}

/** The proxy and, unless --no-web, its web UI and API. */
export interface Started {
  proxy: ProxyServer;
  web: WebServer | null;
}

/** Starts the proxy, then the web UI; or explains in one line why not and gives the exit status. */
export async function startProxyAndWeb(
  options: Options,
  flags: Flags,
  addons: Addon[],
  log: Logger,
  webPortChosen: boolean,
  explain: Explain = {},
  /**
   * For the web UI: an opened flow store (`mitm web FILE`), closed here if anything fails, and the
   * log lines its event log shows.
   */
  given: { store?: FlowStore; eventLog?: EventLog } = {},
): Promise<Started | number> {
  const store = given.store;
  const proxy = await startProxyOrExplain(options, flags.scripts ?? [], addons, log, explain);
  if (typeof proxy === "number") {
    await store?.close();
    return proxy;
  }
  try {
    return {
      proxy,
      web: await startWebUi(
        proxy,
        options,
        flags.apiToken,
        webPortChosen,
        log,
        store,
        given.eventLog,
      ),
    };
  } catch (e) {
    await store?.close();
    await proxy.close();
    if (!(e instanceof WebStartError) && !(e instanceof StoreFileError)) throw e;
    console.error(`${explain.prefix ?? "mitm"}: ${e.message}.`);
    return 1;
  }
}
