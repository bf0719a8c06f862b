/** Store test helpers: temporary directories and flows made without a proxy. */
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import {
  type TempDir,
  tempDir as newTempDir,
  withTempDir as withTempDirOf,
} from "../fixtures/temp_dir.ts";

export function tempDir(): TempDir {
  return newTempDir("mitm-store-test-");
}

export function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  return withTempDirOf(fn, "mitm-store-test-");
}

const encoder = new TextEncoder();

/** A finished flow: GET https://host<i%7>.example/item/<i>, 200 with a small text body. */
export function makeFlow(i: number, options: { body?: string; status?: number } = {}): Flow {
  const now = 1_700_000_000_000 + i;
  const request = new FlowRequest({
    method: i % 3 === 0 ? "POST" : "GET",
    scheme: "https",
    host: `host${i % 7}.example`,
    port: 443,
    path: `/item/${i}`,
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({ Host: `host${i % 7}.example`, "X-Index": String(i) }),
    timestampStart: now,
  });
  request.body = new Uint8Array(0);
  request.timestampEnd = now;
  const flow = new Flow({ address: "127.0.0.1", port: 50000, tls: null }, request);
  const response = new FlowResponse({
    status: options.status ?? (i % 10 === 0 ? 404 : 200),
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({ "Content-Type": "text/plain" }),
    timestampStart: now + 1,
  });
  response.body = encoder.encode(options.body ?? `body of flow ${i}`);
  response.bodySize = response.body.length;
  response.timestampEnd = now + 2;
  flow.response = response;
  return flow;
}
