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

const EVENTS = ["hello", "flows", "log"] as const;

/** A stream opened before the UI rendered, with what it received until Live.open takes it. */
interface EarlyStream {
  query: string;
  source: EventSource;
  received: MessageEvent[];
  failed: boolean;
  stop(): void;
}

let early: EarlyStream | null = null;

/**
 * Opens the stream the first load will ask for, before the UI renders (main.tsx): the proxy
 * reads the first page meanwhile. Live.open with the same query takes it over, with its events.
 */
export function openEarly(query: string): void {
  const source = new EventSource(`/api/events${query}`);
  const held: EarlyStream = {
    query,
    source,
    received: [],
    failed: false,
    stop() {
      for (const type of EVENTS) source.removeEventListener(type, keep);
      source.onerror = null;
    },
  };
  const keep = (e: Event) => held.received.push(e as MessageEvent);
  for (const type of EVENTS) source.addEventListener(type, keep);
  source.onerror = () => {
    held.failed = true;
  };
  early = held;
}

/** The early stream when it was opened for `query` (it is closed otherwise). */
function takeEarly(query: string): EarlyStream | null {
  const held = early;
  early = null;
  if (held === null) return null;
  held.stop();
  if (held.query === query) return held;
  held.source.close();
  return null;
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
    const held = takeEarly(query);
    const source = held?.source ?? new EventSource(`/api/events${query}`);
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
    const on: Record<(typeof EVENTS)[number], (e: MessageEvent) => void> = {
      hello: (e) => {
        const wasLost = this.wasLost;
        this.wasLost = false;
        const hello = JSON.parse(e.data);
        ready(hello);
        this.handlers.hello(hello, wasLost);
      },
      flows: (e) => this.handlers.flows(JSON.parse(e.data)),
      log: (e) => this.handlers.log?.(JSON.parse(e.data)),
    };
    for (const type of EVENTS) {
      source.addEventListener(type, (e) => on[type](e as MessageEvent));
    }
    const onError = () => {
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
    source.onerror = onError;
    // What the early stream received comes first, in order (events are tasks: none can slip in
    // between these lines).
    for (const e of held?.received ?? []) on[e.type as (typeof EVENTS)[number]](e);
    if (held?.failed) onError();
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
