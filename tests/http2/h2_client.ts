/**
 * A test-only HTTP/2 client driving the client-role Http2Connection over a real socket (h2c or
 * TLS with ALPN h2), to talk to node:http2 servers. Bodies are hashed as they arrive and each
 * DATA chunk is acknowledged once hashed, so the peer's sending is paced by this reader.
 */
import { createHash, type Hash } from "node:crypto";
import type { Duplex } from "node:stream";
import {
  type EncoderField,
  errorCodeName,
  type HeaderField,
  Http2Connection,
  type Http2Event,
} from "../../src/http2/mod.ts";
import { bodySender, SocketDriver } from "./socket_driver.ts";

export interface H2Response {
  status: number;
  headers: HeaderField[];
  trailers: HeaderField[] | null;
  bodyLength: number;
  sha256: string;
  /** The body as text when it is short (<= 64 KiB). */
  text: string;
}

interface Pending {
  status: number;
  headers: HeaderField[];
  hash: Hash;
  length: number;
  small: Uint8Array[];
  sender?: { pump: () => void; done: () => boolean };
  resolve: (r: H2Response) => void;
  reject: (e: Error) => void;
}

export class H2Client {
  readonly conn = new Http2Connection({ role: "client" });
  readonly driver: SocketDriver;
  readonly #pending = new Map<number, Pending>();
  /** Most bytes any stream had queued beyond the peer's windows. */
  maxQueued = 0;
  events: string[] = [];

  constructor(socket: Duplex) {
    this.driver = new SocketDriver(this.conn, socket, (ev) => this.#onEvent(ev));
    socket.on("close", () => {
      for (const p of this.#pending.values()) p.reject(new Error("connection closed"));
      this.#pending.clear();
    });
  }

  /** Sends a request; `uploadBytes` patterned bytes are sent as its body (paced by windows). */
  request(fields: EncoderField[], uploadBytes = 0): Promise<H2Response> {
    return new Promise((resolve, reject) => {
      const id = this.conn.request(fields, uploadBytes === 0);
      const p: Pending = {
        status: 0,
        headers: [],
        hash: createHash("sha256"),
        length: 0,
        small: [],
        resolve,
        reject,
      };
      this.#pending.set(id, p);
      if (uploadBytes > 0) {
        p.sender = bodySender(this.driver, id, uploadBytes);
        p.sender.pump();
      }
      this.driver.flush();
    });
  }

  close(): void {
    this.conn.goAway();
    this.driver.flush();
    this.driver.socket.end();
  }

  #onEvent(ev: Http2Event): void {
    this.events.push(ev.type);
    if (ev.type === "connectionError") {
      for (const p of this.#pending.values()) p.reject(new Error(ev.message));
      return;
    }
    if (!("streamId" in ev)) return;
    const p = this.#pending.get(ev.streamId);
    if (p === undefined) return;
    switch (ev.type) {
      case "response":
        if (ev.status >= 200) {
          p.status = ev.status;
          p.headers = ev.headers;
        }
        if (ev.endStream) this.#finish(ev.streamId, p, null);
        break;
      case "data":
        p.hash.update(ev.data);
        p.length += ev.data.length;
        if (p.length <= 65536) p.small.push(ev.data.slice());
        this.conn.acknowledgeData(ev.streamId, ev.data.length);
        if (ev.endStream) this.#finish(ev.streamId, p, null);
        break;
      case "trailers":
        this.#finish(ev.streamId, p, ev.headers);
        break;
      case "drained":
        this.maxQueued = Math.max(this.maxQueued, this.conn.queuedBytes(ev.streamId));
        p.sender?.pump();
        break;
      case "reset":
        this.#pending.delete(ev.streamId);
        p.reject(new Error(`stream ${ev.streamId} reset: ${errorCodeName(ev.code)}`));
        break;
    }
  }

  #finish(id: number, p: Pending, trailers: HeaderField[] | null): void {
    this.#pending.delete(id);
    const text = p.length <= 65536
      ? new TextDecoder().decode(Uint8Array.from(p.small.flatMap((c) => Array.from(c))))
      : "";
    p.resolve({
      status: p.status,
      headers: p.headers,
      trailers,
      bodyLength: p.length,
      sha256: p.hash.digest("hex"),
      text,
    });
  }
}

/** sha256 of `n` bytes of the pattern the body senders send. */
export function patternSha256(n: number, pattern: Uint8Array): string {
  const h = createHash("sha256");
  for (let left = n; left > 0; left -= pattern.length) {
    h.update(pattern.subarray(0, Math.min(left, pattern.length)));
  }
  return h.digest("hex");
}
