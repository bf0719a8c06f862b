/**
 * Sec-WebSocket-Extensions (RFC 6455 9.1) and permessage-deflate's parameters (RFC 7692 7.1).
 *
 * The proxy understands only permessage-deflate (it can inflate those messages for inspection,
 * inflate.ts). Any other extension could give the reserved bits or the payload a meaning the
 * frame parser does not know, so offers of other extensions are removed from the client's
 * request before it is forwarded, and a response accepting one fails the handshake.
 */
import type { HeaderList } from "../http/headers.ts";

export const PERMESSAGE_DEFLATE = "permessage-deflate";

export interface Extension {
  /** Lower-case extension token. */
  name: string;
  /** Parameters in order; a parameter without a value is `true`. */
  params: [string, string | true][];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses a Sec-WebSocket-Extensions value (all of its fields joined with ","). Throws on bad syntax. */
export function parseExtensions(value: string): Extension[] {
  const out: Extension[] = [];
  for (const item of splitOutsideQuotes(value, ",")) {
    if (item.trim() === "") continue;
    const [name, ...rest] = splitOutsideQuotes(item, ";").map((s) => s.trim());
    if (!TOKEN.test(name)) throw new Error(`bad extension name ${JSON.stringify(name)}`);
    const params: [string, string | true][] = [];
    for (const p of rest) {
      const eq = p.indexOf("=");
      const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      if (!TOKEN.test(key)) throw new Error(`bad extension parameter ${JSON.stringify(p)}`);
      if (eq < 0) params.push([key, true]);
      else {
        let v = p.slice(eq + 1).trim();
        if (v.startsWith('"')) {
          if (!v.endsWith('"') || v.length < 2) throw new Error(`unterminated quote in ${p}`);
          v = v.slice(1, -1).replace(/\\(.)/g, "$1");
        }
        if (!TOKEN.test(v)) throw new Error(`bad extension parameter value ${JSON.stringify(p)}`);
        params.push([key, v]);
      }
    }
    out.push({ name: name.toLowerCase(), params });
  }
  return out;
}

/** The header value for these extensions. */
export function formatExtensions(list: readonly Extension[]): string {
  return list.map((e) =>
    [e.name, ...e.params.map(([k, v]) => (v === true ? k : `${k}=${v}`))].join("; ")
  ).join(", ");
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/**
 * Rewrites the client's offers in place so only permessage-deflate offers remain (the field is
 * removed when none does, or when it cannot be parsed). Returns the offers kept.
 */
export function keepOnlyDeflateOffers(headers: HeaderList): Extension[] {
  const value = headers.get("sec-websocket-extensions");
  if (value === undefined) return [];
  let kept: Extension[] = [];
  try {
    kept = parseExtensions(value).filter((e) => e.name === PERMESSAGE_DEFLATE);
  } catch {
    kept = [];
  }
  headers.delete("sec-websocket-extensions");
  if (kept.length > 0) headers.append("Sec-WebSocket-Extensions", formatExtensions(kept));
  return kept;
}

/** Removes every extension offer: the peers then never compress (the other strategy). */
export function removeExtensionOffers(headers: HeaderList): void {
  headers.delete("sec-websocket-extensions");
}

/** What the server accepted: whether messages may be compressed (in both directions). */
export interface NegotiatedExtensions {
  deflate: boolean;
}

/**
 * Checks the server's Sec-WebSocket-Extensions against what was offered: at most one
 * permessage-deflate with valid parameters (RFC 7692 7.1), and nothing else. Throws with the
 * reason otherwise.
 */
export function checkAcceptedExtensions(
  value: string | undefined,
  offered: readonly Extension[],
): NegotiatedExtensions {
  if (value === undefined || value.trim() === "") return { deflate: false };
  const accepted = parseExtensions(value);
  if (accepted.length === 0) return { deflate: false };
  if (accepted.length > 1) throw new Error("the server accepted more than one extension");
  const [ext] = accepted;
  if (ext.name !== PERMESSAGE_DEFLATE) {
    throw new Error(`the server accepted the unsupported extension ${ext.name}`);
  }
  if (!offered.some((o) => o.name === PERMESSAGE_DEFLATE)) {
    throw new Error("the server accepted permessage-deflate, which was not offered");
  }
  const seen = new Set<string>();
  for (const [key, v] of ext.params) {
    if (seen.has(key)) throw new Error(`permessage-deflate parameter ${key} given twice`);
    seen.add(key);
    if (key === "server_no_context_takeover" || key === "client_no_context_takeover") {
      if (v !== true) throw new Error(`${key} takes no value`);
    } else if (key === "server_max_window_bits" || key === "client_max_window_bits") {
      if (v === true || !/^(8|9|1[0-5])$/.test(v)) {
        throw new Error(`${key} must be 8 to 15, not ${v === true ? "empty" : v}`);
      }
    } else throw new Error(`unknown permessage-deflate parameter ${key}`);
  }
  return { deflate: true };
}
