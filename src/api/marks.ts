/**
 * Marks and comments: PATCH (or PUT) /api/flows/:id with {"marked": bool, "comment": "text"}.
 * Both live on the Flow, so the store, recordings and HAR keep them with it.
 */
import type { Context, Hono } from "hono";
import type { Flow } from "../flow/flow.ts";
import { asObject, fail, jsonBody, type RouteContext } from "./route_kit.ts";

/** Long enough for any note, short enough that a stray paste cannot bloat every summary. */
export const MAX_COMMENT = 10_000;

export interface FlowMarks {
  marked?: boolean;
  comment?: string;
}

/** What is wrong with a marks body, or null. */
export function marksProblem(body: unknown): string | null {
  const o = asObject(body);
  if (o === null) return 'send a JSON object like {"marked": true, "comment": "why"}';
  for (const key of Object.keys(o)) {
    if (key !== "marked" && key !== "comment") {
      return `unknown field "${key}": only "marked" and "comment" can be set`;
    }
  }
  if (o.marked !== undefined && typeof o.marked !== "boolean") {
    return "marked must be true or false";
  }
  if (o.comment !== undefined) {
    if (typeof o.comment !== "string") return "comment must be a string";
    if (o.comment.length > MAX_COMMENT) {
      return `comment is ${o.comment.length} characters; at most ${MAX_COMMENT} are kept`;
    }
  }
  return null;
}

export function applyMarks(flow: Flow, marks: FlowMarks): void {
  if (marks.marked !== undefined) flow.marked = marks.marked;
  if (marks.comment !== undefined) flow.comment = marks.comment;
}

export function marksRoutes(app: Hono, ctx: RouteContext): void {
  const { store } = ctx.control;
  const handler = async (c: Context) => {
    const id = c.req.param("id") ?? "";
    const flow = await ctx.find(id);
    if (!flow) return fail(c, 404, `no flow ${id}`);
    const body = await jsonBody(c);
    const problem = marksProblem(body);
    if (problem !== null) return fail(c, 400, problem);
    applyMarks(flow, body as FlowMarks);
    store.update(flow);
    return c.json(ctx.summary(flow));
  };
  app.patch("/api/flows/:id", handler);
  app.put("/api/flows/:id", handler);
}
