/** @jsxImportSource preact */
/**
 * A text/event-stream body as a table, one row per event (number, type, id, retry, data), parsed
 * by the shared contentview (src/contentviews/sse.ts) as a browser's EventSource would.
 */
import { parseSse } from "../contentviews/mod.ts";

export function SseEvents({ bytes, open }: { bytes: Uint8Array; open: boolean }) {
  const { events, incomplete } = parseSse(new TextDecoder().decode(bytes));
  const rows = incomplete ? [...events, incomplete] : events;
  return (
    <table class="sse-events">
      <thead>
        <tr>
          <th>#</th>
          <th>event</th>
          <th>id</th>
          <th>retry</th>
          <th>data</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e, i) => {
          const unfinished = e === incomplete;
          return (
            <tr class={unfinished ? "sse-unfinished" : e.event ? "sse-event" : "sse-comment"}>
              <td>{unfinished ? "…" : i + 1}</td>
              <td>{e.event || <span class="muted">(comment)</span>}</td>
              <td>{e.id}</td>
              <td>{e.retry === null ? "" : `${e.retry} ms`}</td>
              <td>
                <pre>{e.event ? e.data : e.comments.map((c) => `: ${c}`).join("\n")}</pre>
                {unfinished
                  ? (
                    <span class="muted">
                      {open ? "still being written" : "cut off: no blank line ended it"}
                    </span>
                  )
                  : null}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
