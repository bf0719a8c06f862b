/** @jsxImportSource preact */
/**
 * The details pane of one flow: tabs for the request, the response, the connection, the timing
 * (a waterfall from the flow's timestamps) and WebSocket messages, with the actions on top.
 */
import { useState } from "preact/hooks";
import { cookiePairs, queryPairs, setCookieRows } from "../contentviews/mod.ts";
import { flowPath } from "./api.ts";
import { BodyView } from "./body_view.tsx";
import { CommentEditor } from "./comment.tsx";
import { Editor } from "./editor.tsx";
import { clock, dateTime, headerValues, requestTarget, size } from "./format.ts";
import type { CertificateInfo, FlowDetail, Headers, Message, Peer } from "./types.ts";
import { Waterfall } from "./waterfall.tsx";
import { WebSocketMessages } from "./websocket.tsx";

export interface DetailActions {
  replay(): void;
  remove(): void;
  toggleMark(): void;
  resume(): void;
  kill(): void;
  copyAs(format: string): void;
  resumed(): void;
  /** Sets the focused flow's comment ("" deletes it); false when the proxy refused. */
  setComment(text: string): Promise<boolean>;
}

type Tab = "request" | "response" | "connection" | "timing" | "websocket";

export function Details(props: { flow: FlowDetail; actions: DetailActions; version: number }) {
  const { flow, actions } = props;
  const [tab, setTab] = useState<Tab>(flow.response ? "response" : "request");
  const [editing, setEditing] = useState<string | null>(null);
  const base = flowPath(flow.id);
  const target = requestTarget(flow.request);
  const tabs: Tab[] = ["request", "response", "connection", "timing"];
  if (flow.websocket) tabs.push("websocket");
  const shown = tabs.includes(tab) ? tab : "request";
  const version = String(props.version);

  if (editing === "resend" || (editing === flow.id && flow.intercepted)) {
    return (
      <Editor
        flow={flow}
        resend={editing === "resend"}
        onDone={() => {
          setEditing(null);
          actions.resumed();
        }}
        onCancel={() => setEditing(null)}
      />
    );
  }
  return (
    <div class="details-inner">
      <div class="actions">
        {flow.intercepted
          ? (
            <>
              <span class="paused-note">Paused at its {flow.intercepted}.</span>
              <button type="button" id="resume" onClick={actions.resume}>Resume (a)</button>
              <button type="button" id="edit" onClick={() => setEditing(flow.id)}>Edit</button>
              <button type="button" id="kill" onClick={actions.kill}>Kill</button>
            </>
          )
          : null}
        <button type="button" id="replay" onClick={actions.replay}>Replay (r)</button>
        <button type="button" id="resend" onClick={() => setEditing("resend")}>
          Edit and resend
        </button>
        <button type="button" id="mark" onClick={actions.toggleMark}>
          {flow.marked ? "Unmark (m)" : "Mark (m)"}
        </button>
        <select
          id="copy-as"
          value=""
          onChange={(e) => {
            const v = (e.currentTarget as HTMLSelectElement).value;
            (e.currentTarget as HTMLSelectElement).value = "";
            if (v) actions.copyAs(v);
          }}
        >
          <option value="">Copy as…</option>
          <option value="curl">curl</option>
          <option value="fetch">fetch</option>
          <option value="httpie">HTTPie</option>
          <option value="raw">raw HTTP</option>
        </select>
        <button type="button" id="delete" onClick={actions.remove}>Delete (d)</button>
      </div>
      <h2 class="url" title={target}>
        {flow.request.method} {target}
      </h2>
      {flow.error ? <p class="error">Error: {flow.error.message}</p> : null}
      <CommentEditor comment={flow.comment ?? ""} onSave={actions.setComment} />
      <nav class="tabs">
        {tabs.map((t) => (
          <button
            type="button"
            class={t === shown ? "tab active" : "tab"}
            data-tab={t}
            onClick={() => setTab(t)}
          >
            {t}
          </button>
        ))}
      </nav>
      {shown === "request"
        ? (
          <div class="tab-body">
            <pre class="line">
              {flow.request.method} {target} {flow.request.httpVersion}
            </pre>
            <HeaderTable headers={flow.request.headers} />
            <PairTable title="Query" pairs={queryPairs(flow.request.url)} />
            <PairTable
              title="Cookies"
              pairs={cookiePairs(headerValues(flow.request.headers, "cookie"))}
            />
            <BodyView
              url={`${base}/request/body`}
              message={flow.request}
              version={version}
              path={flow.request.path}
              side="request"
            />
          </div>
        )
        : null}
      {shown === "response"
        ? (
          <div class="tab-body">
            {flow.response
              ? (
                <>
                  <pre class="line">
                    {flow.response.httpVersion} {flow.response.status} {flow.response.reason}
                  </pre>
                  <HeaderTable headers={flow.response.headers} />
                  <SetCookies headers={flow.response.headers} />
                  <BodyView
                    url={`${base}/response/body`}
                    message={flow.response}
                    version={version}
                    path={flow.request.path}
                    side="response"
                  />
                </>
              )
              : <p class="muted">{flow.error ? "No response." : "Not yet."}</p>}
          </div>
        )
        : null}
      {shown === "connection" ? <Connection flow={flow} /> : null}
      {shown === "timing" ? <Timing flow={flow} /> : null}
      {shown === "websocket" ? <WebSocketMessages flow={flow} /> : null}
    </div>
  );
}

export function HeaderTable({ headers }: { headers: Headers }) {
  return (
    <table class="headers">
      <tbody>
        {headers.map(([n, v]) => (
          <tr>
            <th>{n}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PairTable({ title, pairs }: { title: string; pairs: [string, string][] }) {
  if (!pairs.length) return null;
  return (
    <>
      <h3>{title}</h3>
      <table class={`pairs ${title.toLowerCase()}`}>
        <tbody>
          {pairs.map(([n, v]) => (
            <tr>
              <th>{n}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function SetCookies({ headers }: { headers: Headers }) {
  const rows = setCookieRows(headerValues(headers, "set-cookie"));
  if (!rows.length) return null;
  return (
    <>
      <h3>Set-Cookie</h3>
      <table class="pairs set-cookies">
        <tbody>
          {rows.map(([n, v, attrs]) => (
            <tr>
              <th>{n}</th>
              <td>{v}</td>
              <td class="muted">{attrs}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function PeerRows({ label, peer }: { label: string; peer: Peer | null }) {
  if (!peer) {
    return (
      <tr>
        <th>{label}</th>
        <td class="muted">no connection was made</td>
      </tr>
    );
  }
  const tls = peer.tls;
  const rows: [string, string][] = [[label, `${peer.address}:${peer.port}`]];
  if (tls) {
    rows.push([`${label} TLS version`, tls.version ?? "-"]);
    if (tls.cipher) rows.push([`${label} cipher`, tls.cipher]);
    rows.push([`${label} SNI`, tls.sni ?? "-"]);
    rows.push([`${label} ALPN`, tls.alpn ?? "-"]);
  } else rows.push([`${label} TLS`, "none (plain TCP)"]);
  if (peer.reused) rows.push([`${label} connection`, "reused from an earlier request"]);
  return (
    <>
      {rows.map(([n, v]) => (
        <tr>
          <th>{n}</th>
          <td>{v}</td>
        </tr>
      ))}
    </>
  );
}

function Connection({ flow }: { flow: FlowDetail }) {
  const chain = flow.server?.tls?.certificates ?? [];
  return (
    <div class="tab-body connection">
      <table class="headers">
        <tbody>
          <PeerRows label="client" peer={flow.client} />
          <PeerRows label="server" peer={flow.server} />
        </tbody>
      </table>
      {chain.length > 0 ? <h3>Origin certificate chain</h3> : null}
      {chain.map((cert, i) => <CertificateTable key={i} cert={cert} position={i} />)}
    </div>
  );
}

/** One certificate of the origin's chain (position 0 is the origin's own). */
function CertificateTable({ cert, position }: { cert: CertificateInfo; position: number }) {
  const rows: [string, string][] = [
    ["subject", cert.subject],
    ["issuer", cert.issuer],
    ["valid from", cert.notBefore ?? "-"],
    ["valid until", cert.notAfter ?? "-"],
    ["SHA-256", fingerprint(cert.sha256)],
  ];
  if (cert.altNames.length > 0) rows.push(["names", cert.altNames.join(", ")]);
  return (
    <table class="headers cert" data-cert={position}>
      <caption>{position === 0 ? "origin" : `issuer ${position}`}</caption>
      <tbody>
        {rows.map(([n, v]) => (
          <tr>
            <th>{n}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "ab12..." as "AB:12:...", the way browsers show fingerprints. */
function fingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(":");
}

function Timing({ flow }: { flow: FlowDetail }) {
  const req = flow.request, res = flow.response;
  const end = res?.timestampEnd ?? flow.error?.timestamp ?? null;
  const rows: [string, string][] = [
    ["request start", dateTime(req.timestampStart)],
    ["request end", dateTime(req.timestampEnd)],
    ["response start", dateTime(res?.timestampStart)],
    ["response end", dateTime(res?.timestampEnd)],
    ["duration", end ? `${end - req.timestampStart} ms` : "-"],
  ];
  return (
    <div class="tab-body timing">
      <Waterfall flow={flow} />
      <table class="headers">
        <tbody>
          {rows.map(([n, v]) => (
            <tr>
              <th>{n}</th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function messageSummary(m: Message): string {
  return `${size(m.bodySize)} at ${clock(m.timestampStart)}`;
}
