/**
 * What the UI asks of the proxy for one or several flows. Routes a proxy may not have yet raise
 * NeedsNewerProxy (api.ts), which the UI shows as "... needs a newer proxy".
 */
import { call, callJson, flowPath, saveFile } from "./api.ts";
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
  const res = await call(`${flowPath(id)}/export/${format}`);
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
 * The selected flows as JSON lines in the recording format (`mitm read` and "open" read it),
 * built from GET /api/flows/:id, which every proxy has.
 */
export async function exportJsonl(ids: string[]): Promise<void> {
  const lines: string[] = [];
  for (const id of ids) {
    const { intercepted: _, ...flow } = await callJson<FlowDetail>(flowPath(id));
    lines.push(JSON.stringify(flow));
  }
  saveFile("flows.jsonl", lines.join("\n") + "\n", "application/x-ndjson");
}

/** HAR of the selected flows, made by the proxy. */
export async function exportHar(ids: string[]): Promise<void> {
  const res = await call("/api/flows/export.har", {
    method: "POST",
    json: { ids },
  });
  if (
    (res.status === 404 || res.status === 405) &&
    !/json/.test(res.headers.get("content-type") ?? "")
  ) {
    throw new Error("HAR of a selection needs a newer proxy (JSON lines works)");
  }
  if (!res.ok) throw new Error((await res.json().catch(() => null))?.error ?? `HTTP ${res.status}`);
  saveFile("flows.har", await res.arrayBuffer(), "application/json");
}

/** Sends a recording, HAR or saved session to the proxy, which adds its flows to the list. */
export async function importFile(file: File): Promise<string> {
  const res = await fetch("/api/flows/import", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/octet-stream", "X-File-Name": file.name },
    body: await file.arrayBuffer(),
  });
  if (
    (res.status === 404 || res.status === 405) &&
    !/json/.test(res.headers.get("content-type") ?? "")
  ) {
    throw new Error("Opening files in the UI needs a newer proxy (use `mitm read FILE` meanwhile)");
  }
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error ?? `HTTP ${res.status}`);
  return `opened ${file.name}: ${body?.added ?? body?.count ?? "its"} flows`;
}
