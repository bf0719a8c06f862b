/**
 * Helpers for the addon tests: the proxy in-process with addons given directly (its log kept),
 * node:http origins on 127.0.0.1 that record what reached them, and curl through the proxy.
 */
import http from "node:http";
import type net from "node:net";
import { type Addon, createLogger, type Options, type ProxyServer, startProxy } from "../../mod.ts";
import { testCa } from "../fixtures/ca.ts";
import { curl, runBytes, type RunResult } from "../e2e/helpers.ts";

export { eventually } from "../e2e/https_helpers.ts";

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface RunningProxy {
  proxy: ProxyServer;
  url: string;
  /** Every log line so far (debug level and up), in order. */
  log: string[];
}

/** Runs `fn` with the proxy in-process (shared test CA), `addons` loaded, log captured. */
export async function withAddons(
  addons: Addon[],
  fn: (p: RunningProxy) => Promise<void>,
  options: Partial<Options> = {},
): Promise<void> {
  const log: string[] = [];
  const proxy = await startProxy(
    { listen_port: 0, ...options },
    {
      ca: await testCa(),
      addons,
      log: createLogger("debug", (_level, message) => log.push(message)),
    },
  );
  try {
    await fn({ proxy, url: proxy.url, log });
  } finally {
    await proxy.close();
  }
}

/** curl through `proxyUrl`, never bypassing it for 127.0.0.1 (whatever NO_PROXY says). */
export function curlVia(proxyUrl: string, args: string[], timeoutS = 30): Promise<RunResult> {
  return curl(
    ["--noproxy", "", "-x", proxyUrl, "--max-time", String(timeoutS), ...args],
    (timeoutS + 10) * 1000,
  );
}

/** curlVia with `-i`, stdout kept as bytes (binary bodies), parsed into the last response. */
export async function curlRaw(proxyUrl: string, args: string[]) {
  const r = await runBytes("curl", [
    "-sS",
    "-i",
    "--noproxy",
    "",
    "-x",
    proxyUrl,
    "--max-time",
    "30",
    ...args,
  ], { timeoutMs: 40_000 });
  if (r.code !== 0) throw new Error(`curl exited with ${r.code}: ${r.stderr}`);
  const res = parseCurlI(Buffer.from(r.stdout).toString("latin1"));
  return { ...res, bytes: Buffer.from(res.body, "latin1") };
}

export interface Received {
  method: string;
  url: string;
  /** Header fields as received: [name, value, ...] with their original case. */
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface EchoOrigin {
  port: number;
  /** Every request that reached this origin. */
  received: Received[];
  /** TCP connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * A node:http origin recording each request. By default it answers 200 with a JSON echo
 * `{method, url, headers (raw pairs), body (text)}`; `handler` may answer instead.
 */
export async function echoOrigin(
  handler?: (req: Received, res: http.ServerResponse) => unknown,
): Promise<EchoOrigin> {
  const received: Received[] = [];
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const d of req) chunks.push(d as Buffer);
    } catch {
      res.destroy(); // the proxy went away mid-request (a test killing it)
      return;
    }
    const r: Received = {
      method: req.method ?? "",
      url: req.url ?? "",
      rawHeaders: req.rawHeaders,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    received.push(r);
    res.on("error", () => {});
    if (handler) return await handler(r, res);
    const text = JSON.stringify({
      method: r.method,
      url: r.url,
      headers: r.rawHeaders,
      body: r.body.toString("utf8"),
    });
    res.writeHead(200, { "Content-Type": "application/json", "X-Origin": "echo" });
    res.end(text);
  });
  server.on("connection", (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    connections: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The pairs of a flat [name, value, ...] list. */
export function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

/** Parses `curl -i` output (possibly with interim responses) into the last response. */
export function parseCurlI(stdout: string): {
  status: number;
  reason: string;
  headers: [string, string][];
  body: string;
} {
  let rest = stdout;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) throw new Error(`no response head in ${JSON.stringify(stdout)}`);
    const head = rest.slice(0, end);
    const body = rest.slice(end + 4);
    const [statusLine, ...lines] = head.split("\r\n");
    const m = /^HTTP\/\d(?:\.\d)? (\d{3}) ?(.*)$/.exec(statusLine);
    if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const status = Number(m[1]);
    if (status >= 100 && status < 200) {
      rest = body;
      continue;
    }
    const headers = lines.map((l): [string, string] => {
      const i = l.indexOf(":");
      return [l.slice(0, i), l.slice(i + 1).trim()];
    });
    return { status, reason: m[2], headers, body };
  }
}
