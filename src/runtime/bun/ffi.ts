/**
 * The libc calls transparent mode needs (getsockopt, getsockname, getpeername) through bun:ffi:
 * Bun does not expose getsockopt itself. Loaded on first use; Linux/glibc only ("libc.so.6").
 */
import type { SocketCalls } from "../types.ts";

let loaded: Promise<SocketCalls> | null = null;

/** The libc calls; rejects when libc cannot be opened. */
export function socketCalls(): Promise<SocketCalls> {
  return loaded ??= load();
}

async function load(): Promise<SocketCalls> {
  // A variable specifier keeps Deno's type checker from resolving "bun:ffi".
  const specifier = "bun:ffi";
  const ffi = await import(specifier);
  const { FFIType } = ffi;
  const { i32, ptr } = FFIType;
  const lib = ffi.dlopen("libc.so.6", {
    getsockopt: { args: [i32, i32, i32, ptr, ptr], returns: i32 },
    getsockname: { args: [i32, ptr, ptr], returns: i32 },
    getpeername: { args: [i32, ptr, ptr], returns: i32 },
  });
  return lib.symbols as SocketCalls;
}
