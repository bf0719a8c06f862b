/**
 * GET /api/events: Server-Sent Events with the store's changes. Changes are gathered and sent at
 * most every FLUSH_MS as one `flows` event, a flow changed several times in between being sent
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

const FLUSH_MS = 100;
/** A comment line now and then, so that idle connections are not timed out by the server. */
const HEARTBEAT_MS = 15_000;

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

  /** A text/event-stream response that lasts until the client leaves or closeAll(). */
  open(filter: Filter | null): Response {
    const store = this.#store;
    const interceptor = this.#interceptor;
    const encoder = new TextEncoder();
    const pending = new Map<string, Flow | null>();
    let cleared = false;
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let unsubscribe = () => {};
    let close = () => {};

    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const send = (text: string) => {
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            close();
          }
        };
        const flush = () => {
          flushTimer = undefined;
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
          send(`event: flows\ndata: ${JSON.stringify(event)}\n\n`);
        };
        unsubscribe = store.subscribe((e) => {
          if (e.type === "cleared") {
            pending.clear();
            cleared = true;
          } else if (e.type === "removed") pending.set(e.id, null);
          else pending.set(e.flow.id, e.flow);
          flushTimer ??= setTimeout(flush, FLUSH_MS);
        });
        close = () => {
          if (!this.#open.delete(close)) return;
          unsubscribe();
          clearTimeout(flushTimer);
          clearInterval(heartbeat);
          try {
            controller.close();
          } catch { /* already closed */ }
        };
        this.#open.add(close);
        heartbeat = setInterval(() => send(": ping\n\n"), HEARTBEAT_MS);
        send(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(statsOf(store, interceptor))}\n\n`);
      },
      cancel: () => close(),
    });
    return new Response(body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    });
  }
}
