/**
 * The raw relay of a Splice: bytes both ways between two connections, each direction ending
 * with a FIN passed on, with backpressure (a write that fills the send buffer is awaited before
 * the next read). Resolves when both directions are done, with the first error (or null).
 */
import type { Conn } from "../../runtime/types.ts";

export async function spliceRaw(
  a: Conn,
  b: Conn,
  first: { a: Uint8Array | null; b: Uint8Array | null },
  firstRead: { a: Promise<Uint8Array | null> | null; b: Promise<Uint8Array | null> | null },
  aEof: boolean,
): Promise<string | null> {
  const results = await Promise.all([
    pump(a, b, first.a, firstRead.a, aEof),
    pump(b, a, first.b, firstRead.b, false),
  ]);
  a.close();
  b.close();
  return results[0] ?? results[1];
}

async function pump(
  from: Conn,
  to: Conn,
  first: Uint8Array | null,
  inFlight: Promise<Uint8Array | null> | null,
  eof: boolean,
): Promise<string | null> {
  try {
    if (first !== null && first.length > 0) await to.write(first);
    if (!eof) {
      // A read the driver had already started on `from` belongs to the relay now.
      let chunk = inFlight !== null ? await inFlight : await from.read();
      while (chunk !== null) {
        const full = to.write(chunk);
        if (full) await full;
        chunk = await from.read();
      }
    }
    if (!to.isClosed) to.closeWrite();
    return null;
  } catch (e) {
    from.close();
    to.close();
    return e instanceof Error ? e.message : String(e);
  }
}
