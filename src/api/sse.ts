/**
 * One Server-Sent Events response for the API's live streams (flows, log lines): changes are
 * gathered and sent at most every FLUSH_MS as one event, a comment line now and then keeps idle
 * connections from being timed out, and `open` holds a closer per stream so shutdown can end them
 * (an open stream keeps a server up).
 */
/** Changes are batched for this long, so a busy proxy costs each open stream a bounded amount. */
const FLUSH_MS = 100;
/** A comment line now and then, so that idle connections are not timed out by the server. */
const HEARTBEAT_MS = 15_000;

export interface SseFeed {
  /**
   * The first text sent (after which the stream waits for changes). A function is called once the
   * feed listens; what changes meanwhile is held and sent after it.
   */
  first: string | (() => Promise<string>);
  /** Starts listening; calls `changed` when there is something to flush; returns the stop. */
  subscribe(changed: () => void): () => void;
  /** The text for what was gathered since the last flush, or null for nothing. */
  flush(): string | null;
  /** Flush once right after `first` (what was gathered before the stream opened). */
  flushAtStart?: boolean;
}

export function sseResponse(open: Set<() => void>, feed: SseFeed): Response {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
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
      let started = typeof feed.first === "string";
      const flush = () => {
        timer = undefined;
        if (!started) return;
        const text = feed.flush();
        if (text !== null) send(text);
      };
      unsubscribe = feed.subscribe(() => {
        timer ??= setTimeout(flush, FLUSH_MS);
      });
      close = () => {
        if (!open.delete(close)) return;
        unsubscribe();
        clearTimeout(timer);
        clearInterval(heartbeat);
        try {
          controller.close();
        } catch { /* already closed */ }
      };
      open.add(close);
      heartbeat = setInterval(() => send(": ping\n\n"), HEARTBEAT_MS);
      if (typeof feed.first === "string") {
        send(feed.first);
        if (feed.flushAtStart) flush();
      } else {
        feed.first().then((text) => {
          send(text);
          started = true;
          flush();
        }, (e: Error) => {
          send(`event: error\ndata: ${JSON.stringify({ error: e.message })}\n\n`);
          close();
        });
      }
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
