/**
 * The .proto definitions the proxy loaded (GET /api/protobuf/schema), made the contentviews'
 * schema in the page, so protobuf and gRPC bodies show field names here as in `mitm read`.
 * Fetched when a body may need it, at most every few seconds (the proxy reloads changed files).
 */
import { type ProtoSchema, setProtoSchemaProvider } from "../contentviews/mod.ts";
import { call } from "./api.ts";

const REFRESH_MS = 3000;
let schema: ProtoSchema | null = null;
let fetchedAt = -Infinity;
let pending: Promise<void> | null = null;

setProtoSchemaProvider(() => schema);

/** Whether a body of this type, shown with this view, may be decoded with the schema. */
export function wantsProtoSchema(contentType: string | null, view: string): boolean {
  return view === "protobuf" || view === "grpc" ||
    (view === "auto" && /proto|grpc/i.test(contentType ?? ""));
}

/** Fetches the schema unless it was fetched moments ago; resolves once it is current. */
export function refreshProtoSchema(): Promise<void> {
  if (pending) return pending;
  if (performance.now() - fetchedAt < REFRESH_MS) return Promise.resolve();
  pending = (async () => {
    try {
      const res = await call("/api/protobuf/schema");
      // An older proxy has no such route: no schema, bodies shown without one.
      schema = res.ok ? (await res.json()).schema ?? null : null;
    } catch {
      // Offline for a moment: keep what we had.
    } finally {
      fetchedAt = performance.now();
      pending = null;
    }
  })();
  return pending;
}
