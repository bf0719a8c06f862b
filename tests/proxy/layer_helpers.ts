/** Shared pieces of the layer tests: a context with a fixed clock, bytes from strings. */
import { Client } from "../../src/proxy/core/connection.ts";
import { Context, DEFAULT_LAYER_OPTIONS, type LayerOptions } from "../../src/proxy/core/context.ts";

const enc = new TextEncoder();

/** Bytes of a string (UTF-8; the tests use ASCII). */
export function b(s: string): Uint8Array {
  return enc.encode(s);
}

export function context(options: Partial<LayerOptions> = {}): Context {
  const client = new Client({ host: "127.0.0.1", port: 50000 }, { host: "127.0.0.1", port: 8080 });
  return new Context(client, { ...DEFAULT_LAYER_OPTIONS, now: () => 1_000_000, ...options });
}
