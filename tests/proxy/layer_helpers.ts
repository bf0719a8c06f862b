/** Shared pieces of the layer tests: a context with a fixed clock, bytes from strings. */
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS, type LayerOptions } from "../../src/proxy/core/context.ts";
import { HttpStream } from "../../src/proxy/layers/http/stream.ts";

const enc = new TextEncoder();

/** Bytes of a string (UTF-8; the tests use ASCII). */
export function b(s: string): Uint8Array {
  return enc.encode(s);
}

export function context(options: Partial<LayerOptions> = {}): Context {
  const client = new Client({ host: "127.0.0.1", port: 50000 }, { host: "127.0.0.1", port: 8080 });
  // No deadlines unless a test asks: they would add Arm/Disarm to every conversation.
  const base = {
    idleTimeoutMs: Infinity,
    headerTimeoutMs: Infinity,
    readTimeoutMs: Infinity,
    originIdleTimeoutMs: Infinity,
    bodyTimeoutMs: Infinity,
    now: () => 1_000_000,
  };
  return new Context(client, { ...DEFAULT_LAYER_OPTIONS, ...base, ...options });
}

/** A minimal TLS 1.2-style ClientHello record with SNI and ALPN, for the peek tests. */
export function clientHello(sni: string | null, alpn: string[] = []): Uint8Array {
  const u16 = (n: number) => [n >> 8, n & 0xff];
  const ext: number[] = [];
  if (sni !== null) {
    const name = [...enc.encode(sni)];
    const list = [0, ...u16(name.length), ...name];
    ext.push(...u16(0x0000), ...u16(list.length + 2), ...u16(list.length), ...list);
  }
  if (alpn.length > 0) {
    const list = alpn.flatMap((p) => [p.length, ...enc.encode(p)]);
    ext.push(...u16(0x0010), ...u16(list.length + 2), ...u16(list.length), ...list);
  }
  const body = [
    ...u16(0x0303),
    ...new Array(32).fill(7),
    0,
    ...u16(2),
    0x13,
    0x01,
    1,
    0,
    ...u16(ext.length),
    ...ext,
  ];
  const hs = [1, 0, ...u16(body.length), ...body];
  return Uint8Array.from([0x16, 0x03, 0x01, ...u16(hs.length), ...hs]);
}

/**
 * Runs `fn` with the HTTP stream's direct path on, or off: every event through its generators
 * (`run`), the reference the direct path is held to.
 */
export function withStreamPath<T>(direct: boolean, fn: () => T): T {
  if (direct) return fn();
  const saved = Object.getOwnPropertyDescriptor(HttpStream.prototype, "direct")!;
  Object.defineProperty(HttpStream.prototype, "direct", { value: () => false, configurable: true });
  try {
    return fn();
  } finally {
    Object.defineProperty(HttpStream.prototype, "direct", saved);
  }
}
