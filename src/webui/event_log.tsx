/** @jsxImportSource preact */
/**
 * The event log pane: what happened that a row does not show by itself — flows that failed
 * (with the error), pauses, a lost or regained proxy, refused filters and failed actions. The
 * proxy's own log lines appear too when it sends them as `log` events.
 */
import { clock } from "./format.ts";

export interface LogEntry {
  n: number;
  time: number;
  level: "info" | "warn" | "error";
  text: string;
}

export class EventLog {
  entries: LogEntry[] = [];
  private n = 0;
  constructor(private changed: () => void, private max = 500) {}

  add(level: LogEntry["level"], text: string, time = Date.now()): void {
    this.entries.push({ n: ++this.n, time, level, text });
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    this.changed();
  }
}

export function EventLogPane(props: { entries: LogEntry[]; onClose(): void }) {
  return (
    <section id="event-log">
      <div class="log-head">
        <strong>Event log</strong>
        <button type="button" onClick={props.onClose}>Close</button>
      </div>
      <div class="log-lines">
        {props.entries.length === 0 ? <p class="muted">Nothing yet.</p> : null}
        {props.entries.slice().reverse().map((e) => (
          <div class={`log-line ${e.level}`} key={e.n}>
            <span class="muted">{clock(e.time)}</span> {e.text}
          </div>
        ))}
      </div>
    </section>
  );
}
