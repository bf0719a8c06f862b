/** Helpers for the replay and rewrite tests: recorded flows built by hand, temp dirs. */
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { type TempDir, tempDir as newTempDir } from "../fixtures/temp_dir.ts";

const utf8 = new TextEncoder();

export interface FlowInit {
  method?: string;
  url: string;
  headers?: [string, string][];
  body?: string;
  status?: number;
  responseBody?: string;
  responseHeaders?: [string, string][];
}

/** A finished flow for `url` whose response says `responseBody`. */
export function recordedFlow(init: FlowInit): Flow {
  const request = new FlowRequest({
    method: init.method ?? "GET",
    scheme: "http",
    host: "",
    port: 80,
    path: "/",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from(init.headers ?? []),
    timestampStart: Date.now(),
  });
  request.url = init.url;
  request.body = utf8.encode(init.body ?? "");
  request.bodySize = request.body.length;
  const flow = new Flow({ address: "127.0.0.1", port: 40000, tls: null }, request);
  const response = new FlowResponse({
    status: init.status ?? 200,
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from(init.responseHeaders ?? [["Content-Type", "text/plain"]]),
    timestampStart: Date.now(),
  });
  response.body = utf8.encode(init.responseBody ?? "");
  response.bodySize = response.body.length;
  flow.response = response;
  return flow;
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = "mitm-replay-"): TempDir {
  return newTempDir(prefix);
}

/** The response body of a flow as text. */
export function bodyText(flow: Flow | null): string | null {
  return flow?.response?.text() ?? null;
}
