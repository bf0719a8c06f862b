/**
 * Calls to the control API. The session cookie set by `/?token=` authenticates them. A route an
 * older proxy lacks answers 404/405 without a JSON error; that becomes NeedsNewerProxy, so a
 * button can say so instead of failing silently.
 */
export class NeedsNewerProxy extends Error {
  constructor(what: string) {
    super(`${what} needs a newer proxy`);
  }
}

/** Called with a one-line message when the API refuses us for want of the token. */
export let onUnauthorized: (message: string) => void = () => {};
export function setUnauthorizedHandler(fn: (message: string) => void): void {
  onUnauthorized = fn;
}

export interface CallOptions {
  method?: string;
  json?: unknown;
  /** What the call is for, in NeedsNewerProxy's message. */
  what?: string;
}

export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const init: RequestInit = { method: options.method ?? "GET", credentials: "same-origin" };
  if (options.json !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(options.json);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    onUnauthorized(
      "Not logged in: open the address mitm printed at startup (it ends in ?token=...).",
    );
  }
  return res;
}

function isJson(res: Response): boolean {
  return (res.headers.get("content-type") ?? "").includes("json");
}

/**
 * Whether the proxy lacks this route (an older proxy): a 404/405 that is not JSON, or the API's
 * own "no such endpoint" answer. A 404 about a missing flow is not that.
 */
export async function missingRoute(res: Response): Promise<boolean> {
  if (res.status !== 404 && res.status !== 405) return false;
  if (!isJson(res)) return true;
  const body = await res.clone().json().catch(() => null);
  return typeof body?.error === "string" && body.error.startsWith("no such endpoint");
}

/** JSON from the API, or an Error carrying the API's one-line `error`. */
export async function callJson<T>(path: string, options: CallOptions = {}): Promise<T> {
  const res = await call(path, options);
  if (await missingRoute(res)) {
    throw new NeedsNewerProxy(options.what ?? `${options.method ?? "GET"} ${path.split("?")[0]}`);
  }
  const body = isJson(res) ? await res.json() : null;
  if (!res.ok) {
    const error = body && typeof body.error === "string" ? body.error : `HTTP ${res.status}`;
    throw new Error(error);
  }
  return body as T;
}

export function flowPath(id: string): string {
  return `/api/flows/${encodeURIComponent(id)}`;
}

/** Saves bytes or text as a file through a temporary link. */
export function saveFile(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
