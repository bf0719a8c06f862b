/**
 * The few libc calls transparent mode needs (getsockopt, getsockname, getpeername), through the
 * runtime's FFI: Deno.dlopen (needs --allow-ffi, or -A) or bun:ffi. Neither runtime exposes
 * getsockopt itself. Loaded on first use; Linux/glibc only ("libc.so.6").
 */

/** int f(int fd, [int level, int name,] void *buf, socklen_t *len) returning 0 or -1. */
export interface SocketCalls {
  getsockopt(fd: number, level: number, name: number, buf: Uint8Array, len: Uint8Array): number;
  getsockname(fd: number, buf: Uint8Array, len: Uint8Array): number;
  getpeername(fd: number, buf: Uint8Array, len: Uint8Array): number;
}

declare const Bun: unknown;
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

async function load(): Promise<SocketCalls> {
  if (typeof Bun !== "undefined") {
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
  if (typeof Deno !== "undefined") {
    const lib = Deno.dlopen("libc.so.6", {
      getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
      getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
      getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
    });
    return lib.symbols as unknown as SocketCalls;
  }
  throw new Error("no FFI on this runtime (Deno or Bun is needed for SO_ORIGINAL_DST)");
}
