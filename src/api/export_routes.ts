/**
 * Copy as (GET /api/flows/:id/export?format=curl|fetch|httpie|raw): the request of one flow as a
 * snippet to paste (src/export/).
 */
import type { Hono } from "hono";
import { EXPORT_FORMATS, ExportError, exportRequest, isExportFormat } from "../export/mod.ts";
import { fail, type RouteContext } from "./route_kit.ts";

export function exportRoutes(app: Hono, ctx: RouteContext): void {
  app.get("/api/flows/:id/export", async (c) => {
    const format = c.req.query("format") ?? "curl";
    if (!isExportFormat(format)) {
      return fail(c, 400, `unknown format "${format}": use one of ${EXPORT_FORMATS.join(", ")}`);
    }
    const flow = await ctx.find(c.req.param("id"));
    if (!flow) return fail(c, 404, `no flow ${c.req.param("id")}`);
    let out: string | Uint8Array;
    try {
      out = exportRequest(flow.request, format);
    } catch (e) {
      if (e instanceof ExportError) return fail(c, 409, e.message);
      throw e;
    }
    // Captured content: never a page of this origin.
    c.header("Content-Security-Policy", "sandbox; default-src 'none'");
    if (typeof out === "string") {
      return c.body(out, 200, { "Content-Type": "text/plain; charset=utf-8" });
    }
    return c.body(out as Uint8Array<ArrayBuffer>, 200, {
      "Content-Type": "application/octet-stream",
    });
  });
}
