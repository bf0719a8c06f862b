/**
 * GET /api/protobuf/schema: the message types loaded from `protobuf_definitions` (null when none),
 * so the web UI decodes protobuf and gRPC bodies with the same schema as `mitm read` and the
 * console. Asking reloads changed files first.
 */
import type { Hono } from "hono";
import { currentProtoSchema } from "../contentviews/proto_schema.ts";

export function protobufRoutes(app: Hono): void {
  app.get("/api/protobuf/schema", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ schema: currentProtoSchema() });
  });
}
