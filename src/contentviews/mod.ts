/**
 * Contentviews: how a body is shown to a person (console UI, `mitm read`), chosen by content type
 * or by the user. Each view turns bytes into lines of text; none changes the bytes it shows.
 */
import { utf8OrNull } from "../flow/encoding.ts";
import { hexLines } from "./hex.ts";
import { prettyJson } from "./json_pretty.ts";

export { hexLines } from "./hex.ts";
export { prettyJson } from "./json_pretty.ts";

export const VIEW_NAMES = ["auto", "raw", "json", "urlencoded", "hex"] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export interface Rendered {
  /** The view that was used ("auto" resolves to one of the others). */
  view: Exclude<ViewName, "auto">;
  lines: string[];
  /** Why the view differs from the one asked for, e.g. "not valid JSON". */
  note: string | null;
}

/** The next view in the cycle (the `m` key). */
export function nextView(view: ViewName): ViewName {
  return VIEW_NAMES[(VIEW_NAMES.indexOf(view) + 1) % VIEW_NAMES.length];
}

/** Renders already-decoded body bytes with `view`, falling back to raw or hex when it does not fit. */
export function renderBody(
  bytes: Uint8Array,
  contentType: string | null,
  view: ViewName,
  maxLines = 5000,
): Rendered {
  const chosen = view === "auto" ? autoView(bytes, contentType) : view;
  const text = chosen === "hex" ? null : utf8OrNull(bytes);
  let out: Rendered;
  if (chosen === "hex") out = { view: "hex", lines: hexLines(bytes), note: null };
  else if (text === null) {
    out = { view: "hex", lines: hexLines(bytes), note: "binary: shown as hex" };
  } else if (chosen === "json") {
    const pretty = prettyJson(text);
    out = pretty === null
      ? { view: "raw", lines: splitLines(text), note: "not valid JSON: shown raw" }
      : { view: "json", lines: pretty.split("\n"), note: null };
  } else if (chosen === "urlencoded") {
    out = { view: "urlencoded", lines: formLines(text), note: null };
  } else {
    out = { view: "raw", lines: splitLines(text), note: null };
  }
  if (out.lines.length > maxLines) {
    const more = out.lines.length - maxLines;
    out.lines = [...out.lines.slice(0, maxLines), `[... ${more} more lines]`];
  }
  return out;
}

function autoView(bytes: Uint8Array, contentType: string | null): Exclude<ViewName, "auto"> {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json" || type.endsWith("+json")) return "json";
  if (type === "application/x-www-form-urlencoded") return "urlencoded";
  if (type.startsWith("image/") || type === "application/octet-stream") return "hex";
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b || first === 0x5b) return "json"; // { or [
  return utf8OrNull(bytes) === null ? "hex" : "raw";
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** name = value, one pair a line, percent-decoding undone. */
function formLines(text: string): string[] {
  const pairs = [...new URLSearchParams(text)];
  if (pairs.length === 0) return [];
  const width = Math.min(30, Math.max(...pairs.map(([k]) => k.length)));
  return pairs.map(([k, v]) => `${k.padEnd(width)} = ${v}`);
}
