/**
 * The WebSocket part of a stream: whether an Upgrade request is a WebSocket handshake the proxy
 * can inspect (its extension offers cut to permessage-deflate, the one it can inflate), and the
 * data of the core's `websocket_handshake` hook, which the driver's services answer by checking
 * the origin's 101 (Sec-WebSocket-Accept needs SHA-1, which Web Crypto only offers async).
 * Anything that is not a valid handshake is relayed as raw bytes, like any other Upgrade.
 */
import type { Flow, FlowRequest } from "../../../flow/flow.ts";
import { keepOnlyDeflateOffers } from "../../../websocket/extensions.ts";
import {
  checkUpgradeRequest,
  HandshakeError,
  isWebSocketUpgrade,
  type UpgradeRequest,
} from "../../../websocket/handshake.ts";

/** The client's offer, with Sec-WebSocket-Extensions rewritten in place; null if none. */
export function webSocketOffer(request: FlowRequest): UpgradeRequest | null {
  if (!isWebSocketUpgrade(request.headers)) return null;
  try {
    // An HTTP/2 client's RFC 8441 handshake reaches the stream in its HTTP/1.1 form.
    const version = request.httpVersion === "HTTP/2.0" ? "HTTP/1.1" : request.httpVersion;
    const offer = checkUpgradeRequest(request.method, version, request.headers);
    offer.extensions = keepOnlyDeflateOffers(request.headers);
    return offer;
  } catch (e) {
    if (e instanceof HandshakeError) return null;
    throw e;
  }
}

/** What `websocket_handshake` gets; the answer sets `flow.websocket` and `deflate`. */
export interface WebSocketHandshakeData {
  flow: Flow;
  offer: UpgradeRequest;
  /** Set by the answer: permessage-deflate on or off; null when the 101 is not valid. */
  deflate: boolean | null;
}

/** What the driver's WebSocket relay gets with a "websocket" Splice. */
export interface WebSocketRelayData {
  flow: Flow;
  deflate: boolean;
}
