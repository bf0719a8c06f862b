/**
 * API test helpers: a real proxy in-process (shared test CA) with the control layer attached,
 * its Hono app driven through app.request() (no socket), a local origin, and raw clients.
 */
import http from "node:http";
import type net from "node:net";
import zlib from "node:zlib";
import { createApi } from "../../src/api/app.ts";
import { Control } from "../../src/api/control.ts";
import { createLogger } from "../../src/log.ts";
import type { Options } from "../../src/options.ts";
import { type ProxyServer, startProxy } from "../../src/proxy/server.ts";
import { testCa } from "../fixtures/ca.ts";
import { connect, listenLocal, readUntil } from "../e2e/helpers.ts";

export const TOKEN = "test-token-0123456789";
export const PORT = 8081;
export const HOST = `127.0.0.1:${PORT}`;

export interface ApiHarness {
  proxy: ProxyServer;
  control: Control;
  app: ReturnType<typeof createApi>;
  log: string[];
  /** app.request() with the token and a right Host header unless `init` says otherwise. */
  req(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export async function withApi(
  options: Partial<Options>,
  fn: (h: ApiHarness) => Promise<void>,
): Promise<void> {
  const log: string[] = [];
  const proxy = await startProxy(
    { listen_port: 0, ...options },
    { ca: await testCa(), log: createLogger("debug", (_l, m) => log.push(m)) },
  );
  const control = await Control.attach(proxy);
  const app = createApi(control, { token: TOKEN, port: PORT, hosts: [] });
  const req = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has("host")) headers.set("host", HOST);
    if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TOKEN}`);
    if (headers.get("authorization") === "") headers.delete("authorization");
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set("content-type", "application/json");
    }
    return Promise.resolve(app.request(`http://${HOST}${path}`, { ...init, headers, body }));
  };
  try {
    await fn({ proxy, control, app, log, req });
  } finally {
    await control.close();
    await proxy.close();
  }
}

export interface Origin {
  port: number;
  /** "METHOD URL" of each request, and its body. */
  requests: { line: string; headers: http.IncomingHttpHeaders; body: string }[];
  close(): Promise<void>;
}

export const PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==",
  ),
  (c) => c.charCodeAt(0),
);

/** Bytes of /big: more than the 64 KiB an MCP call returns by default. */
export const BIG = 200 * 1024;

/** A node:http origin on 127.0.0.1: JSON, gzip text, a PNG, a big text and an echo. */
export async function startOrigin(): Promise<Origin> {
  const requests: Origin["requests"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      requests.push({ line: `${req.method} ${req.url}`, headers: req.headers, body });
      const path = req.url ?? "/";
      if (path.startsWith("/json")) {
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ hello: "world", n: [1, 2] }));
      } else if (path.startsWith("/gzip")) {
        res.setHeader("Content-Type", "text/plain");
        res.setHeader("Content-Encoding", "gzip");
        res.end(zlib.gzipSync("zipped text from the origin"));
      } else if (path.startsWith("/png")) {
        res.setHeader("Content-Type", "image/png");
        res.end(PNG);
      } else if (path.startsWith("/big")) {
        res.setHeader("Content-Type", "text/plain");
        res.end("x".repeat(BIG - 1) + "\n");
      } else {
        res.setHeader("Content-Type", "text/plain");
        res.end(`origin: ${req.method} ${path} x-edit=${req.headers["x-edit"] ?? ""} body=${body}`);
      }
    });
  });
  return { ...await listenLocal(server), requests };
}

export async function withOrigin(fn: (origin: Origin) => Promise<void>): Promise<void> {
  const origin = await startOrigin();
  try {
    await fn(origin);
  } finally {
    await origin.close();
  }
}

/**
 * Sends one request through the proxy (absolute-form, Connection: close) and resolves with the
 * whole answer as text, or "" when the proxy drops the connection without answering.
 */
export async function viaProxy(
  proxyPort: number,
  url: string,
  options: { method?: string; body?: string; headers?: string[]; timeoutMs?: number } = {},
): Promise<string> {
  const socket = await connect(proxyPort);
  return await exchange(socket, url, options);
}

export async function exchange(
  socket: net.Socket,
  url: string,
  options: { method?: string; body?: string; headers?: string[]; timeoutMs?: number } = {},
): Promise<string> {
  const host = new URL(url).host;
  const body = options.body ?? "";
  const lines = [
    `${options.method ?? "GET"} ${url} HTTP/1.1`,
    `Host: ${host}`,
    "Connection: close",
    ...(options.headers ?? []),
    ...(body ? [`Content-Length: ${Buffer.byteLength(body)}`] : []),
  ];
  socket.write(lines.join("\r\n") + "\r\n\r\n" + body);
  const out = await readUntil(socket, () => false, options.timeoutMs ?? 10_000);
  socket.destroy();
  return out.toString("latin1");
}

/** Polls until `check` resolves truthy (or throws after `ms`). */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 5000,
): Promise<Exclude<T, null | undefined | false | 0 | "">> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v as Exclude<T, null | undefined | false | 0 | "">;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads a text/event-stream body until `done(events)` is true; returns the events seen. */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  done: (events: { event: string; data: unknown }[]) => boolean,
  ms = 5000,
): Promise<{ event: string; data: unknown }[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: unknown }[] = [];
  let text = "";
  const timer = setTimeout(() => reader.cancel(), ms);
  try {
    while (!done(events)) {
      const { value, done: end } = await reader.read();
      if (end) throw new Error(`event stream ended; events so far: ${JSON.stringify(events)}`);
      text += decoder.decode(value, { stream: true });
      let i;
      while ((i = text.indexOf("\n\n")) >= 0) {
        const block = text.slice(0, i);
        text = text.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
    return events;
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}
