/**
 * What the UI asks of the proxy for one or several flows. Routes a proxy may not have yet raise
 * NeedsNewerProxy (api.ts), which the UI shows as "... needs a newer proxy".
 */
import { call, callJson, flowPath, missingRoute, saveFile } from "./api.ts";
import type { FlowDetail, Summary } from "./types.ts";

export async function replay(id: string): Promise<Summary> {
  return await callJson<Summary>(`${flowPath(id)}/replay`, { method: "POST" });
}

/** Replay with edits to the request (same fields as a resume's). */
export async function resend(id: string, request: Record<string, unknown>): Promise<Summary> {
  return await callJson<Summary>(`${flowPath(id)}/replay`, { method: "POST", json: { request } });
}

export async function remove(id: string): Promise<void> {
  await call(flowPath(id), { method: "DELETE" });
}

export async function setMarked(id: string, marked: boolean): Promise<Summary> {
  return await callJson<Summary>(flowPath(id), {
    method: "PATCH",
    json: { marked },
    what: "Marking",
  });
}

export async function setComment(id: string, comment: string): Promise<Summary> {
  return await callJson<Summary>(flowPath(id), {
    method: "PATCH",
    json: { comment },
    what: "Comments",
  });
}

export async function resume(id: string): Promise<void> {
  await callJson(`${flowPath(id)}/resume`, { method: "POST", json: {} });
}

export async function kill(id: string): Promise<void> {
  await callJson(`${flowPath(id)}/kill`, { method: "POST" });
}

/** "Copy as" text from the proxy's generators (src/export), to put on the clipboard. */
export async function copyAs(id: string, format: string): Promise<string> {
  const res = await call(`${flowPath(id)}/export?format=${encodeURIComponent(format)}`);
  if (
    (res.status === 404 || res.status === 405) &&
    !/json/.test(res.headers.get("content-type") ?? "")
  ) {
    throw new Error(`Copy as ${format} needs a newer proxy`);
  }
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new Error(body?.error ?? `HTTP ${res.status}`);
  }
  return await res.text();
}

/**
 * The selected flows as HAR or JSON lines (the recording format, which `mitm read` and Open file
 * read), made by the proxy. A proxy without POST /api/flows/export still gets JSON lines, built
 * here from GET /api/flows/:id.
 */
export async function exportSelection(ids: string[], format: "har" | "jsonl"): Promise<void> {
  const res = await call("/api/flows/export", { method: "POST", json: { ids, format } });
  const name = format === "har" ? "flows.har" : "flows.jsonl";
  if (await missingRoute(res)) {
    if (format === "har") throw new Error("HAR of a selection needs a newer proxy");
    const lines: string[] = [];
    for (const id of ids) {
      const { intercepted: _, ...flow } = await callJson<FlowDetail>(flowPath(id));
      lines.push(JSON.stringify(flow));
    }
    return saveFile(name, lines.join("\n") + "\n", "application/x-ndjson");
  }
  if (!res.ok) throw new Error((await res.json().catch(() => null))?.error ?? `HTTP ${res.status}`);
  saveFile(name, await res.arrayBuffer(), res.headers.get("content-type") ?? "application/json");
}

/** Sends a recording, HAR or saved session to the proxy, which adds its flows to the list. */
export async function importFile(file: File): Promise<string> {
  const res = await fetch("/api/import", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/octet-stream" },
    body: file,
  });
  if (await missingRoute(res)) {
    throw new Error("Opening files in the UI needs a newer proxy (use `mitm read FILE` meanwhile)");
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error ?? `HTTP ${res.status}`);
  const skipped = body?.skipped ? `, ${body.skipped} skipped` : "";
  return `opened ${file.name}: ${body?.added ?? 0} flows${skipped}`;
}

/** Resumes every paused flow: one call on a newer proxy, else one per flow. */
export async function resumeAll(ids: string[]): Promise<void> {
  const res = await call("/api/intercept/resume", { method: "POST", json: {} });
  if (res.ok) return;
  if (await missingRoute(res)) {
    for (const id of ids) await resume(id);
    return;
  }
  throw new Error((await res.json().catch(() => null))?.error ?? `HTTP ${res.status}`);
}
