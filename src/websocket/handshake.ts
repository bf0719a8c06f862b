/**
 * The opening handshake (RFC 6455 4.1 and 4.2): recognise an Upgrade request, check it, and check
 * the server's 101 answer, including Sec-WebSocket-Accept computed with WebCrypto's SHA-1.
 */
import { type HeaderList, tokens } from "../http/headers.ts";
import { checkAcceptedExtensions, type Extension, parseExtensions } from "./extensions.ts";

/** The GUID the accept key is derived with (4.2.2, step 5.4). */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A handshake that is not a valid WebSocket handshake; the message says why. */
export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HandshakeError";
  }
}

/** base64(SHA-1(key + GUID)): the Sec-WebSocket-Accept for a Sec-WebSocket-Key. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key.trim() + WEBSOCKET_GUID),
  );
  let binary = "";
  for (const b of new Uint8Array(digest)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64. */
export function generateKey(): string {
  let binary = "";
  for (const b of crypto.getRandomValues(new Uint8Array(16))) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * True when the request asks to become a WebSocket: Upgrade lists "websocket" and Connection
 * lists "upgrade". Method and version are checked by checkUpgradeRequest.
 */
export function isWebSocketUpgrade(headers: HeaderList): boolean {
  return tokens(headers.get("upgrade")).includes("websocket") &&
    tokens(headers.get("connection")).includes("upgrade");
}

export interface UpgradeRequest {
  key: string;
  /** Sec-WebSocket-Protocol offers, in order. */
  protocols: string[];
  /** Sec-WebSocket-Extensions offers (after any filtering the proxy did). */
  extensions: Extension[];
}

/** Checks a client's handshake (4.2.1). Throws HandshakeError with the reason. */
export function checkUpgradeRequest(
  method: string,
  httpVersion: string,
  headers: HeaderList,
): UpgradeRequest {
  if (method !== "GET") {
    throw new HandshakeError(`a WebSocket handshake must be GET, not ${method}`);
  }
  if (httpVersion !== "HTTP/1.1") {
    throw new HandshakeError(`a WebSocket handshake needs HTTP/1.1, not ${httpVersion}`);
  }
  if (!isWebSocketUpgrade(headers)) {
    throw new HandshakeError("Upgrade: websocket and Connection: upgrade are required");
  }
  const key = headers.get("sec-websocket-key")?.trim();
  if (key === undefined || !isKey(key)) {
    throw new HandshakeError("Sec-WebSocket-Key must be 16 bytes in base64");
  }
  const version = headers.get("sec-websocket-version")?.trim();
  if (version !== "13") {
    throw new HandshakeError(`Sec-WebSocket-Version must be 13, not ${version ?? "missing"}`);
  }
  let extensions: Extension[];
  try {
    extensions = parseExtensions(headers.get("sec-websocket-extensions") ?? "");
  } catch (e) {
    throw new HandshakeError(`Sec-WebSocket-Extensions: ${(e as Error).message}`);
  }
  const protocols = (headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim())
    .filter((p) => p !== "");
  return { key, protocols, extensions };
}

function isKey(key: string): boolean {
  // 16 bytes are 22 base64 digits and "==".
  return /^[A-Za-z0-9+/]{22}==$/.test(key);
}

export interface UpgradeResponse {
  /** The subprotocol the server chose, or null. */
  protocol: string | null;
  /** permessage-deflate is on: data messages may arrive compressed (RSV1) both ways. */
  deflate: boolean;
}

/**
 * Checks the server's answer to `request` (4.1, the client's checks): 101, Upgrade and
 * Connection, the accept key, a subprotocol and extensions among those offered. Throws
 * HandshakeError with the reason; a status other than 101 is not an error to throw but a
 * refused upgrade (an ordinary HTTP response), so callers check `status === 101` first.
 */
export async function checkUpgradeResponse(
  request: UpgradeRequest,
  status: number,
  headers: HeaderList,
): Promise<UpgradeResponse> {
  if (status !== 101) throw new HandshakeError(`the server answered ${status}, not 101`);
  if (!isWebSocketUpgrade(headers)) {
    throw new HandshakeError("the 101 lacks Upgrade: websocket or Connection: upgrade");
  }
  const accept = headers.get("sec-websocket-accept")?.trim();
  if (accept !== await acceptKey(request.key)) {
    throw new HandshakeError("Sec-WebSocket-Accept does not match the key");
  }
  const protocol = headers.get("sec-websocket-protocol")?.trim() || null;
  if (protocol !== null && !request.protocols.includes(protocol)) {
    throw new HandshakeError(`the server chose the subprotocol ${protocol}, which was not offered`);
  }
  try {
    const { deflate } = checkAcceptedExtensions(
      headers.get("sec-websocket-extensions"),
      request.extensions,
    );
    return { protocol, deflate };
  } catch (e) {
    throw new HandshakeError(`Sec-WebSocket-Extensions: ${(e as Error).message}`);
  }
}
