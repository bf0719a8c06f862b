/**
 * WebSockets over HTTP/2 (RFC 8441) as the HTTP/1.1 handshake the rest of the proxy knows. An
 * extended CONNECT (`:method CONNECT`, `:protocol websocket`) from an h2 client becomes a GET
 * with Upgrade: websocket and a Sec-WebSocket-Key of the proxy's (RFC 8441 section 5: the key
 * and the accept exist only in HTTP/1.1), so the flow, the hooks and an HTTP/1.1 origin see an
 * ordinary handshake; the origin's 101 goes back to the client as 200. An origin that speaks h2
 * and sent SETTINGS_ENABLE_CONNECT_PROTOCOL gets an extended CONNECT in turn, and its 200 comes
 * back as the 101 that key expects.
 */
import { createHash } from "node:crypto";
import type { EncoderField } from "../../../http2/hpack/encoder.ts";
import type { HeaderField, RequestPseudo } from "../../../http2/fields.ts";
import { HeaderList } from "../../../http/headers.ts";
import type { HttpRequestHead, HttpResponseHead, Scheme } from "../../../http/message.ts";
import { generateKey, isWebSocketUpgrade, WEBSOCKET_GUID } from "../../../websocket/handshake.ts";
import { requestFromH2, requestToH2 } from "./h2_convert.ts";

/** Whether an HTTP/2 request is an RFC 8441 WebSocket handshake. */
export function isExtendedConnectWebSocket(pseudo: RequestPseudo): boolean {
  return pseudo.method === "CONNECT" && pseudo.protocol?.toLowerCase() === "websocket";
}

/** The extended CONNECT as an HTTP/1.1-style upgrade request (GET, Upgrade, a key). */
export function upgradeFromExtendedConnect(
  pseudo: RequestPseudo,
  fields: readonly HeaderField[],
  scheme: Scheme,
  fallback: { host: string; port: number } | null,
): HttpRequestHead {
  const head = requestFromH2(
    { ...pseudo, method: "GET", protocol: undefined },
    fields,
    true,
    scheme,
    fallback,
  );
  const h = head.headers;
  h.delete("sec-websocket-key");
  h.set("connection", "Upgrade");
  h.set("upgrade", "websocket");
  h.set("sec-websocket-key", generateKey());
  return head;
}

/**
 * The header list for an h2 origin: an upgrade request becomes an extended CONNECT (the key,
 * Upgrade and Connection have no place in it); anything else converts as usual.
 */
export function requestToH2Origin(head: HttpRequestHead, extendedConnect: boolean): EncoderField[] {
  if (!extendedConnect || head.method !== "GET" || !isWebSocketUpgrade(head.headers)) {
    return requestToH2(head);
  }
  const fields = requestToH2(head);
  fields[0] = [":method", "CONNECT"];
  fields.splice(1, 0, [":protocol", "websocket"]);
  return fields.filter(([name]) => name !== "sec-websocket-key");
}

/** The h2 origin's 200 to an extended CONNECT, as the 101 the request's key expects. */
export function switchingProtocolsFromH2(
  head: HttpResponseHead,
  request: HttpRequestHead,
): HttpResponseHead {
  const headers = new HeaderList();
  headers.append("upgrade", "websocket");
  headers.append("connection", "Upgrade");
  headers.append(
    "sec-websocket-accept",
    acceptKeyNow(request.headers.get("sec-websocket-key") ?? ""),
  );
  for (const [name, value] of head.headers) headers.append(name, value);
  return { status: 101, reason: "Switching Protocols", version: head.version, headers };
}

/** An HTTP/1.1 origin's 101 as the 200 an extended CONNECT expects (without the accept key). */
export function extendedConnectAnswer(head: HttpResponseHead): HttpResponseHead {
  const headers = head.headers.clone();
  headers.delete("sec-websocket-accept");
  return { status: 200, reason: "", version: head.version, headers };
}

/** base64(SHA-1(key + GUID)), computed at once (the layers cannot wait for WebCrypto). */
function acceptKeyNow(key: string): string {
  return createHash("sha1").update(key.trim() + WEBSOCKET_GUID).digest("base64");
}
