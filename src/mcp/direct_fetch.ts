/**
 * fetch() for the control API of a running proxy, made with node:http(s) because that ignores
 * HTTP_PROXY: the fetch of Deno and Bun honours it even for 127.0.0.1, and users of a proxy often
 * point HTTP_PROXY at it, so the API calls (token included) would be captured as flows.
 */
import http from "node:http";
import https from "node:https";

/** Gives up on an answer that does not come (a replay waits at most about this long). */
const TIMEOUT_MS = 150_000;

export async function directFetch(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name] = value));
  if (body !== null) headers["content-length"] = String(body.length);
  const client = url.protocol === "https:" ? https : http;
  return await new Promise<Response>((resolve, reject) => {
    const req = client.request(url, { method: request.method, headers, timeout: TIMEOUT_MS });
    req.on("timeout", () => req.destroy(new Error("no answer in time")));
    req.on("error", reject);
    req.on("response", (res) => {
      const status = res.statusCode ?? 502;
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      if (status === 204 || status === 304) {
        res.resume();
        return resolve(new Response(null, { status, headers: out }));
      }
      // Read as the consumer reads: paused while the stream's queue is full.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          res.on("data", (chunk: Uint8Array) => {
            controller.enqueue(new Uint8Array(chunk));
            if ((controller.desiredSize ?? 1) <= 0) res.pause();
          });
          res.on("end", () => controller.close());
          res.on("error", (e) => controller.error(e));
        },
        pull() {
          res.resume();
        },
        cancel() {
          res.destroy();
        },
      });
      resolve(new Response(stream, { status, headers: out }));
    });
    req.end(body ?? undefined);
  });
}
