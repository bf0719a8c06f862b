/**
 * Whether an Upgrade becomes an inspected WebSocket. The client's handshake is checked, and its
 * extension offers cut to permessage-deflate (the one extension the proxy can inflate for
 * inspection) before it is forwarded; the server's 101 is checked before the driver takes over.
 * Anything that is not a valid WebSocket handshake is relayed as raw bytes, like any other
 * Upgrade: the peers, not the proxy, decide what to make of it.
 */
import type { Flow, FlowRequest } from "../../../flow/flow.ts";
import { WebSocketData } from "../../../flow/websocket.ts";
import type { Logger } from "../../../log.ts";
import {
  checkUpgradeRequest,
  checkUpgradeResponse,
  HandshakeError,
  isWebSocketUpgrade,
  type UpgradeRequest,
} from "../../../websocket/handshake.ts";
import { keepOnlyDeflateOffers } from "../../../websocket/extensions.ts";

/**
 * The WebSocket handshake in `request`, with its Sec-WebSocket-Extensions rewritten in place to
 * the permessage-deflate offers; null when it is not one (or not a valid one).
 */
export function webSocketOffer(request: FlowRequest, log: Logger): UpgradeRequest | null {
  if (!isWebSocketUpgrade(request.headers)) return null;
  try {
    const offer = checkUpgradeRequest(request.method, request.httpVersion, request.headers);
    offer.extensions = keepOnlyDeflateOffers(request.headers);
    return offer;
  } catch (e) {
    if (!(e instanceof HandshakeError)) throw e;
    log.debug(`${request.url}: not inspected as a WebSocket (${e.message}); relaying raw bytes`);
    return null;
  }
}

/**
 * Checks the server's 101 against `offer`; if it is a valid answer, sets `flow.websocket` and
 * returns whether permessage-deflate is on. Null when the 101 is not a valid WebSocket answer.
 */
export async function acceptWebSocket(
  flow: Flow,
  offer: UpgradeRequest,
  log: Logger,
): Promise<{ deflate: boolean } | null> {
  const response = flow.response!;
  try {
    const { deflate, protocol } = await checkUpgradeResponse(
      offer,
      response.status,
      response.headers,
    );
    const ws = flow.websocket = new WebSocketData();
    ws.protocol = protocol;
    ws.extensions = deflate ? response.headers.get("sec-websocket-extensions")!.trim() : null;
    return { deflate };
  } catch (e) {
    if (!(e instanceof HandshakeError)) throw e;
    log.debug(
      `${flow.request.url}: not inspected as a WebSocket (${e.message}); relaying raw bytes`,
    );
    return null;
  }
}
