/**
 * WebSocket replay: the handshake is sent again through the proxy (with a fresh key and no
 * compression offered, so frames are plain), and once the 101 arrives the client's recorded text
 * and binary messages are sent again in order, then a close. The proxy relays and records them
 * like any WebSocket, so the replay is a new flow with its messages. Pings, pongs and messages an
 * addon injected are not resent: they were not the client's.
 */
import type { Flow } from "../flow/flow.ts";
import { type RequestHead } from "../http1/head.ts";
import type { HeaderList } from "../http/headers.ts";
import type { Conn } from "../runtime/types.ts";
import { encodeFrame, Opcode, randomMask } from "../websocket/frame.ts";
import { generateKey, isWebSocketUpgrade } from "../websocket/handshake.ts";

/** Request fields that belong to the old handshake; a new key and offer are made. */
const HANDSHAKE_FIELDS = ["sec-websocket-key", "sec-websocket-extensions", "sec-websocket-version"];

export function isWebSocketFlow(flow: Flow): boolean {
  return flow.websocket !== null || isWebSocketUpgrade(flow.request.headers);
}

/** The upgrade request to send again; `headers` are the request's, connection fields removed. */
export function webSocketHandshake(flow: Flow, headers: HeaderList): RequestHead {
  for (const name of HANDSHAKE_FIELDS) headers.delete(name);
  headers.append("Connection", "Upgrade");
  headers.append("Upgrade", "websocket");
  headers.append("Sec-WebSocket-Version", "13");
  headers.append("Sec-WebSocket-Key", generateKey());
  return { method: "GET", target: flow.request.url, version: "HTTP/1.1", headers };
}

/** The client's messages to send again, in the order they were sent. */
export function clientMessages(flow: Flow): { opcode: 1 | 2; payload: Uint8Array }[] {
  return (flow.websocket?.messages ?? [])
    .filter((m) => m.fromClient && !m.injected && (m.type === "text" || m.type === "binary"))
    .map((m) => ({
      opcode: m.type === "text" ? Opcode.Text : Opcode.Binary,
      payload: m.content,
    }));
}

/**
 * After the handshake: waits for the 101, sends the messages (masked, as a client must, RFC 6455
 * section 5.3), closes with 1000 and reads until the proxy closes. Anything else than a 101 is
 * recorded on the new flow by the proxy; then the connection is just read to its end.
 */
export async function resendMessages(conn: Conn, flow: Flow, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    let head = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const chunk = await conn.read();
      if (chunk === null) return;
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      head = joined;
      end = indexOfHeadEnd(head);
    }
    const statusLine = new TextDecoder().decode(head.subarray(0, head.indexOf(0x0d)));
    if (/^HTTP\/1\.1 101\b/.test(statusLine)) {
      for (const m of clientMessages(flow)) {
        await conn.write(encodeFrame({ opcode: m.opcode, payload: m.payload, mask: randomMask() }));
      }
      const normal = new Uint8Array([0x03, 0xe8]); // 1000: done
      await conn.write(encodeFrame({ opcode: Opcode.Close, payload: normal, mask: randomMask() }));
    }
    while ((await conn.read()) !== null);
  } catch {
    // The new flow records what went wrong.
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i - 3] === 13 && bytes[i - 2] === 10 && bytes[i - 1] === 13 && bytes[i] === 10) {
      return i + 1;
    }
  }
  return -1;
}
