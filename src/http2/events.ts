/** What an HTTP/2 connection reports to its caller, and the options it takes. */
import type { HeaderField, RequestPseudo } from "./fields.ts";
import type { EncoderOptions } from "./hpack/encoder.ts";
import type { Settings } from "./settings.ts";

export type Http2Event =
  /** The peer's SETTINGS were applied (and acknowledged). */
  | { type: "settings"; settings: Settings }
  /** The peer acknowledged our SETTINGS. */
  | { type: "settingsAcked" }
  /** Server role: a new request. */
  | {
    type: "request";
    streamId: number;
    pseudo: RequestPseudo;
    headers: HeaderField[];
    endStream: boolean;
  }
  /** Client role: a response head; `status` < 200 is informational and a final one follows. */
  | {
    type: "response";
    streamId: number;
    status: number;
    headers: HeaderField[];
    endStream: boolean;
  }
  /** Trailers end the message (END_STREAM is implied). */
  | { type: "trailers"; streamId: number; headers: HeaderField[] }
  /**
   * Body bytes: a view of the received bytes, which are never overwritten. Acknowledge them with
   * `acknowledgeData(streamId, data.length)` once consumed: that is what reopens the window.
   */
  | { type: "data"; streamId: number; data: Uint8Array; endStream: boolean }
  /** The stream ended abnormally: reset by the peer (`remote`), or by us after its error. */
  | { type: "reset"; streamId: number; code: number; remote: boolean; message?: string }
  /** All data queued with `sendData` on this stream has gone into frames. */
  | { type: "drained"; streamId: number }
  | { type: "pingAck"; data: Uint8Array }
  /** The peer sent GOAWAY: streams above `lastStreamId` were not processed (they get resets). */
  | { type: "goaway"; lastStreamId: number; code: number; debug: string }
  /** We ended the connection because of the peer's error; a GOAWAY is queued to send. */
  | { type: "connectionError"; code: number; message: string };

/** Limits that defend the connection (each a defence against a known attack). */
export interface Http2Limits {
  /** Rapid reset (CVE-2023-44487): streams reset by the peer (or refused) within ... */
  maxResetsInWindow: number;
  /** ... this many received frames end the connection with ENHANCE_YOUR_CALM. */
  resetWindowFrames: number;
  /** CONTINUATION flood: bytes of one header block across HEADERS and CONTINUATION frames. */
  maxHeaderBlockBytes: number;
  /** CONTINUATION flood: frames of one header block (empty CONTINUATIONs add no bytes). */
  maxHeaderBlockFrames: number;
  /** SETTINGS/PING floods: replies (ACKs, RST_STREAMs) queued but not yet taken to send. */
  maxQueuedControlFrames: number;
  /** Empty DATA frames without END_STREAM (CVE-2019-9518) in the connection's lifetime. */
  maxEmptyDataFrames: number;
}

export const DEFAULT_LIMITS: Readonly<Http2Limits> = Object.freeze({
  maxResetsInWindow: 200,
  resetWindowFrames: 1000,
  maxHeaderBlockBytes: 256 * 1024,
  maxHeaderBlockFrames: 128,
  maxQueuedControlFrames: 1000,
  maxEmptyDataFrames: 1000,
});

export interface Http2ConnectionOptions {
  role: "client" | "server";
  /**
   * Our settings, sent in the preface. Defaults: header table 4096, no push, 100 concurrent
   * streams, a 256 KiB stream window, 16 KiB frames, a 64 KiB header list.
   */
  settings?: Partial<Settings>;
  /** The connection-level receive window (default 1 MiB), opened with a WINDOW_UPDATE. */
  connectionWindowSize?: number;
  limits?: Partial<Http2Limits>;
  hpack?: EncoderOptions;
}
