/**
 * The live connection to the proxy: Server-Sent Events from /api/events. When the proxy goes away
 * the UI says so, keeps trying, and reloads the list when it is back (flows may have changed).
 */
import type { FlowPage, FlowsEvent, Stats } from "./types.ts";

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
  /** Resolves the open() still waiting for its hello (with null when that stream is closed). */
  private settle: ((hello: FlowPage | Stats | null) => void) | null = null;

  constructor(private handlers: LiveHandlers) {}

  /**
   * Opens the stream; resolves once the server has registered it, with its `hello` (which holds
   * the first page of flows when the query asks for one: ?page=N), or with null after an error
   * or 5 s (5 minutes for a page). A list fetched after it resolves misses nothing the stream
   * will not carry.
   */
  open(query: string): Promise<FlowPage | Stats | null> {
    this.close();
    const source = new EventSource(`/api/events${query}`);
    this.source = source;
    let ready: (hello: FlowPage | Stats | null) => void = () => {};
    // A hello with a page waits for the store's answer, which a filter the store cannot index
    // may take long: asking again meanwhile would only run the same search twice.
    const patience = /[?&]page=/.test(query) ? 300_000 : 5000;
    const registered = new Promise<FlowPage | Stats | null>((resolve) => {
      ready = resolve;
      setTimeout(() => resolve(null), patience);
    });
    this.settle = ready;
    source.addEventListener("hello", (e) => {
      const wasLost = this.wasLost;
      this.wasLost = false;
      const hello = JSON.parse((e as MessageEvent).data);
      ready(hello);
      this.handlers.hello(hello, wasLost);
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
      ready(null);
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
    this.settle?.(null);
    this.settle = null;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.source?.close();
    this.source = null;
  }
}
