/**
 * What an addon is: an object whose methods are hook names, as in mitmproxy. Every hook may be
 * async; hooks run in addon order, and a slow one delays only the flow it was called for.
 *
 * ```ts
 * import type { Addon } from "./mod.ts";
 * export default {
 *   request(flow) {
 *     if (flow.request.host === "ads.example") flow.respond(403, "blocked");
 *   },
 * } satisfies Addon;
 * ```
 */
import type { Flow, TlsInfo } from "../flow/flow.ts";
import type { Logger } from "../log.ts";

export interface ClientInfo {
  /** Unique per client connection. */
  id: string;
  address: string;
  port: number;
  timestampStart: number;
}

export interface ServerInfo {
  address: string;
  port: number;
  tls: TlsInfo | null;
  timestampStart: number;
}

export interface TlsClientHelloData {
  client: ClientInfo;
  /** host and port from CONNECT. */
  host: string;
  port: number;
  sni: string | null;
  alpn: string[];
  /** TLS versions offered, e.g. 0x0304 for TLS 1.3. */
  versions: number[];
  /** Set to true to pass this connection through untouched (false to intercept it). */
  ignoreConnection: boolean;
}

/** What `load` receives: the proxy's logger, to report from the addon. */
export interface AddonContext {
  log: Logger;
}

type Hook<A extends unknown[]> = (...args: A) => void | Promise<void>;

export interface Addon {
  /** Shown in logs; defaults to the script file name. */
  name?: string;
  /**
   * Its hooks only look at flows: they change nothing and nobody waits for them (a recorder, a
   * store). A hook only such addons implement runs without an undo snapshot and without holding
   * the flow up, which saves the proxy a round trip per hook and request.
   */
  readOnly?: boolean;
  /** Once, when the addon is loaded (and again after a hot reload). */
  load?: Hook<[AddonContext]>;
  /** Once the proxy is listening. */
  running?: Hook<[]>;
  /** When the proxy shuts down, or before a reloaded addon is replaced. */
  done?: Hook<[]>;
  client_connected?: Hook<[ClientInfo]>;
  client_disconnected?: Hook<[ClientInfo]>;
  server_connected?: Hook<[ServerInfo, Flow]>;
  tls_clienthello?: Hook<[TlsClientHelloData]>;
  /** The request head has arrived; the body has not been read. May respond() or kill(). */
  requestheaders?: Hook<[Flow]>;
  /** The whole request (body up to stream_large_bodies) has arrived; it may be changed. */
  request?: Hook<[Flow]>;
  /** The response head has arrived. Set flow.response.stream = true to skip buffering. */
  responseheaders?: Hook<[Flow]>;
  /** The whole response has arrived and has not been sent yet; it may be changed. */
  response?: Hook<[Flow]>;
  /** The flow failed: flow.error says why. */
  error?: Hook<[Flow]>;
  /**
   * mitm.ts addition: the flow is over (answered or failed) and nothing more will change.
   * For observers (recording, logging): it never delays traffic, and bodies are kept copies.
   */
  flow_done?: Hook<[Flow]>;
  /**
   * A WebSocket handshake succeeded (the 101 was received and is about to be sent to the client):
   * `flow.websocket` is set, with no messages yet.
   */
  websocket_start?: Hook<[Flow]>;
  /**
   * A WebSocket message arrived whole: it is `flow.websocket.messages.at(-1)` (text, binary, ping,
   * pong or close; decompressed when permessage-deflate was on). Change its `content` (or `text`)
   * to send something else, call `drop()` to send nothing, and `flow.websocket.inject(toClient,
   * content)` to send messages of your own. Messages of one direction wait for this hook, in order.
   */
  websocket_message?: Hook<[Flow]>;
  /**
   * The WebSocket connection is over (close handshake, a peer hung up, or a protocol error):
   * `flow.websocket.closeCode`, `closeReason` and `closedByClient` say how. `flow.error` is set when
   * it ended abnormally.
   */
  websocket_end?: Hook<[Flow]>;
}

export type HookName = Exclude<keyof Addon, "name">;

export const HOOK_NAMES: readonly HookName[] = [
  "load",
  "running",
  "done",
  "client_connected",
  "client_disconnected",
  "server_connected",
  "tls_clienthello",
  "requestheaders",
  "request",
  "responseheaders",
  "response",
  "error",
  "flow_done",
  "websocket_start",
  "websocket_message",
  "websocket_end",
];
