/** @jsxImportSource preact */
/** A WebSocket flow's messages: direction, time, type, size and the content (text or hex). */
import { hexLines } from "../contentviews/mod.ts";
import { base64ToBytes, clock, size } from "./format.ts";
import type { FlowDetail, WsMessage } from "./types.ts";

function preview(m: WsMessage): string {
  if (m.content === null) return "(not kept)";
  if ("text" in m.content) return m.content.text;
  return hexLines(base64ToBytes(m.content.base64).subarray(0, 64)).join("\n");
}

export function WebSocketMessages({ flow }: { flow: FlowDetail }) {
  const ws = flow.websocket!;
  return (
    <div class="tab-body websocket">
      <p class="muted">
        {ws.messages.length} messages; {ws.timestampEnd
          ? `closed (${ws.closeCode ?? "-"} ${ws.closeReason ?? ""})`
          : "open: new messages appear live"}
      </p>
      <table class="ws-messages">
        <thead>
          <tr>
            <th>dir</th>
            <th>time</th>
            <th>type</th>
            <th>size</th>
            <th>content</th>
          </tr>
        </thead>
        <tbody>
          {ws.messages.map((m) => (
            <tr class={m.fromClient ? "ws-out" : "ws-in"}>
              <td title={m.fromClient ? "client to server" : "server to client"}>
                {m.fromClient ? "→" : "←"}
              </td>
              <td>{clock(m.timestamp)}</td>
              <td>{m.type}</td>
              <td>{size(m.size)}</td>
              <td>
                <pre>{preview(m)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
