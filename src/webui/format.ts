/** Small formatting helpers for the web UI. */
import { formatAuthority } from "../http1/target.ts";

export function size(n: number | null | undefined): string {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1048576).toFixed(1)} MB`;
}

/** "json" from "application/json; charset=utf-8", "svg" from "image/svg+xml". */
export function shortType(t: string | null | undefined): string {
  if (!t) return "";
  const m = /^[^/;]+\/(?:[^;+]*\+)?([^;]+)/.exec(t);
  return m ? m[1].replace("x-", "") : t;
}

export function ms(n: number | null | undefined): string {
  return n === null || n === undefined ? "" : `${n} ms`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** The time zone as "+02:00" (local time, so the zone is said). */
export function zone(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  return `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/** Local wall-clock time with milliseconds, e.g. "14:03:07.123". */
export function clock(ts: number | null | undefined): string {
  if (!ts) return "";
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${
    pad(d.getMilliseconds(), 3)
  }`;
}

/** Local date and time with the zone, e.g. "2026-12-07 14:03:07.123 +01:00". */
export function dateTime(ts: number | null | undefined): string {
  if (!ts) return "-";
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ts)} ${zone(d)}`;
}

export function headerValues(headers: [string, string][], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Hex digits, 16 bytes a line, for editing; whitespace is ignored when read back. */
export function toHex(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    lines.push(
      Array.from(bytes.subarray(off, off + 16), (b) => b.toString(16).padStart(2, "0")).join(" "),
    );
  }
  return lines.join("\n");
}

/** Bytes from hex text, or null when it is not an even run of hex digits. */
export function fromHex(text: string): Uint8Array | null {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 || /[^0-9a-f]/i.test(digits)) return null;
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The request's target as its request line names it: host:port for CONNECT (the authority form,
 * RFC 9110 section 9.3.6), the URL otherwise.
 */
export function requestTarget(
  r: { method: string; url: string; host: string; port: number },
): string {
  return r.method === "CONNECT" ? formatAuthority(r.host, r.port) : r.url;
}
