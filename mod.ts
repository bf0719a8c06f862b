/**
 * mitm.ts as a library, and the types addon scripts use:
 *
 * ```ts
 * import type { Addon } from "./mod.ts";
 * export default { request(flow) { flow.request.headers.set("X-Seen", "1"); } } satisfies Addon;
 * ```
 *
 * ```ts
 * import { startProxy } from "./mod.ts";
 * const proxy = await startProxy({ listen_port: 0 });
 * // ... send traffic through proxy.url ...
 * await proxy.close();
 * ```
 */
export { type ProxyDeps, type ProxyServer, startProxy } from "./src/proxy/server.ts";
export { startWeb, type WebOptions, type WebServer } from "./src/api/web.ts";
export {
  defaultOptions,
  OPTION_SPECS,
  OptionError,
  type OptionName,
  type Options,
} from "./src/options.ts";
export { createLogger, type Logger, type LogLevel, type LogSink } from "./src/log.ts";
export { HeaderList } from "./src/http/headers.ts";
export {
  type Addon,
  type AddonContext,
  AddonManager,
  type ClientInfo,
  type HookName,
  ScriptLoader,
  type ServerInfo,
  type TlsClientHelloData,
} from "./src/addons/mod.ts";
export {
  Flow,
  type FlowError,
  FlowRequest,
  FlowResponse,
  type Peer,
  type ServerPeer,
  type TlsInfo,
} from "./src/flow/flow.ts";
export { decodeContent, encodeContent } from "./src/flow/encoding.ts";
export {
  type InjectedMessage,
  WebSocketData,
  WebSocketMessage,
  type WebSocketMessageType,
} from "./src/flow/websocket.ts";
export type { RequestHead, ResponseHead } from "./src/http1/head.ts";
export { VERSION } from "./src/version.ts";
