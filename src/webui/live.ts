/**
 * The live connection to the proxy: Server-Sent Events from /api/events. When the proxy goes away
 * the UI says so, keeps trying, and reloads the list when it is back (flows may have changed).
 */
import type { FlowsEvent, Stats } from "./types.ts";

export interface LiveHandlers {
  /** `back` is true when the proxy had been lost and answers again. */
  hello(stats: Stats, back: boolean): void;
  flows(ev: FlowsEvent): void;
  log?(entry: { level: string; message: string; timestamp?: number }): void;
  lost(): void;
}

export class Live {
  private source: EventSource | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private wasLost = false;

  constructor(private handlers: LiveHandlers) {}

  /**
   * Opens the stream; resolves once the server has registered it (its `hello`), or after an
   * error or 5 s, so that a list fetched afterwards misses nothing the stream will not carry.
   */
  open(query: string): Promise<void> {
    this.close();
    const source = new EventSource(`/api/events${query}`);
    this.source = source;
    let ready: () => void = () => {};
    const registered = new Promise<void>((resolve) => {
      ready = resolve;
      setTimeout(resolve, 5000);
    });
    source.addEventListener("hello", (e) => {
      const wasLost = this.wasLost;
      this.wasLost = false;
      ready();
      this.handlers.hello(JSON.parse((e as MessageEvent).data), wasLost);
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
      ready();
      if (this.source !== source) return;
      // EventSource retries by itself only sometimes; we decide: a proxy that still answers
      // refused this stream (a bad filter: the list fetch says why), else it is gone.
      source.close();
      fetch("/api/status", { credentials: "same-origin" }).then(
        () => {},
        () => {
          if (this.source !== source) return;
          if (!this.wasLost) {
            this.wasLost = true;
            this.handlers.lost();
          }
          this.retry = setTimeout(() => void this.open(query), 2000);
        },
      );
    };
    return registered;
  }

  close(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.source?.close();
    this.source = null;
  }
}
