/** Starting the proxy from the command line, with the one-line errors a user can act on. */
import { ScriptError } from "../addons/scripts.ts";
import type { Addon } from "../addons/types.ts";
import { formatAuthority } from "../http1/mod.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
import { ListenError, type ProxyServer, startProxy } from "../proxy/server.ts";
import { NetError } from "../runtime/mod.ts";

/** The started proxy, or the exit status after the reason was printed. */
export async function startCliProxy(
  options: Options,
  scripts: string[],
  addons: Addon[],
  log: Logger,
): Promise<ProxyServer | number> {
  try {
    return await startProxy(options, { log, scripts, addons });
  } catch (e) {
    if (e instanceof ScriptError) {
      console.error(`mitm: ${e.message.replace(/\s+/g, " ")}`);
      return 1;
    }
    if (!(e instanceof NetError)) throw e;
    const where = e instanceof ListenError
      ? formatAuthority(e.address.host, e.address.port)
      : `${options.listen_host}:${options.listen_port}`;
    const hint = e.code === "address-in-use"
      ? " Stop the program using it or choose another port with -p (or --mode MODE@PORT)."
      : "";
    console.error(`mitm: cannot listen on ${where}: ${e.message}.${hint}`);
    return 1;
  }
}
