/**
 * Interception: flows matching a filter pause at request and at response until resumed (maybe
 * edited) or killed. A paused flow is a hook awaiting a promise, so it holds only its own
 * connection. The hooks are registered only while a filter is set, because an addon with a
 * `request` or `response` hook makes the proxy hold bodies whole for it.
 */
import type { AddonManager } from "../addons/manager.ts";
import type { Addon } from "../addons/types.ts";
import { type Filter, parseFilter } from "../filter/mod.ts";
import type { Flow } from "../flow/flow.ts";
import { base64Decode } from "../flow/serialize.ts";
import { HeaderList } from "../http/headers.ts";
import type { Phase } from "./summary.ts";

/**
 * A body in an edit: text (sent as UTF-8), or `{"base64": ...}` / `{"text": ...}` as in the
 * recording format, so that binary bodies (images) survive an edit byte for byte.
 */
export type EditBody = string | { text: string } | { base64: string };

export interface RequestEdit {
  method?: string;
  /** Absolute http(s) URL: changes scheme, host, port and path. */
  url?: string;
  headers?: [string, string][];
  /** The body, decoded (the message's Content-Encoding is applied again). */
  body?: EditBody;
}

export interface ResponseEdit {
  status?: number;
  reason?: string;
  headers?: [string, string][];
  body?: EditBody;
}

/** The bytes (or text) of a body checked by editBodyProblem. */
export function editBodyValue(body: EditBody): Uint8Array | string {
  if (typeof body === "string") return body;
  return "base64" in body ? base64Decode(body.base64) : body.text;
}

/** What is wrong with an edit's body, or null. */
export function editBodyProblem(body: unknown): string | null {
  if (typeof body === "string") return null;
  const keys = typeof body === "object" && body !== null ? Object.keys(body) : [];
  const o = body as Record<string, unknown>;
  if (keys.length === 1 && typeof o.text === "string") return null;
  if (keys.length === 1 && typeof o.base64 === "string") {
    try {
      base64Decode(o.base64);
      return null;
    } catch (e) {
      return `body.base64: ${(e as Error).message}`;
    }
  }
  return 'body must be a string, {"text": "..."} or {"base64": "..."}';
}

export interface Edits {
  request?: RequestEdit;
  response?: ResponseEdit;
}

interface Paused {
  flow: Flow;
  phase: Phase;
  release: (action: "resume" | "kill", edits: Edits) => void;
}

export class Interceptor {
  readonly #addons: AddonManager;
  readonly #changed: (flow: Flow) => void;
  #filter: Filter | null = null;
  #paused = new Map<string, Paused>();
  #registered: Addon[] = [];
  #update: Promise<void> = Promise.resolve();

  /** `changed` is told when a flow pauses or goes on. */
  constructor(addons: AddonManager, changed: (flow: Flow) => void) {
    this.#addons = addons;
    this.#changed = changed;
  }

  /** The filter's text, "" when interception is off. */
  get filter(): string {
    return this.#filter?.source ?? "";
  }

  get pausedCount(): number {
    return this.#paused.size;
  }

  /** Where the flow is paused, or null. */
  phaseOf(id: string): Phase | null {
    return this.#paused.get(id)?.phase ?? null;
  }

  /** The ids of the paused flows, in the order they paused. */
  pausedIds(): string[] {
    return [...this.#paused.keys()];
  }

  /** The paused flow with this id (it may have left the store). */
  pausedFlow(id: string): Flow | undefined {
    return this.#paused.get(id)?.flow;
  }

  /** Sets the filter ("" turns interception off); throws FilterError for a bad one. */
  setFilter(text: string): Promise<void> {
    const filter = text.trim() === "" ? null : parseFilter(text);
    this.#filter = filter;
    const want = filter !== null;
    // Serialised: two quick changes must not both add the hooks.
    this.#update = this.#update.then(async () => {
      const have = this.#registered.length > 0;
      if (want === have) return;
      const fresh = want ? [this.#addon()] : [];
      await this.#addons.replace(this.#registered, fresh);
      this.#registered = fresh;
    });
    return this.#update;
  }

  /** Lets a paused flow go on, with the edits applied; false if it is not paused. */
  resume(id: string, edits: Edits = {}): boolean {
    return this.#release(id, "resume", edits);
  }

  /** Drops a paused flow's client connection; false if it is not paused. */
  kill(id: string): boolean {
    return this.#release(id, "kill", {});
  }

  /** Kills every paused flow (at shutdown: a paused hook would keep the proxy from closing). */
  async close(): Promise<void> {
    for (const id of [...this.#paused.keys()]) this.kill(id);
    await this.setFilter("");
  }

  #release(id: string, action: "resume" | "kill", edits: Edits): boolean {
    const paused = this.#paused.get(id);
    if (paused === undefined) return false;
    this.#paused.delete(id);
    paused.release(action, edits);
    return true;
  }

  #addon(): Addon {
    return {
      name: "intercept",
      request: (flow) => this.#pause(flow, "request"),
      response: (flow) => this.#pause(flow, "response"),
    };
  }

  async #pause(flow: Flow, phase: Phase): Promise<void> {
    if (this.#filter === null || !this.#filter(flow) || flow.killed) return;
    if (phase === "request" && flow.responded) return;
    const { action, edits } = await new Promise<{ action: "resume" | "kill"; edits: Edits }>(
      (resolve) => {
        this.#paused.set(flow.id, {
          flow,
          phase,
          release: (action, edits) => resolve({ action, edits }),
        });
        this.#changed(flow);
      },
    );
    if (action === "kill") flow.kill();
    else applyEdits(flow, phase, edits);
    this.#changed(flow);
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;

/** What is wrong with the edits for a flow paused at `phase`, or null when they can be applied. */
export function editProblem(edits: unknown, phase: Phase): string | null {
  if (typeof edits !== "object" || edits === null || Array.isArray(edits)) {
    return 'the body must be a JSON object like {"request": {...}}';
  }
  const e = edits as Record<string, unknown>;
  if (e.response !== undefined && phase === "request") {
    return "the flow is paused at its request: there is no response to edit yet";
  }
  if (e.request !== undefined && phase === "response") {
    return "the flow is paused at its response: the request was already sent";
  }
  const part = (e.request ?? e.response) as Record<string, unknown> | undefined;
  if (part === undefined) return null;
  if (typeof part !== "object" || part === null) return "request/response must be an object";
  if (part.method !== undefined && !(typeof part.method === "string" && TOKEN.test(part.method))) {
    return "method must be a token such as GET or POST";
  }
  if (
    part.url !== undefined &&
    !(typeof part.url === "string" && /^https?:\/\/[^/?#\s]+/i.test(part.url))
  ) {
    return "url must be an absolute http:// or https:// URL";
  }
  if (
    part.status !== undefined &&
    !(Number.isInteger(part.status) && (part.status as number) >= 100 &&
      (part.status as number) <= 999)
  ) return "status must be a number from 100 to 999";
  if (
    part.reason !== undefined && (typeof part.reason !== "string" || BAD_VALUE.test(part.reason))
  ) {
    return "reason must be a string without line breaks";
  }
  if (part.body !== undefined) {
    const problem = editBodyProblem(part.body);
    if (problem !== null) return problem;
  }
  if (part.headers !== undefined) {
    if (!Array.isArray(part.headers)) return "headers must be a list of [name, value] pairs";
    for (const h of part.headers) {
      if (
        !Array.isArray(h) || h.length !== 2 || typeof h[0] !== "string" || !TOKEN.test(h[0]) ||
        typeof h[1] !== "string" || BAD_VALUE.test(h[1])
      ) return `bad header ${JSON.stringify(h)}: expected ["Name", "value"] without line breaks`;
    }
  }
  return null;
}

/** Applies edits checked by editProblem (also used to change a replayed request). */
export function applyEdits(flow: Flow, phase: Phase, edits: Edits): void {
  if (phase === "request" && edits.request) {
    const r = edits.request;
    const req = flow.request;
    if (r.method !== undefined) req.method = r.method;
    if (r.url !== undefined) req.url = r.url;
    if (r.headers !== undefined) replaceHeaders(req.headers, r.headers);
    if (r.body !== undefined) req.setBody(editBodyValue(r.body));
  }
  if (phase === "response" && edits.response && flow.response) {
    const r = edits.response;
    const res = flow.response;
    if (r.status !== undefined) res.status = r.status;
    if (r.reason !== undefined) res.reason = r.reason;
    if (r.headers !== undefined) replaceHeaders(res.headers, r.headers);
    if (r.body !== undefined) res.setBody(editBodyValue(r.body));
  }
}

/** In place: the proxy may hold a reference to the flow's header list. */
function replaceHeaders(headers: HeaderList, pairs: [string, string][]): void {
  headers.raw.splice(0, headers.raw.length, ...HeaderList.from(pairs).raw);
}
