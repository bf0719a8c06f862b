/**
 * The event log the UI shows: the proxy's recent log lines (what the console prints), kept in a
 * ring so memory is bounded, and pushed to open streams as they come.
 *
 *   GET /api/log?after=SEQ&limit=N   -> {"lines": [{seq, time, level, message}...], "dropped"}
 *   GET /api/log/events?after=SEQ    -> SSE: `event: log` with {"lines": [...]} batches
 */
import type { LogLevel, LogSink } from "../log.ts";
import { sseResponse } from "./sse.ts";

export interface LogLine {
  /** Increases by one per line, from 1; a client asks for what came after the last it saw. */
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  level: LogLevel;
  message: string;
}

/** Lines kept; older ones are dropped (and counted). */
export const KEEP = 2000;
/** A longer line (a stack, a dump) is cut here: the log is for reading, not for data. */
const MAX_MESSAGE = 4000;

export class EventLog {
  #lines: LogLine[] = [];
  #seq = 0;
  #listeners = new Set<(line: LogLine) => void>();
  #streams = new Set<() => void>();

  /** Lines that fell out of the ring since the start. */
  get dropped(): number {
    return Math.max(0, this.#seq - this.#lines.length);
  }

  push(level: LogLevel, message: string): void {
    const text = message.length > MAX_MESSAGE
      ? `${message.slice(0, MAX_MESSAGE)}… (${message.length - MAX_MESSAGE} more characters)`
      : message;
    const line = { seq: ++this.#seq, time: Date.now(), level, message: text };
    this.#lines.push(line);
    if (this.#lines.length > KEEP) this.#lines.splice(0, this.#lines.length - KEEP);
    for (const fn of this.#listeners) fn(line);
  }

  /** A sink that writes to `sink` and keeps the line here too. */
  tee(sink: LogSink): LogSink {
    return (level, message) => {
      sink(level, message);
      this.push(level, message);
    };
  }

  /** The newest `limit` lines after `after`, oldest first. */
  recent(after = 0, limit = KEEP): LogLine[] {
    const out = this.#lines.filter((l) => l.seq > after);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  subscribe(fn: (line: LogLine) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Ends every open stream (at shutdown). */
  closeAll(): void {
    for (const close of [...this.#streams]) close();
  }

  /** SSE of the lines after `after`, then new ones in batches (src/api/sse.ts). */
  stream(after: number): Response {
    let pending: LogLine[] = this.recent(after);
    return sseResponse(this.#streams, {
      first: "retry: 2000\n\n",
      subscribe: (changed) =>
        this.subscribe((line) => {
          pending.push(line);
          // A client that does not read is not allowed to make us hold more than the ring.
          if (pending.length > KEEP) pending.splice(0, pending.length - KEEP);
          changed();
        }),
      flush: () => {
        if (pending.length === 0) return null;
        const lines = pending;
        pending = [];
        return `event: log\ndata: ${JSON.stringify({ lines })}\n\n`;
      },
      flushAtStart: true,
    });
  }
}
