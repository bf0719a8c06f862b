/**
 * Server-sent events (text/event-stream): the body parsed into its events the way a browser's
 * EventSource reads it (HTML Living Standard, "9.2.6 Interpreting an event stream"): lines end in
 * CRLF, LF or CR; a blank line dispatches the event; "data" lines join with "\n"; "id" sets the
 * last event id (ignored when it holds NUL); "retry" counts only when all ASCII digits; a line
 * starting with ":" is a comment. An event without data is not dispatched, as in a browser, but
 * a block of only comments is kept here so that keep-alive pings stay visible.
 */
import { NotThisFormat, type ViewLine } from "./types.ts";

export interface SseEvent {
  /** The event's type ("message" when the block had no "event" line). */
  event: string;
  /** The data lines joined with "\n". */
  data: string;
  /** The last event id in force when the event was dispatched ("" for none). */
  id: string;
  /** A reconnection time the block set, in milliseconds, or null. */
  retry: number | null;
  /** Comment lines in the block, without the ":". */
  comments: string[];
}

export interface ParsedSse {
  events: SseEvent[];
  /**
   * What follows the last blank line: an event still being written (the stream is open) or cut
   * off at the end; null when the body ends on a blank line.
   */
  incomplete: SseEvent | null;
}

export function parseSse(text: string): ParsedSse {
  const events: SseEvent[] = [];
  let lastId = "";
  let block = fresh();
  let touched = false;
  let data: string[] | null = null;
  let type = "";
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  // The part after the last line break is an unfinished line: it belongs to the open block.
  const tail = lines.pop() ?? "";
  const dispatch = () => {
    if (data !== null || block.comments.length > 0 || block.retry !== null) {
      // A block with only comments or retry is no event in a browser: kept with an empty type,
      // so that a view can show it as such.
      block.event = data === null ? "" : type || "message";
      block.data = data === null ? "" : data.join("\n");
      block.id = lastId;
      events.push(block);
    }
    block = fresh();
    data = null;
    type = "";
    touched = false;
  };
  const field = (line: string) => {
    touched = true;
    if (line.startsWith(":")) return void block.comments.push(line.slice(1).replace(/^ /, ""));
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") type = value;
    else if (name === "data") (data ??= []).push(value);
    else if (name === "id") {
      if (!value.includes("\0")) lastId = value;
    } else if (name === "retry" && /^[0-9]+$/.test(value)) block.retry = Number(value);
  };
  for (const line of lines) {
    if (line === "") dispatch();
    else field(line);
  }
  if (tail !== "") field(tail);
  let incomplete: SseEvent | null = null;
  if (touched) {
    incomplete = {
      event: data === null ? "" : type || "message",
      data: data === null ? "" : (data as string[]).join("\n"),
      id: lastId,
      retry: block.retry,
      comments: block.comments,
    };
  }
  return { events, incomplete };
}

function fresh(): SseEvent {
  return { event: "", data: "", id: "", retry: null, comments: [] };
}

/** The events as lines: a header per event (number, type, id, retry), then its data lines. */
export function sseView(text: string): ViewLine[] {
  const { events, incomplete } = parseSse(text);
  if (events.length === 0 && incomplete === null && text.trim() !== "") {
    throw new NotThisFormat("no server-sent events");
  }
  const out: ViewLine[] = [];
  const add = (e: SseEvent, label: string) => {
    const head: ViewLine = [{ text: label, kind: "meta" }];
    if (e.event) head.push({ text: " event ", kind: "punct" }, { text: e.event, kind: "key" });
    else head.push({ text: " (no data: not an event)", kind: "comment" });
    if (e.id) head.push({ text: " id ", kind: "punct" }, { text: e.id, kind: "string" });
    if (e.retry !== null) {
      head.push({ text: " retry ", kind: "punct" }, { text: `${e.retry} ms`, kind: "number" });
    }
    out.push(head);
    for (const c of e.comments) out.push([{ text: `  : ${c}`, kind: "comment" }]);
    if (e.event) { for (const line of e.data.split("\n")) out.push([{ text: `  ${line}` }]); }
  };
  events.forEach((e, i) => add(e, `#${i + 1}`));
  if (incomplete) add(incomplete, "(unfinished: no blank line after it yet)");
  if (out.length === 0) out.push([{ text: "(no events)", kind: "meta" }]);
  return out;
}
