/** No FFI on Node: transparent mode's SO_ORIGINAL_DST needs Deno or Bun (deno/ffi.ts, bun/ffi.ts). */
import type { SocketCalls } from "../types.ts";

/** Rejects: this runtime has no FFI to reach libc with. */
export function socketCalls(): Promise<SocketCalls> {
  return Promise.reject(
    new Error("no FFI on this runtime (Deno or Bun is needed for SO_ORIGINAL_DST)"),
  );
}
