/** Starting the web UI from the command line: token, address, and what to say when it fails. */
import process from "node:process";
import { startWeb, type WebServer } from "../api/web.ts";
import type { Logger } from "../log.ts";
import type { Options } from "../options.ts";
import type { ProxyServer } from "../proxy/server.ts";
import { NetError } from "../runtime/mod.ts";

/** Thrown for a problem the user must fix; main prints it and exits with 1. */
export class WebStartError extends Error {}

/**
 * Starts the web UI unless --no-web. A default port already in use is a warning (the proxy runs
 * without the UI); a port the user chose is an error.
 */
export async function startWebUi(
  proxy: ProxyServer,
  options: Options,
  token: string | undefined,
  portChosen: boolean,
  log: Logger,
): Promise<WebServer | null> {
  if (!options.web) return null;
  const given = token ?? process.env.MITM_API_TOKEN;
  if (given !== undefined && !/^[\x21-\x7e]{8,}$/.test(given)) {
    throw new WebStartError(
      "the API token must be at least 8 printable characters without spaces; " +
        "fix --api-token or MITM_API_TOKEN",
    );
  }
  const where = `${options.web_host}:${options.web_port}`;
  try {
    return await startWeb(proxy, {
      host: options.web_host,
      port: options.web_port,
      token: given || undefined,
    });
  } catch (e) {
    if (!(e instanceof NetError)) throw e;
    if (!portChosen && e.code === "address-in-use") {
      log.warn(
        `warning: cannot serve the web UI on ${where}: ${e.message}; running without it ` +
          `(choose another port with --web-port)`,
      );
      return null;
    }
    const instead = e.code === "address-not-available"
      ? "Choose an address of this machine with --web-host"
      : "Choose another port with --web-port";
    throw new WebStartError(
      `cannot serve the web UI on ${where}: ${e.message}. ${instead}, or --no-web`,
    );
  }
}
