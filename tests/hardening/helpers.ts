/**
 * Helpers for the hardening tests: an in-process proxy on the real network, raw TCP origins that
 * record exactly the bytes they receive, and a strict count of the requests in those bytes.
 */
import type net from "node:net";
import { startProxy } from "../../mod.ts";
import type { ProxyDeps, ProxyServer } from "../../mod.ts";
import type { Options } from "../../src/options.ts";
import { RequestReader } from "../../src/http1/mod.ts";
import { testCa } from "../fixtures/ca.ts";
import { connect, rawServer, readUntil } from "../e2e/helpers.ts";

export { connect, rawServer, readUntil };

/** Runs `fn` with an in-process proxy listening on 127.0.0.1 and always closes it. */
export async function withRealProxy(
  options: Partial<Options>,
  fn: (proxy: ProxyServer) => Promise<void>,
  deps: Omit<ProxyDeps, "ca"> = {},
): Promise<void> {
  const proxy = await startProxy({ listen_port: 0, ...options }, { ...deps, ca: await testCa() });
  try {
    await fn(proxy);
  } finally {
    await proxy.close();
  }
}

export const OK_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/** What a recording origin saw on one connection. */
export interface OriginConnection {
  /** Every byte received, latin1. */
  bytes: string;
  /** True once the proxy closed (or half-closed) the connection. */
  ended: boolean;
}

export interface RecordingOrigin {
  port: number;
  connections: OriginConnection[];
  /** All bytes over all connections, in connection order. */
  all(): string;
  close(): Promise<void>;
}

/**
 * A raw origin that records every byte and answers `respond(n)` (default 200 "ok") once the n-th
 * request on a connection is complete. It finds request boundaries with the project's strict
 * reader; tests compare the recorded bytes exactly, so a lax reader here could not hide a bug.
 */
export async function recordingOrigin(
  respond: (index: number) => string = () => OK_RESPONSE,
): Promise<RecordingOrigin> {
  const connections: OriginConnection[] = [];
  const server = await rawServer((s: net.Socket) => {
    const seen: OriginConnection = { bytes: "", ended: false };
    connections.push(seen);
    const reader = new RequestReader();
    let broken = false;
    let index = 0;
    s.on("data", (d: Buffer) => {
      seen.bytes += d.toString("latin1");
      if (broken) return;
      reader.feed(new Uint8Array(d));
      try {
        for (let ev = reader.next(); ev !== null; ev = reader.next()) {
          if (ev.type === "end") s.write(respond(index++));
        }
      } catch {
        broken = true; // keep recording; the test decides what that means
      }
    });
    s.on("end", () => (seen.ended = true));
    s.on("close", () => (seen.ended = true));
  });
  return {
    port: server.port,
    connections,
    all: () => connections.map((c) => c.bytes).join(""),
    close: server.close,
  };
}

/**
 * How many complete requests `bytes` holds for a strict parser, and whether anything is left over
 * or malformed: the origin side of "exactly one unambiguous request".
 */
export function countRequests(bytes: string): { complete: number; rest: number; error: string } {
  const reader = new RequestReader();
  reader.feed(latin1Bytes(bytes));
  let complete = 0;
  try {
    for (let ev = reader.next(); ev !== null; ev = reader.next()) {
      if (ev.type === "end") complete++;
    }
  } catch (e) {
    return { complete, rest: reader.bufferedLength, error: (e as Error).message };
  }
  return { complete, rest: reader.bufferedLength, error: "" };
}

export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Sends `bytes` on a new connection and reads until the proxy closes it (`untilClose`) or until
 * `done` says enough arrived. Bounded by a timeout so a hang fails the test.
 */
export async function exchange(
  port: number,
  bytes: string,
  done: (received: string) => boolean = () => false,
  timeoutMs = 10_000,
): Promise<{ text: string; closed: boolean }> {
  const s = await connect(port);
  let closed = false;
  s.on("close", () => (closed = true));
  s.on("end", () => (closed = true));
  s.write(latin1Bytes(bytes));
  const out = await readUntil(s, (b) => done(b.toString("latin1")), timeoutMs);
  const wasClosed = closed;
  s.destroy();
  return { text: out.toString("latin1"), closed: wasClosed };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it holds or `ms` pass; returns whether it held. Never a timed assertion. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await sleep(20);
  }
  return true;
}

/** Whether `text` holds a complete Content-Length-framed response (what the proxy writes). */
export function completeResponse(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const m = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end + 2));
  return m !== null && text.length >= end + 4 + Number(m[1]);
}
