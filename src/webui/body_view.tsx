/** @jsxImportSource preact */
/**
 * A message body through the shared contentviews (src/contentviews, the same the console UI and
 * `mitm read` use): a picker, a label when the body was decoded from a Content-Encoding, the
 * rendered lines with each span's kind as a CSS class, and images shown as images.
 */
import { useEffect, useState } from "preact/hooks";
import { renderBody, type Rendered, VIEW_NAMES, type ViewName } from "../contentviews/mod.ts";
import { call } from "./api.ts";
import { headerValues, size } from "./format.ts";
import { refreshProtoSchema, wantsProtoSchema } from "./proto_schema.ts";
import { SseEvents } from "./sse_events.tsx";
import type { Message } from "./types.ts";

/** The view the user picked last, kept for the next body. */
let lastView: ViewName = "auto";

export function BodyView(props: {
  url: string;
  message: Message;
  version: string;
  /** The request's path (naming a gRPC method) and which side this body is, for .proto types. */
  path: string;
  side: "request" | "response";
}) {
  const { message, url } = props;
  const [view, setView] = useState<ViewName>(lastView);
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const [decodedFrom, setDecodedFrom] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  /** Only part of the body has arrived (an open event stream): what came so far. */
  const [partial, setPartial] = useState(false);
  // Still arriving: there may be bytes so far to show (the proxy serves them for event streams).
  const open = message.timestampEnd === null;
  const contentType = headerValues(message.headers, "content-type")[0] ?? null;
  const encoding = headerValues(message.headers, "content-encoding")[0] ?? "";
  /** Bumped when the .proto schema has been fetched, to render again with it. */
  const [, setSchemaSeen] = useState(0);
  const wantsSchema = wantsProtoSchema(contentType, view);
  useEffect(() => {
    if (!wantsSchema) return;
    let live = true;
    refreshProtoSchema().then(() => live && setSchemaSeen((n) => n + 1));
    return () => {
      live = false;
    };
  }, [url, props.version, wantsSchema]);

  useEffect(() => {
    let live = true;
    setProblem(null);
    if (message.streamed || (!message.bodySize && !open)) return setBytes(null);
    (async () => {
      let res = await call(`${url}?decode=1`);
      let decoded = encoding && res.ok ? encoding : null;
      if (!res.ok && open) {
        // Nothing to show yet, or this proxy keeps the body only once it has ended: say which.
        const body = await res.json().catch(() => null);
        if (!live) return;
        setBytes(null);
        setProblem(body?.error ?? `HTTP ${res.status}`);
        return;
      }
      if (!res.ok) {
        // Not decodable (unknown coding): the raw bytes, and say so.
        res = await call(url);
        decoded = null;
        if (encoding) setProblem(`could not undo Content-Encoding ${encoding}: raw bytes shown`);
      }
      const buf = new Uint8Array(await res.arrayBuffer());
      if (!live) return;
      setPartial(res.headers.get("x-body-partial") === "1");
      setDecodedFrom(decoded);
      setBytes(buf);
    })().catch((e) => live && setProblem(String(e.message ?? e)));
    return () => {
      live = false;
    };
  }, [url, props.version]);

  if (message.streamed) {
    return <p class="muted">Body not kept ({size(message.bodySize)}, streamed through).</p>;
  }
  if (!message.bodySize && !open) return <p class="muted">No body.</p>;
  if (open && !bytes) {
    return <p class="muted body-pending">{problem ?? "The body is still arriving."}</p>;
  }

  let rendered: Rendered | null = null;
  let failure: string | null = null;
  if (bytes) {
    try {
      rendered = renderBody(bytes, contentType, view, undefined, {
        path: props.path,
        side: props.side,
        header: (name) => headerValues(message.headers, name)[0] ?? null,
      });
    } catch (e) {
      failure = `this view failed: ${(e as Error).message}`;
    }
  }
  return (
    <div class="body">
      <div class="body-bar">
        <label>
          View{" "}
          <select
            class="view-picker"
            value={view}
            onChange={(e) => {
              lastView = (e.currentTarget as HTMLSelectElement).value as ViewName;
              setView(lastView);
            }}
          >
            {VIEW_NAMES.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
        {rendered ? <span class="muted">shown as {rendered.view}</span> : null}
        {decodedFrom ? <span class="decoded">decoded from {decodedFrom}</span> : null}
        <span class="muted">{size(message.bodySize)}</span>
        <a href={`${url}?download=1`} download class="download">Download</a>
      </div>
      {problem ? <p class="error">{problem}</p> : null}
      {failure ? <p class="error">{failure}</p> : null}
      {partial
        ? (
          <p class="note partial">
            The stream is still open: what arrived so far, refreshed every second.
          </p>
        )
        : null}
      {rendered?.note ? <p class="note">{rendered.note}</p> : null}
      {rendered?.view === "image"
        ? <img class="preview" alt="image preview" src={`${url}?decode=1`} />
        : null}
      {rendered?.view === "sse" && bytes
        ? <SseEvents bytes={bytes} open={open} />
        : rendered
        ? <Lines rendered={rendered} />
        : bytes
        ? null
        : <p class="muted">Loading…</p>}
    </div>
  );
}

function Lines({ rendered }: { rendered: Rendered }) {
  return (
    <pre class={`view ${rendered.view}`}>
      {rendered.lines.map((line) => (
        <div class="line">
          {line.map((s) => (s.kind ? <span class={`k-${s.kind}`}>{s.text}</span> : s.text))}
          {line.length === 0 ? "\n" : null}
        </div>
      ))}
    </pre>
  );
}
