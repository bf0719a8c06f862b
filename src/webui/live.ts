/**
 * The live connection to the proxy: Server-Sent Events from /api/events. When the proxy goes away
 * the UI says so, keeps trying, and reloads the list when it is back (flows may have changed).
 */
import type { FlowsEvent, Stats } from "./types.ts";

export interface LiveHandlers {
  hello(stats: Stats): void;
  flows(ev: FlowsEvent): void;
  log?(entry: { level: string; message: string; timestamp?: number }): void;
  lost(): void;
}

export class Live {
  private source: EventSource | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private wasLost = false;

  constructor(private handlers: LiveHandlers) {}

  open(query: string): void {
    this.close();
    const source = new EventSource(`/api/events${query}`);
    this.source = source;
    source.addEventListener("hello", (e) => {
      this.wasLost = false;
      this.handlers.hello(JSON.parse((e as MessageEvent).data));
    });
    source.addEventListener(
      "flows",
      (e) => this.handlers.flows(JSON.parse((e as MessageEvent).data)),
    );
    source.addEventListener(
      "log",
      (e) => this.handlers.log?.(JSON.parse((e as MessageEvent).data)),
    );
    source.onerror = () => {
      if (this.source !== source) return;
      if (!this.wasLost) {
        this.wasLost = true;
        this.handlers.lost();
      }
      // The browser retries a CONNECTING source by itself; a CLOSED one (the server answered
      // with an error, e.g. while restarting) we reopen ourselves.
      if (source.readyState === EventSource.CLOSED) {
        this.retry = setTimeout(() => this.open(query), 2000);
      }
    };
  }

  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.source?.close();
    this.source = null;
  }
}
