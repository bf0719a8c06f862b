/** What the API's route modules share: one-line JSON errors and reading a JSON body. */
import type { Context } from "hono";
import type { Flow } from "../flow/flow.ts";
import type { Control } from "./control.ts";
import type { FlowSummary } from "./summary.ts";

export type Status = 400 | 404 | 409 | 413 | 415 | 422 | 500 | 502;

export function fail(c: Context, status: Status, message: string) {
  return c.json({ error: message }, status);
}

/** Parses the JSON body; an empty body is `{}`. A SyntaxError becomes a 400 in app.onError. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  return JSON.parse(text);
}

/** A JSON object, or null when the value is something else. */
export function asObject(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : null;
}

/** What route modules get from createApi. */
export interface RouteContext {
  control: Control;
  /** A kept flow, or a paused one that has left the store. */
  find(id: string): Promise<Flow | undefined>;
  summary(flow: Flow): FlowSummary;
}
