/**
 * The MCP tools' only way to the proxy: the control API of docs/api.md, spoken either to the Hono
 * app in this process (no socket: /mcp and `mitm mcp` with its own proxy) or over HTTP to a
 * running proxy (`mitm mcp --api URL`). Both go through the same routes, checks and messages, so
 * the tools behave the same whichever way they are served. Every use of the API's paths and
 * answer shapes is in this file, so that a change to the API is adapted here alone.
 */
import type { Edits, RequestEdit } from "../api/intercept.ts";
import type { FlowSummary } from "../api/summary.ts";
import type { FlowJson } from "../flow/serialize.ts";
import { directFetch } from "./direct_fetch.ts";

export type { Edits, FlowSummary, RequestEdit };

/** What the API answered with an error status, or why it could not be reached. */
export class ApiError extends Error {
  /** The HTTP status, or 0 when there was no answer. */
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface Stats {
  count: number;
  dropped: number;
  paused: number;
  intercept: string;
}

export interface FlowList extends Stats {
  /** In arrival order: the newest `limit` matches within the cursors. */
  flows: FlowSummary[];
  /** Matching flows in the whole store (the cursors left aside). */
  total: number;
  /** Older matching flows (within the cursors) exist before `flows`. */
  more: boolean;
}

/** A page of /api/flows: the newest `limit` matches after `after` and before `before`. */
export interface ListQuery {
  filter?: string;
  limit?: number;
  after?: string;
  before?: string;
}

/** The whole flow, bodies left out (read them with readBody), and where it is paused. */
export type FlowDetail = FlowJson & { intercepted: "request" | "response" | null };

export interface BodyRead {
  /** The first bytes, at most the limit asked for. */
  bytes: Uint8Array;
  /** Bytes of the whole body (decoded when `decoded`). */
  total: number;
  /** Content-Encoding was undone. */
  decoded: boolean;
  /** Why the decoded form could not be had (then `bytes` are as sent), or null. */
  decodeProblem: string | null;
}

export interface ControlApi {
  status(): Promise<Stats>;
  /** A page of matching flows in arrival order, paged by the store (src/api/store.ts). */
  listFlows(query: ListQuery): Promise<FlowList>;
  getFlow(id: string): Promise<FlowDetail>;
  /** The first `limit` bytes of a kept body, decoded where possible; null when not kept. */
  readBody(id: string, part: "request" | "response", limit: number): Promise<BodyRead | null>;
  /** Sends the flow's request again (edited); resolves with the new flow once it has begun. */
  replay(id: string, edits?: RequestEdit): Promise<FlowSummary>;
  setIntercept(filter: string): Promise<string>;
  resume(id: string, edits: Edits): Promise<void>;
  kill(id: string): Promise<void>;
  options(): Promise<Record<string, unknown>>;
  setOptions(changes: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** HAR 1.2 of the matching kept flows. */
  har(filter?: string): Promise<unknown>;
}

type Fetch = (request: Request) => Response | Promise<Response>;

/**
 * The API of the Hono app in this process (its `fetch`), called with the app's own token. The
 * address is only for the Host check: nothing goes through a socket.
 */
export function inProcessControlApi(fetch: Fetch, token: string): ControlApi {
  return new ControlApiClient(fetch, "http://127.0.0.1", token, "the control API");
}

/** The API of a running proxy at `baseUrl` (its web UI address). */
export function httpControlApi(baseUrl: string, token: string): ControlApi {
  const base = baseUrl.replace(/\/+$/, "");
  return new ControlApiClient(directFetch, base, token, `the API at ${base}`);
}

class ControlApiClient implements ControlApi {
  readonly #fetch: Fetch;
  readonly #base: string;
  readonly #token: string;
  readonly #where: string;

  constructor(fetch: Fetch, base: string, token: string, where: string) {
    this.#fetch = fetch;
    this.#base = base;
    this.#token = token;
    this.#where = where;
  }

  async status(): Promise<Stats> {
    return await this.#json("GET", "/api/status");
  }

  async listFlows(query: ListQuery): Promise<FlowList> {
    const params = new URLSearchParams();
    if (query.filter) params.set("filter", query.filter);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.after) params.set("after", query.after);
    if (query.before) params.set("before", query.before);
    return await this.#json("GET", `/api/flows?${params}`);
  }

  async getFlow(id: string): Promise<FlowDetail> {
    return await this.#json("GET", `/api/flows/${encodeURIComponent(id)}?body_limit=0`);
  }

  async readBody(
    id: string,
    part: "request" | "response",
    limit: number,
  ): Promise<BodyRead | null> {
    const path = `/api/flows/${encodeURIComponent(id)}/${part}/body`;
    let res = await this.#send("GET", `${path}?decode=1`);
    let decodeProblem: string | null = null;
    if (res.status === 422) {
      decodeProblem = (await errorOf(res)) ?? "cannot undo the content-encoding";
      res = await this.#send("GET", path);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw new ApiError(res.status, (await errorOf(res)) ?? `HTTP ${res.status}`);
    const { bytes, total } = await readPrefix(res, limit);
    return { bytes, total, decoded: decodeProblem === null, decodeProblem };
  }

  async replay(id: string, edits?: RequestEdit): Promise<FlowSummary> {
    const body = edits === undefined ? undefined : { request: edits };
    return await this.#json("POST", `/api/flows/${encodeURIComponent(id)}/replay`, body);
  }

  async setIntercept(filter: string): Promise<string> {
    return (await this.#json<{ filter: string }>("PUT", "/api/intercept", { filter })).filter;
  }

  async resume(id: string, edits: Edits): Promise<void> {
    await this.#json("POST", `/api/flows/${encodeURIComponent(id)}/resume`, edits);
  }

  async kill(id: string): Promise<void> {
    await this.#json("POST", `/api/flows/${encodeURIComponent(id)}/kill`);
  }

  async options(): Promise<Record<string, unknown>> {
    return await this.#json("GET", "/api/options");
  }

  async setOptions(changes: Record<string, unknown>): Promise<Record<string, unknown>> {
    return await this.#json("PUT", "/api/options", changes);
  }

  async har(filter?: string): Promise<unknown> {
    const params = new URLSearchParams();
    if (filter) params.set("filter", filter);
    return await this.#json("GET", `/api/flows.har?${params}`);
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#send(method, path, body);
    if (!res.ok) throw new ApiError(res.status, (await errorOf(res)) ?? `HTTP ${res.status}`);
    return await res.json() as T;
  }

  async #send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers = new Headers({ authorization: `Bearer ${this.#token}` });
    if (body !== undefined) headers.set("content-type", "application/json");
    const request = new Request(this.#base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    try {
      return await this.#fetch(request);
    } catch (e) {
      throw new ApiError(0, `cannot reach ${this.#where}: ${(e as Error).message}`);
    }
  }
}

/** The API's one-line error, or null when the answer is not one. */
async function errorOf(res: Response): Promise<string | null> {
  try {
    const body = await res.json() as { error?: unknown };
    return typeof body?.error === "string" ? body.error : null;
  } catch {
    return null;
  }
}

/** The first `limit` bytes of the body, the rest counted but not kept. */
async function readPrefix(
  res: Response,
  limit: number,
): Promise<{ bytes: Uint8Array; total: number }> {
  const kept = new Uint8Array(limit);
  let keptLength = 0;
  let total = 0;
  if (res.body === null) return { bytes: kept.subarray(0, 0), total };
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
    const room = limit - keptLength;
    if (room > 0) {
      const piece = value.subarray(0, room);
      kept.set(piece, keptLength);
      keptLength += piece.length;
    }
  }
  return { bytes: kept.subarray(0, keptLength), total };
}
