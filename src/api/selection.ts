/**
 * Acting on a selection of flows by id (the UI's multi-select): export as HAR or JSON lines,
 * delete, replay, mark. Each is a POST with a JSON body {"ids": [...], ...}.
 */
import type { Context, Hono } from "hono";
import type { Flow } from "../flow/flow.ts";
import { flowsToHar } from "../flow/har.ts";
import { flowToJson } from "../flow/serialize.ts";
import { VERSION } from "../version.ts";
import { applyMarks, type FlowMarks, marksProblem } from "./marks.ts";
import { asObject, fail, jsonBody, type RouteContext } from "./route_kit.ts";

/** More than any UI selects; bounds the work one request can ask for. */
export const MAX_IDS = 100_000;

/** The ids of a selection body, or a one-line problem. */
export function selectionIds(body: unknown): string[] | string {
  const ids = asObject(body)?.ids;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
    return 'send {"ids": ["flow id", ...]}';
  }
  if (ids.length > MAX_IDS) return `at most ${MAX_IDS} ids at once, got ${ids.length}`;
  return [...new Set(ids as string[])];
}

async function found(ctx: RouteContext, ids: string[]): Promise<[Flow[], string[]]> {
  const flows: Flow[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const flow = await ctx.find(id);
    if (flow) flows.push(flow);
    else missing.push(id);
  }
  return [flows, missing];
}

function missingMessage(missing: string[]): string {
  const some = missing.slice(0, 3).join(", ");
  return `no flow ${some}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}`;
}

/** JSON lines written one flow at a time, so a big selection is never one string. */
function jsonLines(flows: Flow[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i >= flows.length) return controller.close();
      controller.enqueue(encoder.encode(JSON.stringify(flowToJson(flows[i++])) + "\n"));
    },
  });
}

export function selectionRoutes(app: Hono, ctx: RouteContext): void {
  const { control } = ctx;
  const withIds = (
    handle: (c: Context, ids: string[], body: Record<string, unknown>) => Promise<Response>,
  ) =>
  async (c: Context) => {
    const body = await jsonBody(c);
    const ids = selectionIds(body);
    if (typeof ids === "string") return fail(c, 400, ids);
    return handle(c, ids, body as Record<string, unknown>);
  };

  app.post(
    "/api/flows/export",
    withIds(async (c, ids, body) => {
      const format = body.format ?? "har";
      if (format !== "har" && format !== "jsonl") {
        return fail(c, 400, `unknown format ${JSON.stringify(format)}: use "har" or "jsonl"`);
      }
      const [flows, missing] = await found(ctx, ids);
      if (missing.length > 0) return fail(c, 404, missingMessage(missing));
      if (format === "har") {
        c.header("Content-Disposition", 'attachment; filename="flows.har"');
        return c.json(flowsToHar(flows, { creator: { name: "mitm.ts", version: VERSION } }));
      }
      return c.body(jsonLines(flows), 200, {
        "Content-Type": "application/x-ndjson",
        "Content-Disposition": 'attachment; filename="flows.jsonl"',
      });
    }),
  );

  app.post(
    "/api/flows/delete",
    withIds(async (c, ids) => {
      let deleted = 0;
      const missing: string[] = [];
      for (const id of ids) {
        if (control.interceptor.phaseOf(id) !== null) control.interceptor.kill(id);
        if (await control.store.remove(id)) deleted++;
        else missing.push(id);
      }
      return c.json({ deleted, missing });
    }),
  );

  app.post(
    "/api/flows/mark",
    withIds(async (c, ids, body) => {
      const { ids: _, ...marks } = body;
      const problem = marksProblem(marks);
      if (problem !== null) return fail(c, 400, problem);
      const [flows, missing] = await found(ctx, ids);
      for (const flow of flows) {
        applyMarks(flow, marks as FlowMarks);
        control.store.update(flow);
      }
      return c.json({ flows: flows.map(ctx.summary), missing });
    }),
  );

  app.post(
    "/api/flows/replay",
    withIds(async (c, ids) => {
      const [flows, missing] = await found(ctx, ids);
      const sent = [];
      const failed: { id: string; error: string }[] = missing.map((id) => ({
        id,
        error: `no flow ${id}`,
      }));
      // One after another, in the order given: replays of a login then a use stay in order.
      for (const flow of flows) {
        try {
          sent.push(ctx.summary(await control.replayer.replay(flow)));
        } catch (e) {
          failed.push({ id: flow.id, error: (e as Error).message });
        }
      }
      return c.json({ flows: sent, failed }, sent.length > 0 ? 201 : 200);
    }),
  );
}
