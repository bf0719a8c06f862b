/**
 * The key server replay matches requests on, as mitmproxy's ServerPlayback._hash builds it:
 * method, scheme, host, port, path, query and body, each part left out or narrowed by an option.
 * Recorded requests and live ones go through the same function, so equal keys mean "same request".
 *
 * ```ts
 * const key = matchKey(flow.request, { ...DEFAULT_MATCH_OPTIONS, ignoreHost: true });
 * ```
 */
import { createHash } from "node:crypto";
import type { FlowRequest } from "../flow/flow.ts";

export interface MatchOptions {
  /** server_replay_ignore_host: any host matches. */
  ignoreHost: boolean;
  /** server_replay_ignore_port: any port matches. */
  ignorePort: boolean;
  /** server_replay_ignore_params: query parameters left out of the match. */
  ignoreParams: readonly string[];
  /** server_replay_ignore_payload_params: form or JSON body fields left out of the match. */
  ignorePayloadParams: readonly string[];
  /** server_replay_ignore_content: the body is not compared at all. */
  ignoreContent: boolean;
  /** server_replay_use_headers: request headers that must match too. */
  useHeaders: readonly string[];
}

export const DEFAULT_MATCH_OPTIONS: MatchOptions = {
  ignoreHost: false,
  ignorePort: false,
  ignoreParams: [],
  ignorePayloadParams: [],
  ignoreContent: false,
  useHeaders: [],
};

/** The match key of a request: a string, equal for requests that replay matches together. */
export function matchKey(request: FlowRequest, options: MatchOptions): string {
  const q = request.path.indexOf("?");
  const path = q < 0 ? request.path : request.path.slice(0, q);
  const parts: unknown[] = [request.method.toUpperCase(), request.scheme, path];
  parts.push(options.ignoreHost ? null : request.host.toLowerCase());
  parts.push(options.ignorePort ? null : request.port);
  const ignored = options.ignoreParams;
  const query: string[] = [];
  if (q >= 0) {
    for (const [name, value] of new URLSearchParams(request.path.slice(q + 1))) {
      if (!ignored.includes(name)) query.push(name, value);
    }
  }
  parts.push(query);
  parts.push(options.ignoreContent ? null : bodyPart(request, options.ignorePayloadParams));
  if (options.useHeaders.length > 0) {
    parts.push(options.useHeaders.map((name) => request.headers.getAll(name)));
  }
  return JSON.stringify(parts);
}

/** The body's part of the key: a digest, or the kept fields of a form or JSON body. */
function bodyPart(request: FlowRequest, ignoredFields: readonly string[]): string {
  const body = request.body ?? new Uint8Array(0);
  if (ignoredFields.length > 0 && body.length > 0) {
    const fields = payloadFields(request, ignoredFields);
    if (fields !== null) return fields;
  }
  if (body.length === 0) return "";
  return createHash("sha256").update(body).digest("base64");
}

/**
 * Form (application/x-www-form-urlencoded) or JSON object bodies without the ignored fields; null
 * for other bodies, which are then compared whole.
 */
function payloadFields(request: FlowRequest, ignored: readonly string[]): string | null {
  const type = (request.headers.get("content-type") ?? "").toLowerCase();
  let text: string | null;
  try {
    text = request.text();
  } catch {
    return null; // a Content-Encoding we cannot undo: compare the raw bytes
  }
  if (text === null) return null;
  if (type.includes("application/x-www-form-urlencoded")) {
    const kept: string[] = [];
    for (const [name, value] of new URLSearchParams(text)) {
      if (!ignored.includes(name)) kept.push(name, value);
    }
    return "form:" + JSON.stringify(kept);
  }
  if (type.includes("json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return null;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
    const kept = Object.entries(value as Record<string, unknown>)
      .filter(([name]) => !ignored.includes(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return "json:" + JSON.stringify(kept);
  }
  return null;
}
