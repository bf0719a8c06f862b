/** @jsxImportSource preact */
/**
 * Compose a request from scratch: method and URL, headers as a table, a body as text or hex; the
 * proxy sends it (POST /api/requests) and it appears as a new flow.
 */
import { useState } from "preact/hooks";
import { callJson } from "./api.ts";
import { bytesToBase64, utf8 } from "./format.ts";
import { BodyEditor, HeadersEditor } from "./editor.tsx";
import type { Headers, Summary } from "./types.ts";

const EMPTY = new Uint8Array(0);

export function Compose(props: { onSent(flow: Summary): void; onClose(): void }) {
  const [line, setLine] = useState("GET https://");
  const [headers, setHeaders] = useState<Headers>([]);
  const [body, setBody] = useState<Uint8Array>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const send = async () => {
    const text = line.trim();
    const sp = text.indexOf(" ");
    const request: Record<string, unknown> = {
      method: sp < 0 ? "GET" : text.slice(0, sp),
      url: sp < 0 ? text : text.slice(sp + 1).trim(),
      headers: headers.filter(([n]) => n.trim()),
    };
    if (body.length) {
      const t = utf8(body);
      request.body = t !== null ? t : { base64: bytesToBase64(body) };
    }
    try {
      props.onSent(
        await callJson<Summary>("/api/requests", {
          method: "POST",
          json: request,
          what: "Composing a request",
        }),
      );
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div id="compose" class="overlay" onClick={props.onClose}>
      <div class="overlay-box editor" onClick={(e) => e.stopPropagation()}>
        <h2>Compose a request</h2>
        <label for="compose-first">Method and URL</label>
        <input
          id="compose-first"
          value={line}
          onInput={(e) => setLine(e.currentTarget.value)}
        />
        <label>Headers</label>
        <HeadersEditor headers={headers} onChange={setHeaders} />
        <BodyEditor bytes={EMPTY} onChange={setBody} />
        {error ? <p class="error">{error}</p> : null}
        <div class="actions">
          <button type="button" id="compose-send" onClick={send}>Send</button>
          <button type="button" onClick={props.onClose}>Cancel</button>
        </div>
      </div>
    </div>
  );
}
