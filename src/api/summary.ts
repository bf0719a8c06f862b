/** The short form of a flow that lists and live events carry (the whole flow is serialize.ts). */
import type { Flow } from "../flow/flow.ts";

export type Phase = "request" | "response";

export interface FlowSummary {
  id: string;
  request: {
    method: string;
    scheme: string;
    host: string;
    port: number;
    path: string;
    url: string;
    httpVersion: string;
    contentType: string | null;
    bodySize: number;
  };
  response: {
    status: number;
    reason: string;
    contentType: string | null;
    bodySize: number;
  } | null;
  error: string | null;
  timestamps: {
    start: number;
    requestEnd: number | null;
    responseStart: number | null;
    end: number | null;
  };
  /** Milliseconds from the request's start to the response's end, once there is one. */
  duration: number | null;
  isReplay: boolean;
  marked: boolean;
  /** A person's note on the flow ("" when none). */
  comment: string;
  /** Where the flow is paused by interception, or null. */
  intercepted: Phase | null;
  /** For a WebSocket flow: how many messages so far, and the close code once it has closed. */
  websocket: { messages: number; closeCode: number | null; closed: boolean } | null;
}

export function summarize(flow: Flow, intercepted: Phase | null): FlowSummary {
  const req = flow.request;
  const res = flow.response;
  const end = res?.timestampEnd ?? flow.error?.timestamp ?? null;
  return {
    id: flow.id,
    request: {
      method: req.method,
      scheme: req.scheme,
      host: req.host,
      port: req.port,
      path: req.path,
      url: req.url,
      httpVersion: req.httpVersion,
      contentType: req.headers.get("content-type") ?? null,
      bodySize: req.bodySize,
    },
    response: res === null ? null : {
      status: res.status,
      reason: res.reason,
      contentType: res.headers.get("content-type") ?? null,
      bodySize: res.bodySize,
    },
    error: flow.error?.message ?? null,
    timestamps: {
      start: req.timestampStart,
      requestEnd: req.timestampEnd,
      responseStart: res?.timestampStart ?? null,
      end,
    },
    duration: end === null ? null : Math.max(0, end - req.timestampStart),
    isReplay: flow.isReplay,
    marked: flow.marked,
    comment: flow.comment,
    intercepted,
    websocket: flow.websocket === null ? null : {
      messages: flow.websocket.messages.length,
      closeCode: flow.websocket.closeCode,
      closed: flow.websocket.timestampEnd !== null,
    },
  };
}
