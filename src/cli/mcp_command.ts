/**
 * `mitm mcp`: the MCP tools on stdin/stdout, for agents that launch their server. With
 * `--api URL` it attaches to a running proxy through its control API (token from --api-token or
 * MITM_API_TOKEN); without, it starts its own proxy with the usual options and serves the tools
 * from it in-process. Standard output carries protocol messages only: logs go to stderr.
 */
import process from "node:process";
// @ts-types="@modelcontextprotocol/sdk/server/stdio"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createApi } from "../api/app.ts";
import { Control } from "../api/control.ts";
import { newToken } from "../api/security.ts";
import type { WebServer } from "../api/web.ts";
import { createLogger, type Logger, type LogLevel, type LogSink } from "../log.ts";
import { type ControlApi, httpControlApi, inProcessControlApi } from "../mcp/control_api.ts";
import { createMcpServer } from "../mcp/server.ts";
import { explain } from "../mcp/tools.ts";
import type { Options } from "../options.ts";
import { onShutdownSignal, runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import type { Flags } from "./program.ts";
import { startWebUi, WebStartError } from "./web_start.ts";
import { startProxyOrExplain } from "./proxy_start.ts";

const stderrSink: LogSink = (_level, message) => console.error(message);

/** Runs `mitm mcp`; resolves with the exit status once stdin ends or a signal comes. */
export async function mcpCommand(
  options: Options,
  flags: Flags,
  apiUrl: string | undefined,
  webPortChosen: boolean,
): Promise<number> {
  keepStdoutForProtocol();
  const level: LogLevel = flags.quiet ? "error" : flags.verbose ? "debug" : "info";
  const log = createLogger(level, stderrSink);
  const backend = apiUrl === undefined
    ? await ownProxy(options, flags, webPortChosen, log)
    : await attach(apiUrl, flags.apiToken, log);
  if (typeof backend === "number") return backend;

  const server = createMcpServer(backend.api, { log });
  const exitCode = new Promise<number>((resolve) => {
    let closing = false;
    const close = async (why: string, code: number) => {
      if (closing) return;
      closing = true;
      log.debug(`mitm mcp: ${why}, shutting down`);
      await server.close().catch(() => {});
      await backend.close();
      resolve(code);
    };
    onShutdownSignal((signal, count) => {
      if (count > 1) return resolve(130); // a second signal while closing: exit at once
      close(signal, 0);
    });
    // The client ends the session by closing our stdin (MCP stdio transport).
    process.stdin.on("end", () => close("standard input closed", 0));
    server.server.onclose = () => close("the session closed", 0);
  });
  await server.connect(new StdioServerTransport());
  return await exitCode;
}

interface Backend {
  api: ControlApi;
  close(): Promise<void>;
}

/**
 * Anything printed with console.log (addon scripts, for one) would break the protocol on stdout;
 * it goes to stderr instead.
 */
function keepStdoutForProtocol(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

async function attach(
  url: string,
  tokenFlag: string | undefined,
  log: Logger,
): Promise<Backend | number> {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch { /* said below */ }
  if (parsed === null || !/^https?:$/.test(parsed.protocol)) {
    console.error(
      `mitm mcp: --api expects the proxy's web UI address, like http://127.0.0.1:8081, ` +
        `got "${url}".`,
    );
    return 2;
  }
  const token = tokenFlag ?? process.env.MITM_API_TOKEN;
  if (!token) {
    console.error(
      "mitm mcp: --api needs the proxy's API token: set MITM_API_TOKEN or pass --api-token.",
    );
    return 2;
  }
  const base = parsed.origin;
  const api = httpControlApi(base, token);
  try {
    await api.status();
  } catch (e) {
    console.error(`mitm mcp: ${explain(e)}`);
    return 1;
  }
  log.info(`mitm.ts ${VERSION} MCP server on stdio, attached to the proxy at ${base}`);
  return { api, close: async () => {} };
}

async function ownProxy(
  options: Options,
  flags: Flags,
  webPortChosen: boolean,
  log: Logger,
): Promise<Backend | number> {
  const proxy = await startProxyOrExplain(options, flags.scripts ?? [], [], log, {
    prefix: "mitm mcp",
    listenHint: " Choose another port with -p, or attach to a running proxy with --api.",
  });
  if (typeof proxy === "number") return proxy;
  let web: WebServer | null;
  try {
    web = await startWebUi(proxy, options, flags.apiToken, webPortChosen, log);
  } catch (e) {
    await proxy.close();
    if (!(e instanceof WebStartError)) throw e;
    console.error(`mitm mcp: ${e.message}.`);
    return 1;
  }
  let api: ControlApi;
  let control: Control | null = null;
  if (web !== null) {
    const app = web.app;
    api = inProcessControlApi((request) => app.fetch(request), web.token);
  } else {
    // No web UI: the same API, reachable only from here.
    control = await Control.attach(proxy);
    const token = newToken();
    const app = createApi(control, { token, port: 0, hosts: [] });
    api = inProcessControlApi((request) => app.fetch(request), token);
  }
  const given = Boolean(flags.apiToken ?? process.env.MITM_API_TOKEN);
  log.info(
    [
      `mitm.ts ${VERSION} (${runtime.name} ${runtime.version}) MCP server on stdio; ` +
      `proxy listening at ${proxy.url}`,
      `HTTPS:   clients must trust ${proxy.ca.files.certPemFile}`,
      // The token is not printed: stderr of an MCP server usually ends up in an agent's logs.
      ...(web
        ? [
          `Web UI:  ${web.url} (${
            given
              ? "log in with ?token= and your --api-token / MITM_API_TOKEN"
              : "its token is random and not shown; set MITM_API_TOKEN to use it"
          })`,
        ]
        : []),
    ].join("\n"),
  );
  return {
    api,
    async close() {
      await (web ?? control)?.close(); // first: it releases paused flows
      await proxy.close();
    },
  };
}
