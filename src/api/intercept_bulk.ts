/**
 * Resume all / kill all: POST /api/intercept/resume and /api/intercept/kill let every paused flow
 * go on (or drop it), or only those in {"ids": [...]}. No edits: those are per flow.
 */
import type { Hono } from "hono";
import { asObject, fail, jsonBody, type RouteContext } from "./route_kit.ts";

export function interceptBulkRoutes(app: Hono, ctx: RouteContext): void {
  const { interceptor } = ctx.control;
  for (const action of ["resume", "kill"] as const) {
    app.post(`/api/intercept/${action}`, async (c) => {
      const body = asObject(await jsonBody(c));
      const ids = body?.ids ?? interceptor.pausedIds();
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
        return fail(c, 400, `send {} for every paused flow, or {"ids": ["flow id", ...]}`);
      }
      const done: string[] = [];
      for (const id of ids as string[]) {
        if (action === "resume" ? interceptor.resume(id) : interceptor.kill(id)) done.push(id);
      }
      return c.json(action === "resume" ? { resumed: done } : { killed: done });
    });
  }
}
