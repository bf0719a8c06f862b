/** Starting the proxy from the command line, with one line for each way it can fail. */
import { ScriptError } from "../addons/scripts.ts";
import type { Addon } from "../addons/types.ts";
import { formatAuthority } from "../http1/mod.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
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
