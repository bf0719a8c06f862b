/**
 * Replay: the request of a kept flow is sent again through the proxy, so it passes through every
 * addon, interception included, and shows up as a new flow marked `isReplay`. The request goes in
 * as an event (the proxy's RequestInjector), not through a socket.
 */
import { Flow, FlowRequest } from "../flow/flow.ts";
import { serializeRequestHead } from "../http1/head.ts";
import { CONNECTION_FIELDS } from "../http/connection_headers.ts";
import type { HeaderList } from "../http/headers.ts";
import type { RequestInjector } from "../proxy/injector.ts";
import { ReplayError } from "./replay_error.ts";
import { isWebSocketFlow, resendMessages, webSocketHandshake } from "./websocket_replay.ts";

export { ReplayError };

/** How long the proxy may take to start a replayed WebSocket's flow. */
const START_TIMEOUT_MS = 10_000;

/** How long the answer may take; the connection is closed after it either way. */
const ANSWER_TIMEOUT_MS = 120_000;

/**
 * Fields that describe the original connection, not the request; Expect too, since the whole
 * body is sent at once.
 */
const LEFT_OUT = new Set([...CONNECTION_FIELDS, "expect"]);

/** Methods whose empty body needs no Content-Length. */
const BODYLESS_METHODS = ["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"];

export class Replayer {
  /** The proxy's injector; null until one is given (no proxy running). */
  injector: RequestInjector | null = null;

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
    if (this.injector === null) throw new ReplayError("the proxy is not running");
    return await (isWebSocketFlow(flow) ? this.#injectWebSocket(flow) : this.#inject(flow));
  }

  /** A new flow with the request as it would be sent on a new connection, injected. */
  async #inject(flow: Flow): Promise<Flow> {
    const req = flow.request;
    const body = req.body ?? new Uint8Array(0);
    const headers = requestHeaders(flow);
    if (body.length > 0 || !BODYLESS_METHODS.includes(req.method)) {
      headers.append("Content-Length", String(body.length));
    }
    const request = new FlowRequest({
      method: req.method,
      scheme: req.scheme,
      host: req.host,
      port: req.port,
      path: req.path,
      httpVersion: "HTTP/1.1",
      headers,
      timestampStart: Date.now(),
    });
    request.body = body.slice();
    request.bodySize = body.length;
    const fresh = new Flow({ ...flow.client }, request);
    fresh.isReplay = true;
    try {
      return await this.injector!.request(fresh);
    } catch (e) {
      throw new ReplayError(`could not send the request: ${(e as Error).message}`);
    }
  }

  /** The handshake and then the client's messages over a connection without a socket. */
  async #injectWebSocket(flow: Flow): Promise<Flow> {
    const { conn, flow: started } = this.injector!.connection();
    const head = serializeRequestHead(webSocketHandshake(flow, requestHeaders(flow)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ReplayError("the proxy did not take the replayed request in time")),
        START_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([conn.write(head), late]);
      resendMessages(conn, flow, ANSWER_TIMEOUT_MS);
      return await Promise.race([started, late]);
    } catch (e) {
      conn.close();
      throw e instanceof ReplayError ? e : new ReplayError((e as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The request's headers without those about the original connection, Host first if missing. */
function requestHeaders(flow: Flow): HeaderList {
  const req = flow.request;
  const headers = req.headers.clone();
  for (const [name] of [...pairs(headers.raw)]) {
    if (LEFT_OUT.has(name.toLowerCase())) headers.delete(name);
  }
  if (!headers.has("host")) headers.raw.splice(0, 0, "Host", req.authority);
  return headers;
}

function* pairs(raw: string[]): Generator<[string, string]> {
  for (let i = 0; i < raw.length; i += 2) yield [raw[i], raw[i + 1]];
}
