/** An origin that records exactly what it received, and a way to run the snippets. */
import http from "node:http";
import process from "node:process";
import { Flow, FlowRequest } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { listenLocal, run, type RunResult } from "../e2e/helpers.ts";

export interface Received {
  method: string;
  url: string;
  /** [name, value] pairs as sent (values as Latin-1 text). */
  headers: [string, string][];
  body: Uint8Array;
}

export interface RecordingOrigin {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

export async function recordingOrigin(): Promise<RecordingOrigin> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => {
      const headers: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      }
      received.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers,
        body: new Uint8Array(Buffer.concat(chunks)),
      });
      res.setHeader("Connection", "close");
      res.end("received");
    });
  });
  return { ...await listenLocal(server), received };
}

/** The environment without proxy variables: the snippets must reach the origin directly. */
export function directEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/_proxy$/i.test(k)) env[k] = v;
  }
  return env;
}

/** Runs a shell snippet with POSIX sh (dash on Debian). */
export function runShell(script: string): Promise<RunResult> {
  return run("sh", ["-c", script], { env: directEnv(), timeoutMs: 60_000 });
}

export function makeRequest(init: {
  method: string;
  url: string;
  headers: [string, string][];
  body?: Uint8Array | null;
}): Flow {
  const u = new URL(init.url);
  const request = new FlowRequest({
    method: init.method,
    scheme: u.protocol === "https:" ? "https" : "http",
    host: u.hostname,
    port: Number(u.port || (u.protocol === "https:" ? 443 : 80)),
    path: init.url.slice(init.url.indexOf("/", u.protocol.length + 2)),
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from(init.headers),
    timestampStart: Date.now(),
  });
  request.body = init.body ?? null;
  request.bodySize = init.body?.length ?? 0;
  return new Flow({ address: "127.0.0.1", port: 1, tls: null }, request);
}
