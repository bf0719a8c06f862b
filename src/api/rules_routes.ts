/** GET/POST/PUT/DELETE /api/rules: the run-time rules (rules.ts) over HTTP. */
import type { Hono } from "hono";
import { asObject, fail, jsonBody } from "./route_kit.ts";
import { RuleError, ruleKindHelp, type RuleSet } from "./rules.ts";

export function rulesRoutes(app: Hono, rules: RuleSet): void {
  app.get("/api/rules", (c) => c.json({ rules: rules.list(), kinds: ruleKindHelp() }));
  app.get("/api/rules/:id", (c) => {
    const rule = rules.get(c.req.param("id"));
    return rule ? c.json(rule) : fail(c, 404, `no rule ${c.req.param("id")}`);
  });
  app.post("/api/rules", async (c) => {
    const body = asObject(await jsonBody(c));
    if (body === null) {
      return fail(c, 400, 'send {"kind": "map_remote", "spec": "|filter|regex|to"}');
    }
    try {
      return c.json(await rules.add(body.kind, body.spec), 201);
    } catch (e) {
      if (e instanceof RuleError) return fail(c, 400, e.message);
      throw e;
    }
  });
  app.put("/api/rules/:id", async (c) => {
    const body = asObject(await jsonBody(c));
    if (body === null) return fail(c, 400, 'send {"spec": "..."} (and "kind" to change it)');
    try {
      const rule = await rules.change(c.req.param("id"), body.kind, body.spec);
      return rule ? c.json(rule) : fail(c, 404, `no rule ${c.req.param("id")}`);
    } catch (e) {
      if (e instanceof RuleError) return fail(c, 400, e.message);
      throw e;
    }
  });
  app.delete("/api/rules/:id", async (c) => {
    if (!(await rules.remove(c.req.param("id")))) {
      return fail(c, 404, `no rule ${c.req.param("id")}`);
    }
    return c.json({ ok: true });
  });
}
