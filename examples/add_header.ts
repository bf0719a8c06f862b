/**
 * Adds a header to every request and every response.
 *   mitm -s examples/add_header.ts
 */
import type { Addon } from "../mod.ts";

export default {
  name: "add-header",
  request(flow) {
    flow.request.headers.set("X-Proxied-By", "mitm.ts");
  },
  response(flow) {
    flow.response?.headers.set("X-Intercepted", "true");
  },
} satisfies Addon;
