/**
 * The control API and the web UI as one Hono app (docs/api.md). Testable without a socket:
 * `await createApi(control, security).request("/api/flows", { headers })`.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { FilterError, parseFilter } from "../filter/mod.ts";
import type { Filter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { flowsToHar } from "../flow/har.ts";
import { flowFromJson, flowToJson } from "../flow/serialize.ts";
import { inProcessControlApi } from "../mcp/control_api.ts";
import { OptionError } from "../options.ts";
import { VERSION } from "../version.ts";
import type { Control } from "./control.ts";
import { statsOf } from "./events.ts";
import { applyEdits, editProblem, type Edits } from "./intercept.ts";
import { ReplayError } from "./replay.ts";
import { DEFAULT_CSP, type SecurityConfig, securityMiddleware } from "./security.ts";
import { composeRoutes } from "./compose.ts";
import { eventLogRoutes } from "./event_log_routes.ts";
import { flowPage } from "./flow_page.ts";
import { CursorGoneError, parseSort } from "./sort_params.ts";
import { exportRoutes } from "./export_routes.ts";
import { importRoutes } from "./import.ts";
import { interceptBulkRoutes } from "./intercept_bulk.ts";
import { marksRoutes } from "./marks.ts";
import { protobufRoutes } from "./protobuf_routes.ts";
import { fail, jsonBody, type RouteContext } from "./route_kit.ts";
import { rulesRoutes } from "./rules_routes.ts";
import { selectionRoutes } from "./selection.ts";
import { summarize } from "./summary.ts";
import { UI_ASSETS } from "./ui/mod.ts";
import { uiPage } from "./ui_page.ts";

/** Flows listed when no ?limit= is given (the in-memory store's old default bound). */
const DEFAULT_LIST_LIMIT = 10_000;

/** The filter in ?filter=, null when absent or empty; a FilterError says what is wrong. */
function queryFilter(c: Context): Filter | null {
  const text = c.req.query("filter") ?? "";
  return text.trim() === "" ? null : parseFilter(text);
}

export function createApi(control: Control, security: SecurityConfig): Hono {
  const { store, interceptor, replayer, streams } = control;
  const app = new Hono();
  // A paused flow, or one whose event stream is open, is the live object the proxy holds; the
  // store has a copy (without the body until it has ended).
  const find = async (id: string): Promise<Flow | undefined> =>
    interceptor.pausedFlow(id) ?? control.liveBodies.get(id) ?? await store.get(id);
  const summary = (flow: Flow) => summarize(flow, interceptor.phaseOf(flow.id));
  const routes: RouteContext = {
    control,
    // An open event stream's live flow: a mark set on the stored copy would be overwritten when
    // the stream ends and the live flow is written again.
    find: async (id) =>
      control.liveBodies.get(id) ?? (await store.get(id)) ?? interceptor.pausedFlow(id),
    summary,
  };

  app.onError((e, c) => {
    if (e instanceof FilterError) return fail(c, 400, `bad filter: ${e.message}`);
    if (e instanceof SyntaxError) return fail(c, 400, `the body is not valid JSON: ${e.message}`);
    if (e instanceof OptionError) return fail(c, 400, e.message);
    if (e instanceof CursorGoneError) return fail(c, 409, e.message);
    return fail(c, 500, `internal error: ${(e as Error)?.message ?? e}`);
  });
  app.notFound((c) => fail(c, 404, `no such endpoint: ${c.req.method} ${c.req.path}`));
  app.use("*", securityMiddleware(security));
  app.use("*", async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    if (!c.res.headers.has("Content-Security-Policy")) {
      c.header("Content-Security-Policy", DEFAULT_CSP);
    }
  });

  // --- the UI
  app.get("/", (c) => uiPage(c, control, security));
  app.get(
    "/app.js",
    (c) => c.body(UI_ASSETS["app.js"], 200, { "Content-Type": "text/javascript" }),
  );
  app.get("/style.css", (c) => c.body(UI_ASSETS["style.css"], 200, { "Content-Type": "text/css" }));

  // --- flows
  app.get("/api/status", (c) =>
    c.json({
      version: VERSION,
      ...statsOf(store, interceptor),
      store: { path: store.path, writer: store.writerMode },
    }));
  app.get("/api/flows", async (c) => {
    const filter = queryFilter(c);
    const limitText = c.req.query("limit");
    // Without a limit, at most what the in-memory store used to hold by default.
    const limit = limitText === undefined ? DEFAULT_LIST_LIMIT : Number(limitText);
    if (!(Number.isInteger(limit) && limit >= 0)) {
      return fail(c, 400, `limit must be a whole number, got "${limitText}"`);
    }
    const sorted = parseSort((name) => c.req.query(name));
    if (sorted !== null && "error" in sorted) return fail(c, 400, sorted.error);
    return c.json(
      await flowPage(control, {
        filter,
        limit,
        after: c.req.query("after"),
        before: c.req.query("before"),
        sorted,
      }),
    );
  });
  app.get("/api/flows.har", async (c) => {
    const flows: Flow[] = [];
    for await (const flow of store.flows({ filter: queryFilter(c) })) flows.push(flow);
    const har = flowsToHar(flows, {
      creator: { name: "mitm.ts", version: VERSION },
    });
    c.header("Content-Disposition", 'attachment; filename="flows.har"');
    return c.json(har);
  });
  app.get("/api/flows.jsonl", (c) => {
    const flows = store.flows({ filter: queryFilter(c) });
    const encoder = new TextEncoder();
    // One flow at a time: an export of a million flows does not sit in memory.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await flows.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(JSON.stringify(flowToJson(next.value)) + "\n"));
      },
      cancel() {
        flows.return(undefined);
      },
    });
    return c.body(body, 200, {
      "Content-Type": "application/x-ndjson",
      "Content-Disposition": 'attachment; filename="flows.jsonl"',
    });
  });
  app.get("/api/flows/:id", async (c) => {
    const flow = await find(c.req.param("id"));
    if (!flow) return fail(c, 404, `no flow ${c.req.param("id")}`);
    const limit = c.req.query("body_limit");
    const bodyLimit = limit === undefined ? Infinity : Number(limit);
    if (!(bodyLimit >= 0)) return fail(c, 400, `body_limit must be a number, got "${limit}"`);
    return c.json({
      ...flowToJson(flow, { bodyLimit }),
      intercepted: interceptor.phaseOf(flow.id),
    });
  });
  app.get("/api/flows/:id/:part{request|response}/body", async (c) => {
    const flow = await find(c.req.param("id"));
    if (!flow) return fail(c, 404, `no flow ${c.req.param("id")}`);
    const part = c.req.param("part");
    const message = part === "request" ? flow.request : flow.response;
    if (!message) return fail(c, 404, "the flow has no response (yet)");
    const soFar = message.body === null ? message.bodySoFar?.() ?? null : null;
    if (message.body === null && soFar === null) {
      return fail(
        c,
        404,
        message.timestampEnd === null
          ? `the ${part} is still arriving, and this proxy keeps its body once it has ended`
          : `the ${part} body was not kept (it streamed through)`,
      );
    }
    let bytes = (message.body ?? soFar)!;
    // Still arriving (an open event stream): what came so far, said in a header.
    if (soFar !== null) {
      c.header("X-Body-Partial", "1");
      if (c.req.query("decode") === "1" && message.headers.has("content-encoding")) {
        return fail(c, 409, "the body is still arriving: it can be decoded once it has ended");
      }
    } else if (c.req.query("decode") === "1") {
      try {
        bytes = message.decodedBody()!;
      } catch (e) {
        return fail(c, 422, `cannot undo the content-encoding: ${(e as Error).message}`);
      }
    }
    const type = message.headers.get("content-type") ?? "application/octet-stream";
    // Captured content must never run as a page of this origin.
    c.header(
      "Content-Security-Policy",
      "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
    );
    if (c.req.query("download") === "1") {
      c.header("Content-Disposition", `attachment; filename="${downloadName(flow, part)}"`);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "Content-Type": safeHeader(type) });
  });
  app.delete("/api/flows/:id", async (c) => {
    const id = c.req.param("id");
    if (interceptor.phaseOf(id) !== null) interceptor.kill(id);
    if (!(await store.remove(id))) return fail(c, 404, `no flow ${id}`);
    return c.json({ ok: true });
  });
  app.post("/api/clear", async (c) => {
    await store.clear();
    return c.json({ ok: true });
  });
  app.post("/api/flows/:id/replay", async (c) => {
    const flow = await find(c.req.param("id"));
    if (!flow) return fail(c, 404, `no flow ${c.req.param("id")}`);
    // An optional {"request": {...}} changes what is sent (as resume does), not the kept flow.
    const edits = await jsonBody(c);
    const problem = (edits as Edits)?.response !== undefined
      ? 'a replay sends a request: only {"request": {...}} can be changed'
      : editProblem(edits, "request");
    if (problem !== null) return fail(c, 400, problem);
    let toSend = flow;
    if ((edits as Edits).request !== undefined) {
      toSend = flowFromJson(flowToJson(flow));
      applyEdits(toSend, "request", edits as Edits);
    }
    try {
      const fresh = await replayer.replay(toSend);
      return c.json(summary(fresh), 201);
    } catch (e) {
      if (e instanceof ReplayError) return fail(c, 409, e.message);
      return fail(c, 502, `replay failed: ${(e as Error).message}`);
    }
  });

  marksRoutes(app, routes);
  exportRoutes(app, routes);
  composeRoutes(app, routes);
  selectionRoutes(app, routes);
  importRoutes(app, routes);
  rulesRoutes(app, control.rules);
  eventLogRoutes(app, control.eventLog);
  interceptBulkRoutes(app, routes);
  protobufRoutes(app);

  // --- interception
  app.get("/api/intercept", (c) => c.json({ filter: interceptor.filter }));
  app.put("/api/intercept", async (c) => {
    const body = await jsonBody(c) as { filter?: unknown };
    if (typeof body?.filter !== "string") {
      return fail(c, 400, 'send {"filter": "EXPR"} ("" turns interception off)');
    }
    try {
      await interceptor.setFilter(body.filter);
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      // The UI shows what is still in force, not the text that was refused.
      const active = interceptor.filter;
      return c.json({
        error: `bad filter: ${e.message}; ${
          active === "" ? "interception stays off" : `"${active}" stays in force`
        }`,
        filter: active,
      }, 400);
    }
    return c.json({ filter: interceptor.filter });
  });
  app.post("/api/flows/:id/resume", async (c) => {
    const id = c.req.param("id");
    const phase = interceptor.phaseOf(id);
    if (phase === null) return fail(c, 409, `flow ${id} is not paused`);
    const edits = await jsonBody(c);
    const problem = editProblem(edits, phase);
    if (problem !== null) return fail(c, 400, problem);
    interceptor.resume(id, edits as Edits);
    return c.json({ ok: true });
  });
  app.post("/api/flows/:id/kill", (c) => {
    const id = c.req.param("id");
    if (!interceptor.kill(id)) return fail(c, 409, `flow ${id} is not paused`);
    return c.json({ ok: true });
  });

  // --- live events, options, CA
  app.get("/api/events", (c) => {
    const filter = queryFilter(c);
    // ?page=N: the hello carries the newest N matching flows, taken once the stream listens, so
    // a client gets its first screen in one round trip and misses no change after it.
    const pageText = c.req.query("page");
    const limit = pageText === undefined ? null : Number(pageText);
    if (limit !== null && !(Number.isInteger(limit) && limit >= 0 && limit <= 100_000)) {
      return fail(c, 400, `page must be a whole number up to 100000, got "${pageText}"`);
    }
    // With sort= (and order=) that page is the first in that order.
    const sorted = parseSort((name) => c.req.query(name));
    if (sorted !== null && "error" in sorted) return fail(c, 400, sorted.error);
    return streams.open(
      filter,
      limit === null ? undefined : () => flowPage(control, { filter, limit, sorted }),
    );
  });
  app.get("/api/options", (c) => c.json(control.options.values()));
  app.put("/api/options", async (c) => {
    const body = await jsonBody(c);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return fail(c, 400, 'send a JSON object of options, like {"intercept": "~d example.com"}');
    }
    await control.options.set(body as Record<string, unknown>);
    return c.json(control.options.values());
  });
  // --- MCP for AI agents (docs/mcp.md): the tools call this same app, in this process.
  const mcpApi = inProcessControlApi((request) => app.fetch(request), security.token);
  // Loaded on first use: the SDK and zod cost memory that a proxy nobody asks for MCP should not
  // carry.
  app.all("/mcp", async (c) => {
    const { handleMcpRequest } = await import("../mcp/http.ts");
    return handleMcpRequest(c.req.raw, mcpApi);
  });

  app.get("/api/ca.pem", (c) =>
    c.body(control.proxy.ca.authority.certPem, 200, {
      "Content-Type": "application/x-pem-file",
      "Content-Disposition": 'attachment; filename="mitm-ca-cert.pem"',
    }));
  return app;
}

/**
 * A file name for a downloaded body: the last path segment when it looks like one, else the flow
 * id and the part. Only [A-Za-z0-9._-], so it is safe inside the quoted header parameter.
 */
export function downloadName(flow: Flow, part: string): string {
  const segment = flow.request.path.split("?")[0].split("/").pop() ?? "";
  let name = "";
  try {
    name = decodeURIComponent(segment);
  } catch { /* a bad escape: use the id */ }
  name = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "").slice(0, 100);
  return part === "response" && name !== "" ? name : `${flow.id}-${part}.bin`;
}

/** A header value safe to send back (flows may carry any bytes Latin-1 allows). */
function safeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : "application/octet-stream";
}
