/**
 * GET /api/events: Server-Sent Events with the store's changes. Changes are gathered and sent at
 * most every 100 ms (src/api/sse.ts) as one `flows` event, a flow changed several times in between being sent
 * once, so a busy proxy costs each open UI a bounded amount of work:
 *
 *   event: flows
 *   data: {"upsert":[summary...],"remove":["id"...],"clear":false,"stats":{...}}
 *
 * With ?filter=EXPR only matching flows are sent; a flow that stops matching is in `remove`.
 */
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import type { FlowStore } from "./store.ts";
import { summarize } from "./summary.ts";
import type { Interceptor } from "./intercept.ts";
import { sseResponse } from "./sse.ts";

export interface Stats {
  /** Flows in the store. */
  count: number;
  /** Flows evicted by the disk budget (flow_store_max_bytes). */
  dropped: number;
  /** What the stored flows take, as the budget counts it. */
  bytes: number;
  /** The budget. */
  maxBytes: number;
  paused: number;
  intercept: string;
}

export function statsOf(store: FlowStore, interceptor: Interceptor): Stats {
  return {
    count: store.size,
    dropped: store.dropped,
    bytes: store.bytes,
    maxBytes: store.maxBytes,
    paused: interceptor.pausedCount,
    intercept: interceptor.filter,
  };
}

/** The open event streams, so that shutdown can end them (an open stream keeps a server up). */
export class EventStreams {
  readonly #store: FlowStore;
  readonly #interceptor: Interceptor;
  readonly #open = new Set<() => void>();

  constructor(store: FlowStore, interceptor: Interceptor) {
    this.#store = store;
    this.#interceptor = interceptor;
  }

  get size(): number {
    return this.#open.size;
  }

  closeAll(): void {
    for (const close of [...this.#open]) close();
  }

  /**
   * A text/event-stream response that lasts until the client leaves or closeAll(). With `page`,
   * the hello is that page (taken after the stream began listening) instead of the bare stats.
   */
  open(filter: Filter | null, page?: () => Promise<object>): Response {
    const store = this.#store;
    const interceptor = this.#interceptor;
    const pending = new Map<string, Flow | null>();
    let cleared = false;
    const hello = (data: object) => `retry: 2000\nevent: hello\ndata: ${JSON.stringify(data)}\n\n`;
    return sseResponse(this.#open, {
      first: page ? () => page().then(hello) : hello(statsOf(store, interceptor)),
      subscribe: (changed) =>
        store.subscribe((e) => {
          if (e.type === "cleared") {
            pending.clear();
            cleared = true;
          } else if (e.type === "removed") pending.set(e.id, null);
          else pending.set(e.flow.id, e.flow);
          changed();
        }),
      flush: () => {
        const upsert = [];
        const remove: string[] = [];
        for (const [id, flow] of pending) {
          if (flow !== null && (!filter || filter(flow))) {
            upsert.push(summarize(flow, interceptor.phaseOf(id)));
          } else remove.push(id);
        }
        pending.clear();
        const event = { upsert, remove, clear: cleared, stats: statsOf(store, interceptor) };
        cleared = false;
        return `event: flows\ndata: ${JSON.stringify(event)}\n\n`;
      },
    });
  }
}
