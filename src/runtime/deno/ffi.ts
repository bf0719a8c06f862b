/**
 * The libc calls transparent mode needs (getsockopt, getsockname, getpeername) through Deno.dlopen
 * (needs --allow-ffi, or -A): Deno does not expose getsockopt itself. Loaded on first use;
 * Linux/glibc only ("libc.so.6").
 */
import type { SocketCalls } from "../types.ts";

declare const Deno: {
  dlopen(path: string, symbols: Record<string, { parameters: string[]; result: string }>): {
    symbols: Record<string, (...args: unknown[]) => number>;
  };
};

let loaded: Promise<SocketCalls> | null = null;

/** The libc calls; rejects when FFI is not permitted or libc cannot be opened. */
export function socketCalls(): Promise<SocketCalls> {
  return loaded ??= load();
}

// deno-lint-ignore require-await
async function load(): Promise<SocketCalls> {
  const lib = Deno.dlopen("libc.so.6", {
    getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
    getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  });
  return lib.symbols as unknown as SocketCalls;
}
