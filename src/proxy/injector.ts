/**
 * Requests from inside the process (replay, the API's compose): the proxy takes them as events,
 * not as bytes on a socket, so they run every hook, use the origin pool, the upstream proxy and
 * the TLS settings like a client's, and are recorded like live flows.
 */
import type { Flow } from "../flow/flow.ts";
import type { Conn } from "../runtime/types.ts";

export interface RequestInjector {
  /**
   * Sends `flow`'s request (its body whole) into the proxy. Resolves with the flow once the
   * requestheaders hooks have been called (it is then a live flow); the response or the error is
   * recorded on it, and flow_done runs when it is over. Rejects when the proxy is shutting down.
   */
  request(flow: Flow): Promise<Flow>;
  /**
   * A client connection into the proxy without a socket (an in-memory pipe), for what needs a
   * client side to talk to after the response (a replayed WebSocket). `flow` resolves with the
   * first flow the connection makes, marked `isReplay`, once its requestheaders hooks ran.
   */
  connection(): { conn: Conn; flow: Promise<Flow> };
}
