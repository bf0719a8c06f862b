/** @jsxImportSource preact */
/**
 * Editing a paused flow before it goes on. Binary-safe: the body is sent only if it was changed,
 * so changing a status leaves an image's bytes alone; bytes that are not UTF-8 are edited as hex
 * and sent as base64 (which needs a proxy that takes `{"base64": ...}` bodies). Headers are a table.
 */
import { useEffect, useState } from "preact/hooks";
import { call, callJson, flowPath } from "./api.ts";
import { bytesToBase64, fromHex, toHex, utf8 } from "./format.ts";
import type { FlowDetail, Headers } from "./types.ts";

export function HeadersEditor(props: { headers: Headers; onChange(h: Headers): void }) {
  const { headers, onChange } = props;
  const set = (i: number, j: 0 | 1, v: string) => {
    const next = headers.map((p) => [...p] as [string, string]);
    next[i][j] = v;
    onChange(next);
  };
  return (
    <table class="headers-editor">
      <tbody>
        {headers.map(([n, v], i) => (
          <tr class="edit-header">
            <td>
              <input class="h-name" value={n} onInput={(e) => set(i, 0, e.currentTarget.value)} />
            </td>
            <td>
              <input class="h-value" value={v} onInput={(e) => set(i, 1, e.currentTarget.value)} />
            </td>
            <td>
              <button
                type="button"
                title="Remove"
                onClick={() => onChange(headers.filter((_, k) => k !== i))}
              >
                ✕
              </button>
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <td colSpan={3}>
            <button type="button" id="add-header" onClick={() => onChange([...headers, ["", ""]])}>
              Add header
            </button>
          </td>
        </tr>
      </tfoot>
    </table>
  );
}

/** A body editor as text or hex; `bytes` null means "not loaded (yet)". */
export function BodyEditor(props: {
  bytes: Uint8Array | null;
  onChange(bytes: Uint8Array): void;
}) {
  const startText = props.bytes ? utf8(props.bytes) : "";
  const [mode, setMode] = useState<"text" | "hex">(startText === null ? "hex" : "text");
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    const b = props.bytes ?? new Uint8Array(0);
    const t = utf8(b);
    const m = t === null ? "hex" : mode;
    setMode(m);
    setText(m === "hex" ? toHex(b) : t!);
  }, [props.bytes]);
  const switchTo = (m: "text" | "hex") => {
    const current = mode === "hex" ? fromHex(text) : new TextEncoder().encode(text);
    if (current === null) return setProblem("fix the hex digits first");
    if (m === "text" && utf8(current) === null) {
      return setProblem("these bytes are not UTF-8 text: edit them as hex");
    }
    setProblem(null);
    setMode(m);
    setText(m === "hex" ? toHex(current) : utf8(current)!);
  };
  return (
    <div class="body-editor">
      <label>
        Body as{" "}
        <select
          id="body-mode"
          value={mode}
          onChange={(e) => switchTo(e.currentTarget.value as "text" | "hex")}
        >
          <option value="text">text</option>
          <option value="hex">hex</option>
        </select>
      </label>
      {problem ? <span class="error">{problem}</span> : null}
      <textarea
        id="edit-body"
        value={text}
        spellcheck={false}
        onInput={(e) => {
          const t = e.currentTarget.value;
          setText(t);
          const bytes = mode === "hex" ? fromHex(t) : new TextEncoder().encode(t);
          setProblem(bytes === null ? "not valid hex: an even number of 0-9a-f digits" : null);
          if (bytes) props.onChange(bytes);
        }}
      />
    </div>
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The body part of an edit: absent when unchanged, text when UTF-8, base64 otherwise. */
export function bodyEdit(
  original: Uint8Array | null,
  edited: Uint8Array | null,
): { body?: string | { base64: string } } {
  if (edited === null || (original !== null && sameBytes(original, edited))) return {};
  const text = utf8(edited);
  return { body: text !== null ? text : { base64: bytesToBase64(edited) } };
}

/**
 * Edits a paused flow's message before Resume, or (`resend`) a finished flow's request to send it
 * again as a new flow (a replay with edits).
 */
export function Editor(props: {
  flow: FlowDetail;
  resend?: boolean;
  onDone(): void;
  onCancel(): void;
}) {
  const { flow } = props;
  const atRequest = props.resend || flow.intercepted === "request";
  const part = atRequest ? "request" : "response";
  const msg = atRequest ? flow.request : flow.response!;
  const [first, setFirst] = useState(
    atRequest
      ? `${flow.request.method} ${flow.request.url}`
      : `${flow.response!.status} ${flow.response!.reason}`,
  );
  const [headers, setHeaders] = useState<Headers>(msg.headers);
  const [original, setOriginal] = useState<Uint8Array | null>(null);
  const [edited, setEdited] = useState<Uint8Array | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!msg.bodySize) return setOriginal(new Uint8Array(0));
    call(`${flowPath(flow.id)}/${part}/body?decode=1`)
      .then((r) => r.arrayBuffer())
      .then((b) => setOriginal(new Uint8Array(b)));
  }, [flow.id]);

  const send = async () => {
    const line = first.trim();
    const sp = line.indexOf(" ");
    const edit: Record<string, unknown> = { headers, ...bodyEdit(original, edited) };
    if (atRequest) {
      edit.method = line.slice(0, sp);
      edit.url = line.slice(sp + 1).trim();
    } else {
      edit.status = Number(line.slice(0, sp < 0 ? line.length : sp));
      edit.reason = sp < 0 ? "" : line.slice(sp + 1);
    }
    try {
      await callJson(`${flowPath(flow.id)}/${props.resend ? "replay" : "resume"}`, {
        method: "POST",
        json: atRequest ? { request: edit } : { response: edit },
      });
      props.onDone();
    } catch (e) {
      const message = (e as Error).message;
      setError(
        typeof edit.body === "object"
          ? `${message} (binary bodies need a newer proxy that takes {"base64": ...})`
          : message,
      );
    }
  };

  return (
    <div class="editor">
      <h2>
        {props.resend ? "Edit the request and send it again" : `Edit the ${part} before it goes on`}
      </h2>
      <label for="edit-first">{atRequest ? "Method and URL" : "Status and reason"}</label>
      <input id="edit-first" value={first} onInput={(e) => setFirst(e.currentTarget.value)} />
      <label>Headers</label>
      <HeadersEditor headers={headers} onChange={setHeaders} />
      {original ? <BodyEditor bytes={original} onChange={setEdited} /> : <p>Loading the body…</p>}
      {error ? <p class="error">{error}</p> : null}
      <div class="actions">
        <button type="button" id="send-edit" onClick={send}>
          {props.resend ? "Send" : "Resume with changes"}
        </button>
        <button type="button" onClick={props.onCancel}>Cancel</button>
      </div>
    </div>
  );
}
