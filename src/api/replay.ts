/**
 * Replay: the request of a kept flow is sent again through the proxy itself, as a client would
 * (absolute-form, `https://` ones too, which the proxy forwards over TLS), so it passes through
 * every addon, interception included, and shows up as a new flow. The proxy recognises the new
 * flow by the replay connection's local port and marks it `isReplay`.
 */
import type { Addon } from "../addons/types.ts";
import type { Flow } from "../flow/flow.ts";
import { serializeRequestHead } from "../http1/head.ts";
import type { HeaderList } from "../http/headers.ts";
import type { Address, Conn, Network } from "../runtime/types.ts";
import { isWebSocketFlow, resendMessages, webSocketHandshake } from "./websocket_replay.ts";

/** How long to wait for the proxy to take the replayed request before giving up. */
const START_TIMEOUT_MS = 10_000;
/** How long the answer may take; the connection is closed after it either way. */
const ANSWER_TIMEOUT_MS = 120_000;

/** Fields that describe the original connection, not the request. */
const CONNECTION_FIELDS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "te",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "expect",
]);

export class ReplayError extends Error {}

export class Replayer {
  readonly #network: Network;
  #proxy: Address | null = null;
  /** Local port of a replay connection -> who waits for the flow it makes. */
  #waiting = new Map<number, (flow: Flow) => void>();

  constructor(network: Network) {
    this.#network = network;
  }

  /** Where the proxy listens (0.0.0.0 and :: are reached through loopback). */
  set proxyAddress(address: Address) {
    const host = address.host === "0.0.0.0"
      ? "127.0.0.1"
      : address.host === "::"
      ? "::1"
      : address.host;
    this.#proxy = { host, port: address.port };
  }

  /** Must run before other addons' requestheaders hooks, so that they see `isReplay`. */
  readonly addon: Addon = {
    name: "replay",
    requestheaders: (flow) => {
      const waiter = this.#waiting.get(flow.client.port);
      if (waiter === undefined || !isLoopback(flow.client.address)) return;
      this.#waiting.delete(flow.client.port);
      flow.isReplay = true;
      waiter(flow);
    },
  };

  /**
   * Sends the flow's request again; resolves with the new flow once the proxy has it. A
   * WebSocket flow opens the socket again and resends the client's messages (websocket_replay.ts).
   */
  async replay(flow: Flow): Promise<Flow> {
    const req = flow.request;
    if (req.body === null && req.bodySize > 0) {
      throw new ReplayError(
        "the request body was not kept (it streamed through), so it cannot be sent again",
      );
    }
    if (this.#proxy === null) throw new ReplayError("the proxy is not running");
    if (isWebSocketFlow(flow)) {
      const head = serializeRequestHead(webSocketHandshake(flow, requestHeaders(flow)));
      const { conn, fresh } = await this.#start([head]);
      resendMessages(conn, flow, ANSWER_TIMEOUT_MS);
      return fresh;
    }
    const body = req.body ?? new Uint8Array(0);
    const headers = requestHeaders(flow);
    if (body.length > 0 || !["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"].includes(req.method)) {
      headers.append("Content-Length", String(body.length));
    }
    headers.append("Connection", "close");
    const head = serializeRequestHead({
      method: req.method,
      target: req.url,
      version: "HTTP/1.1",
      headers,
    });
    const { conn, fresh } = await this.#start(body.length > 0 ? [head, body] : [head]);
    drain(conn);
    return fresh;
  }

  /** Opens a connection to the proxy, writes `chunks`, and waits for the flow the proxy makes. */
  async #start(chunks: Uint8Array[]): Promise<{ conn: Conn; fresh: Flow }> {
    const conn = await this.#network.connect({ ...this.#proxy!, timeoutMs: START_TIMEOUT_MS });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = new Promise<Flow>((resolve, reject) => {
      this.#waiting.set(conn.local.port, resolve);
      timer = setTimeout(
        () => reject(new ReplayError("the proxy did not take the replayed request in time")),
        START_TIMEOUT_MS,
      );
      conn.closed.then(() => reject(new ReplayError("the proxy closed the replay connection")));
    });
    started.catch(() => {}).finally(() => {
      clearTimeout(timer);
      this.#waiting.delete(conn.local.port);
    });
    try {
      await conn.writev(chunks);
    } catch (e) {
      conn.close();
      throw new ReplayError(`could not send the request to the proxy: ${(e as Error).message}`);
    }
    try {
      return { conn, fresh: await started };
    } catch (e) {
      conn.close();
      throw e;
    }
  }
}

/** The request's headers without those about the original connection, Host first if missing. */
function requestHeaders(flow: Flow): HeaderList {
  const req = flow.request;
  const headers = req.headers.clone();
  for (const [name] of [...pairs(headers.raw)]) {
    if (CONNECTION_FIELDS.has(name.toLowerCase())) headers.delete(name);
  }
  if (!headers.has("host")) headers.raw.splice(0, 0, "Host", req.authority);
  return headers;
}

/** Reads the answer to the end (the proxy records it on the new flow), then closes. */
async function drain(conn: Conn): Promise<void> {
  const timer = setTimeout(() => conn.close(), ANSWER_TIMEOUT_MS);
  try {
    while ((await conn.read()) !== null);
  } catch {
    // The flow records what went wrong.
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function* pairs(raw: string[]): Generator<[string, string]> {
  for (let i = 0; i < raw.length; i += 2) yield [raw[i], raw[i + 1]];
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.") ||
    host.startsWith("::ffff:127.");
}
