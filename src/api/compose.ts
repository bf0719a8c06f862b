/**
 * POST /api/requests: a request composed from scratch ({method, url, headers, body}) is sent
 * through the proxy like a replay, so it is recorded as a new flow (201, its summary).
 */
import type { Hono } from "hono";
import { Flow, FlowRequest } from "../flow/flow.ts";
import { HeaderList } from "../http/headers.ts";
import { parseAuthority } from "../http1/target.ts";
import { editBodyValue, editProblem, type RequestEdit } from "./intercept.ts";
import { ReplayError } from "./replay.ts";
import { asObject, fail, jsonBody, type RouteContext } from "./route_kit.ts";

const utf8 = new TextEncoder();

/** What is wrong with a composed request, or null. */
export function composeProblem(body: unknown): string | null {
  const o = asObject(body);
  if (o === null) {
    return 'send a JSON object like {"method": "GET", "url": "https://example.com/"}';
  }
  for (const key of Object.keys(o)) {
    if (!["method", "url", "headers", "body"].includes(key)) {
      return `unknown field "${key}": a request has method, url, headers and body`;
    }
  }
  if (o.url === undefined) return "url is missing: an absolute http:// or https:// URL";
  return editProblem({ request: o }, "request");
}

/** The request as a flow that has not happened yet (the replayer sends it). */
export function composedFlow(edit: RequestEdit & { url: string }): Flow {
  const m = /^(https?):\/\/([^/?#]+)([^#]*)/i.exec(edit.url)!;
  const scheme = m[1].toLowerCase() as "http" | "https";
  const { host, port } = parseAuthority(m[2], scheme === "https" ? 443 : 80);
  const request = new FlowRequest({
    method: edit.method ?? "GET",
    scheme,
    host,
    port,
    path: m[3] === "" ? "/" : m[3].startsWith("?") ? "/" + m[3] : m[3],
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from(edit.headers ?? []),
    timestampStart: Date.now(),
  });
  if (edit.body !== undefined) {
    // Sent as given: a Content-Encoding header is the sender's promise about these bytes.
    const value = editBodyValue(edit.body);
    request.body = typeof value === "string" ? utf8.encode(value) : value;
    request.bodySize = request.body.length;
  }
  return new Flow({ address: "127.0.0.1", port: 0, tls: null }, request);
}

export function composeRoutes(app: Hono, ctx: RouteContext): void {
  app.post("/api/requests", async (c) => {
    const body = await jsonBody(c);
    const problem = composeProblem(body);
    if (problem !== null) return fail(c, 400, problem);
    try {
      const fresh = await ctx.control.replayer.replay(
        composedFlow(body as RequestEdit & { url: string }),
      );
      return c.json(ctx.summary(fresh), 201);
    } catch (e) {
      if (e instanceof ReplayError) return fail(c, 409, e.message);
      return fail(c, 502, `sending failed: ${(e as Error).message}`);
    }
  });
}
