/**
 * One HTTP/2 stream's state (RFC 9113 5.1) and flow-control windows (5.2, 6.9). Streams in the
 * "reserved" states never exist here: this codec neither sends nor accepts server push.
 */
import type { EncoderField } from "./hpack/encoder.ts";

export type StreamState = "open" | "half_closed_local" | "half_closed_remote" | "closed";

export class Stream {
  readonly id: number;
  state: StreamState = "open";
  /** Bytes we may still send (the peer's window for this stream; may go negative, 6.9.2). */
  sendWindow: number;
  /** Bytes the peer may still send before we announce more. */
  recvWindow: number;
  /** Bytes received and not yet acknowledged by the caller. */
  recvOutstanding = 0;
  /** Bytes the caller acknowledged but not yet announced in a WINDOW_UPDATE. */
  recvUnannounced = 0;

  /** Data waiting for window, in order. */
  readonly queue: Uint8Array[] = [];
  queuedBytes = 0;
  /** END_STREAM (or trailers) to send once the queue is empty. */
  endQueued = false;
  trailersQueued: EncoderField[] | null = null;

  /** Whether the first (final, for responses) header list has been received. */
  headersReceived = false;
  /** content-length of the message being received, checked against its DATA (8.1.1). */
  expectedLength: number | null = null;
  receivedLength = 0;

  constructor(id: number, sendWindow: number, recvWindow: number) {
    this.id = id;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  get canSend(): boolean {
    return (this.state === "open" || this.state === "half_closed_remote") && !this.endQueued;
  }
  /** Whether we sent (or queued) END_STREAM already. */
  get localEnded(): boolean {
    return this.endQueued || this.state === "half_closed_local" || this.state === "closed";
  }
  get canReceive(): boolean {
    return this.state === "open" || this.state === "half_closed_local";
  }

  /** We sent END_STREAM. */
  closeLocal(): void {
    this.state = this.state === "half_closed_remote" || this.state === "closed"
      ? "closed"
      : "half_closed_local";
  }
  /** The peer sent END_STREAM. */
  closeRemote(): void {
    this.state = this.state === "half_closed_local" || this.state === "closed"
      ? "closed"
      : "half_closed_remote";
  }
}
