/**
 * mitm.ts as a library.
 *
 * ```ts
 * import { startProxy } from "./mod.ts";
 * const proxy = await startProxy({ listen_port: 0 });
 * // ... send traffic through proxy.url ...
 * await proxy.close();
 * ```
 */
export { type ProxyDeps, type ProxyServer, startProxy } from "./src/proxy/server.ts";
export {
  defaultOptions,
  OPTION_SPECS,
  OptionError,
  type OptionName,
  type Options,
} from "./src/options.ts";
export { createLogger, type Logger, type LogLevel, type LogSink } from "./src/log.ts";
export { HeaderList } from "./src/http1/headers.ts";
export type { RequestHead, ResponseHead } from "./src/http1/head.ts";
export { VERSION } from "./src/version.ts";
