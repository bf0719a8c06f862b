/**
 * The MCP tools: what each does, its arguments (zod, sent to clients as JSON Schema) and how its
 * answer reads. They reach the proxy only through a ControlApi, so /mcp and `mitm mcp` share them.
 * A failure is a tool error (isError) with one sentence saying what to do.
 */
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { isOptionName, OPTION_SPECS, parseOptionValue } from "../options.ts";
import { requestChangesSchema, responseChangesSchema, toEdit } from "./changes.ts";
import { ApiError, type ControlApi, type FlowDetail } from "./control_api.ts";
import { diffFlows, type DiffSide } from "./diff.ts";
import { type BodyText, contentTypeOf, flowText, summaryLine, summaryOf } from "./format.ts";
import { flowsAfter, newestFlows } from "./flow_pages.ts";
import { boundedHar } from "./har_bound.ts";

/** Body bytes a call returns unless it asks for another bound. */
export const DEFAULT_BODY_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_HAR_BYTES = 4 * 1024 * 1024;
/** How long replay_flow waits for the answer before saying it is still under way. */
const REPLAY_WAIT_MS = 30_000;

/** A mistake the agent can fix; its message is the one sentence it gets. */
export class ToolError extends Error {}

export interface ToolEvents {
  /** Told of each call's name and, when it failed, the sentence returned. */
  called?(name: string, error: string | null): void;
}

const flowId = z.string().min(1).describe("a flow id, as list_flows shows it");
const filterArg = z.string().describe(
  "mitmproxy filter expression, e.g. '~d example\\.com & ~m POST', '~c 500', " +
    "'~u /api/ & ~t json', " +
    "'!~s' (no response yet); a bare regex matches the URL",
);
const bodyBytes = z.number().int().min(0).max(MAX_BODY_BYTES).describe(
  `body bytes to return in all, default ${DEFAULT_BODY_BYTES} (at most ${MAX_BODY_BYTES})`,
);

export function registerTools(server: McpServer, api: ControlApi, events: ToolEvents = {}): void {
  const tool = <S extends z.ZodRawShape>(
    name: string,
    description: string,
    inputSchema: S,
    readOnly: boolean,
    run: (args: z.infer<z.ZodObject<S>>) => Promise<string>,
  ) => {
    server.registerTool(
      name,
      { description, inputSchema, annotations: { readOnlyHint: readOnly, openWorldHint: false } },
      // deno-lint-ignore no-explicit-any
      (async (args: any): Promise<CallToolResult> => {
        try {
          const text = await run(args);
          events.called?.(name, null);
          return { content: [{ type: "text", text }] };
        } catch (e) {
          const sentence = explain(e);
          events.called?.(name, sentence);
          return { content: [{ type: "text", text: sentence }], isError: true };
        }
      }) as never,
    );
  };

  tool(
    "list_flows",
    "List the HTTP flows (request + response) the proxy has captured, one line each: id, method, " +
      "URL, status, content type, size, duration, and marks like [paused at request] or [error]. " +
      "Without cursor it shows the newest `limit` matches; the answer ends with a cursor: pass " +
      "it back to list only flows that arrived after those (to page forward or to watch for new " +
      "traffic). Read one flow with get_flow.",
    {
      filter: filterArg.optional(),
      limit: z.number().int().min(1).max(1000).optional().describe("at most this many, default 50"),
      cursor: z.string().optional().describe("from a previous list_flows answer"),
    },
    true,
    async ({ filter, limit = 50, cursor }) => {
      const { shown, matching, stats: list } = cursor
        ? await flowsAfter(api, filter, cursor, limit)
        : await newestFlows(api, filter, limit);
      const lines: string[] = [];
      const what = filter ? ` matching ${JSON.stringify(filter)}` : "";
      if (shown.length === 0) {
        lines.push(
          cursor
            ? `No flows${what} arrived after the cursor yet; call again later with the same ` +
              "cursor."
            : `No flows${what} (the proxy keeps ${list.count}).`,
        );
      } else {
        const since = cursor ? " that arrived after the cursor" : "";
        lines.push(`${shown.length} of ${matching} flows${since}${what}:`);
        lines.push(...shown.map(summaryLine));
        const hidden = matching - shown.length;
        if (hidden > 0 && cursor) lines.push(`${hidden} newer ones follow: pass the cursor below.`);
        if (hidden > 0 && !cursor) {
          lines.push(`${hidden} older ones are not shown: narrow the filter or raise limit.`);
        }
      }
      if (list.dropped > 0) {
        lines.push(
          `(${list.dropped} old flows were dropped to stay within flow_store_max_bytes)`,
        );
      }
      if (list.paused > 0) {
        lines.push(
          `${list.paused} flows are paused by interception: resume_flow or kill_flow them.`,
        );
      }
      const next = shown.at(-1)?.id ?? cursor;
      if (next) lines.push(`cursor: ${next}`);
      return lines.join("\n");
    },
  );

  tool(
    "get_flow",
    "Show one flow as HTTP: request line, headers and body, then the response. Bodies are " +
      "decoded (gzip, br, deflate, zstd undone) and shown as text; binary ones as a short hex " +
      "preview. Bodies are cut at max_body_bytes in all (default 64 KiB) with a note saying so.",
    { id: flowId, max_body_bytes: bodyBytes.optional() },
    true,
    async ({ id, max_body_bytes = DEFAULT_BODY_BYTES }) => {
      const flow = await api.getFlow(id);
      const resSize = flow.response?.bodySize ?? 0;
      // The request may use what the response does not need, and the other way round.
      const reqLimit = Math.min(
        max_body_bytes,
        Math.max(Math.ceil(max_body_bytes / 2), max_body_bytes - resSize),
      );
      const request = await bodyOf(api, flow, "request", reqLimit);
      const used = "read" in request ? request.read.bytes.length : 0;
      const response = flow.response === null
        ? null
        : await bodyOf(api, flow, "response", Math.max(0, max_body_bytes - used));
      return flowText(flow, { request, response });
    },
  );

  tool(
    "replay_flow",
    "Send a captured request again through the proxy, optionally changed (method, URL, headers, " +
      "body), and wait up to 30 s for the answer. The replay is a new flow (marked [replay]); " +
      "the answer gives its id and status line.",
    { id: flowId, changes: requestChangesSchema.optional() },
    false,
    async ({ id, changes }) => {
      let edits;
      if (changes !== undefined) {
        const original = await api.getFlow(id);
        edits = toEdit(changes, original.request.headers);
      }
      const started = await api.replay(id, edits);
      const flow = await settle(api, started.id);
      const state = flow.response?.timestampEnd != null || flow.error !== null ||
          flow.intercepted !== null
        ? ""
        : "\nThe response has not finished yet: get_flow shows it when it has.";
      return `Replayed ${id} as a new flow:\n${summaryLine(summaryOf(flow))}${state}`;
    },
  );

  tool(
    "set_intercept",
    "Pause flows matching a filter so that you can look at them and change them: each matching " +
      "flow stops when its request has arrived (before the origin sees it) and again when the " +
      "response has arrived (before the client gets it). list_flows marks them [paused at ...]; " +
      "go on with resume_flow (optionally with changes) or kill_flow. An empty filter turns " +
      "interception off (already paused flows stay paused). Clients wait while paused.",
    { filter: filterArg },
    false,
    async ({ filter }) => {
      const now = await api.setIntercept(filter);
      const status = await api.status();
      const paused = status.paused > 0 ? ` ${status.paused} flows are paused now.` : "";
      return now === ""
        ? `Interception is off.${paused}`
        : `Intercepting flows matching ${JSON.stringify(now)}.${paused} Find paused ones with ` +
          `list_flows, then resume_flow or kill_flow them.`;
    },
  );

  tool(
    "resume_flow",
    "Let a flow paused by interception go on, optionally changed: `changes.request` for a flow " +
      "paused at its request (method, URL, headers, body), `changes.response` for one paused at " +
      "its response (status, reason, headers, body). A flow that still matches the intercept " +
      "filter pauses again at its response.",
    {
      id: flowId,
      changes: z.strictObject({
        request: requestChangesSchema.optional(),
        response: responseChangesSchema.optional(),
      }).optional(),
    },
    false,
    async ({ id, changes }) => {
      const flow = await api.getFlow(id);
      if (flow.intercepted === null) {
        throw new ToolError(
          `Flow ${id} is not paused, so there is nothing to resume; set_intercept pauses flows.`,
        );
      }
      const edits: Parameters<ControlApi["resume"]>[1] = {};
      if (changes?.request) edits.request = toEdit(changes.request, flow.request.headers);
      if (changes?.response) {
        edits.response = toEdit(changes.response, flow.response?.headers ?? []);
      }
      await api.resume(id, edits);
      return `Resumed flow ${id} (it was paused at its ${flow.intercepted}).`;
    },
  );

  tool(
    "kill_flow",
    "Drop a flow paused by interception: its client connection is closed and nothing more is " +
      "sent for it.",
    { id: flowId },
    false,
    async ({ id }) => {
      await api.kill(id);
      return `Killed flow ${id}.`;
    },
  );

  tool(
    "get_options",
    "Show the proxy options that can be changed while it runs, with their values and meaning.",
    {},
    true,
    async () => {
      const values = await api.options();
      return Object.entries(values).map(([name, value]) => {
        const help = isOptionName(name) ? ` - ${OPTION_SPECS[name].help}` : "";
        return `${name} = ${JSON.stringify(value)}${help}`;
      }).join("\n");
    },
  );

  tool(
    "set_option",
    "Change one run-time option (see get_options), e.g. intercept, ignore_hosts, allow_hosts, " +
      "flow_store_max_bytes, stream_large_bodies, ssl_insecure, connect_timeout. Text is " +
      'read like --set ("4m", "true"); list options take a list of strings.',
    {
      name: z.string().min(1).describe("the option's name, e.g. ssl_insecure"),
      value: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).describe(
        "the new value",
      ),
    },
    false,
    async ({ name, value }) => {
      let parsed: unknown = value;
      if (typeof value === "string" && isOptionName(name) && OPTION_SPECS[name].type !== "string") {
        parsed = parseOptionValue(name, value);
      }
      const values = await api.setOptions({ [name]: parsed });
      return `${name} = ${JSON.stringify(values[name])}`;
    },
  );

  tool(
    "export_har",
    "Export the kept flows (optionally only those matching a filter) as HAR 1.2 JSON. When it " +
      "is larger than max_bytes, the largest bodies are left out (with a comment) until it fits.",
    {
      filter: filterArg.optional(),
      max_bytes: z.number().int().min(1024).max(MAX_HAR_BYTES).optional().describe(
        `size bound of the answer, default ${DEFAULT_BODY_BYTES} (at most ${MAX_HAR_BYTES})`,
      ),
    },
    true,
    async ({ filter, max_bytes = DEFAULT_BODY_BYTES }) => {
      const result = boundedHar(await api.har(filter), max_bytes);
      if (result === null) {
        throw new ToolError(
          `The HAR is larger than max_bytes (${max_bytes}) even without bodies; narrow the ` +
            `filter or raise max_bytes.`,
        );
      }
      return result;
    },
  );

  tool(
    "diff_flows",
    "Compare two flows: method, URL, status, error, request and response headers (added, " +
      "removed, changed) and decoded bodies (changed lines for text). Useful to see what a " +
      "replay or a different client changed.",
    { a: flowId, b: flowId, max_body_bytes: bodyBytes.optional() },
    true,
    async ({ a, b, max_body_bytes = DEFAULT_BODY_BYTES }) => {
      const each = Math.floor(max_body_bytes / 4);
      const side = async (id: string): Promise<DiffSide> => {
        const flow = await api.getFlow(id);
        const read = async (part: "request" | "response") => {
          if (part === "response" && flow.response === null) return null;
          const r = await api.readBody(id, part, each);
          return r === null ? null : { bytes: r.bytes, complete: r.bytes.length === r.total };
        };
        return { flow, requestBody: await read("request"), responseBody: await read("response") };
      };
      return diffFlows(await side(a), await side(b));
    },
  );
}

async function bodyOf(
  api: ControlApi,
  flow: FlowDetail,
  part: "request" | "response",
  limit: number,
): Promise<BodyText> {
  const message = part === "request" ? flow.request : flow.response!;
  const contentType = contentTypeOf(message.headers);
  if (message.bodySize === 0 && message.timestampEnd !== null) return { note: "(no body)" };
  if (message.streamed) {
    return { note: `(body not kept: ${message.bodySize} bytes streamed through)` };
  }
  const read = await api.readBody(flow.id, part, limit);
  if (read === null) {
    return {
      note: message.timestampEnd === null
        ? "(body not here yet: the message is still arriving)"
        : "(body not kept)",
    };
  }
  return { read, contentType };
}

/** The flow once it has an answer, an error or is paused, or as it is after the wait. */
async function settle(api: ControlApi, id: string): Promise<FlowDetail> {
  const end = Date.now() + REPLAY_WAIT_MS;
  for (;;) {
    const flow = await api.getFlow(id);
    const done = flow.response?.timestampEnd != null || flow.error !== null ||
      flow.intercepted !== null;
    if (done || Date.now() > end) return flow;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One sentence for the agent: what went wrong and what to do. */
export function explain(e: unknown): string {
  if (e instanceof ToolError) return e.message;
  const message = ((e as Error)?.message ?? String(e)).replace(/\s+/g, " ").replace(/\.$/, "");
  if (e instanceof ApiError) {
    if (e.status === 0) return `${cap(message)}; is the proxy running, at that address?`;
    if (e.status === 401) {
      return `The proxy refused the API token (${message}); give the right one with ` +
        `MITM_API_TOKEN or --api-token.`;
    }
    if (e.status === 404 && /^no flow /.test(message)) {
      return `${cap(message)}: it was never there, or was deleted or dropped; list_flows shows ` +
        `the ids kept.`;
    }
    if (/^unknown option /.test(message)) {
      return `${cap(message)}; get_options lists the options that can change while running.`;
    }
    return `${cap(message)}.`;
  }
  return `${cap(message)}.`;
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
