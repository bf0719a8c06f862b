/**
 * The last resort against errors thrown where no caller can catch them: inside a runtime's own
 * callbacks (node:tls internals run from nextTick or timers), or a promise nobody awaits. Such an
 * error must not end a proxy serving other connections (no client input may end the process).
 * Code that knows it is exposed registers a claim while it is: a claim that recognises the error
 * as its own closes its one connection and reports it (once, in its own words). What no claim
 * takes is still reported, one line, never swallowed in silence.
 */
import process from "node:process";

/** Returns true when `error` belongs to the claimant, which has then closed its connection. */
export type Claim = (error: unknown) => boolean;

const claims = new Set<Claim>();
/** Reporters of installed guards (a process may run more than one proxy). */
const reporters = new Set<(line: string, error: unknown) => void>();

/** Registers `claim` until the returned function is called. */
export function claimUncaught(claim: Claim): () => void {
  claims.add(claim);
  return () => claims.delete(claim);
}

/** Offers `error` to the registered claims; true if one took it. */
export function offerToClaims(error: unknown): boolean {
  for (const claim of [...claims]) {
    try {
      if (claim(error)) return true;
    } catch {
      // A claim that fails cannot take the error; the next one may.
    }
  }
  return false;
}

function onUncaught(error: unknown, kind: string): void {
  if (offerToClaims(error)) return;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const where = error instanceof Error ? firstFrame(error.stack) : "";
  const line = `internal error (${kind}), not tied to a connection: ${message}${where}; ` +
    `the proxy keeps serving; please report this`;
  for (const report of reporters) report(line, error);
}

const onException = (e: unknown) => onUncaught(e, "uncaught exception");
const onRejection = (e: unknown) => onUncaught(e, "unhandled rejection");

/**
 * Installs the process-wide handlers (once, however many guards) and adds `report`, which gets a
 * one-line description and the error itself. Returns the function that removes this guard; the
 * handlers go when the last guard does.
 */
export function installLastResort(report: (line: string, error: unknown) => void): () => void {
  if (reporters.size === 0) {
    process.on("uncaughtException", onException);
    process.on("unhandledRejection", onRejection);
  }
  reporters.add(report);
  return () => {
    if (!reporters.delete(report) || reporters.size > 0) return;
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}

/** " at file:line:col" of the first stack frame, or "". */
function firstFrame(stack: string | undefined): string {
  const frame = stack?.split("\n").find((l) => /^\s+at /.test(l));
  return frame ? ` (${frame.trim()})` : "";
}
