/** GET /api/log and GET /api/log/events: the event log (event_log.ts) over HTTP. */
import type { Hono } from "hono";
import { type EventLog, KEEP } from "./event_log.ts";
import { fail } from "./route_kit.ts";

function wholeNumber(text: string | undefined, fallback: number): number | null {
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

export function eventLogRoutes(app: Hono, log: EventLog): void {
  app.get("/api/log", (c) => {
    const after = wholeNumber(c.req.query("after"), 0);
    const limit = wholeNumber(c.req.query("limit"), KEEP);
    if (after === null || limit === null) {
      return fail(c, 400, "after and limit must be whole numbers");
    }
    return c.json({ lines: log.recent(after, limit), dropped: log.dropped });
  });
  app.get("/api/log/events", (c) => {
    const after = wholeNumber(c.req.query("after"), 0);
    if (after === null) return fail(c, 400, "after must be a whole number");
    return log.stream(after);
  });
}
