/**
 * Backpressure from HTTP/2 queues onto HTTP/1 (or raw) connections. Body bytes from such a
 * connection that go into an HTTP/2 connection's queue (the HTTP/2 peer's window is shut) have no
 * window to give back, so past QUEUE_HIGH bytes waiting their source is not read until BodyTaken
 * brings the queue under QUEUE_LOW: memory stays bounded by a slow HTTP/2 peer.
 */
import { type Command, PauseReading, ResumeReading } from "../../core/commands.ts";
import type { Connection } from "../../core/connection.ts";

/** Body bytes queued on an HTTP/2 connection above which their HTTP/1 source is not read. */
const QUEUE_HIGH = 1 << 20;
/** ... and below which it is read again. */
const QUEUE_LOW = 256 << 10;

export class H2QueueGate {
  /** Stream id -> the connection not read while that stream's body waits in a queue. */
  readonly #paused = new Map<number, Connection>();

  isPaused(streamId: number): boolean {
    return this.#paused.has(streamId);
  }

  /** `queued` bytes of the stream wait in an HTTP/2 queue: past QUEUE_HIGH, `from` pauses. */
  pauseIfOver(streamId: number, queued: number, from: Connection, out: Command[]): void {
    if (this.#paused.has(streamId) || queued <= QUEUE_HIGH) return;
    this.#paused.set(streamId, from);
    out.push(new PauseReading(from));
  }

  /** Under QUEUE_LOW (or `force`: the stream is over), the paused source is read again. */
  resumeIfDrained(streamId: number, queued: number, out: Command[], force = false): void {
    const conn = this.#paused.get(streamId);
    if (conn === undefined || (!force && queued > QUEUE_LOW)) return;
    this.#paused.delete(streamId);
    if (conn.open) out.push(new ResumeReading(conn));
  }
}
