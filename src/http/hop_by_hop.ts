/**
 * Hop-by-hop header handling (RFC 9110 section 7.6.1): fields that describe one connection, not
 * the message, are dropped when a message is forwarded. Everything else keeps its name case and
 * position.
 */
import { type HeaderList, sameName, tokens } from "../http1/mod.ts";

/** Always connection-specific, whether or not Connection lists them. */
const ALWAYS = ["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te"];

/**
 * Never dropped because Connection lists them: the message was framed and routed by these, and
 * a POST whose Content-Length vanished would leave its body to be read as the next request.
 */
const NEVER = ["content-length", "transfer-encoding", "host"];

/**
 * Removes hop-by-hop fields in place. An upgrade handshake keeps "Upgrade" and gets
 * "Connection: upgrade" back, since the tunnel that follows spans both hops.
 */
export function dropHopByHop(headers: HeaderList, keepUpgrade: boolean): void {
  const raw = headers.raw;
  let listed: string[] | null = null;
  let hasHop = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (isAlwaysHop(name)) {
      hasHop = true;
      if (sameName(name, "connection")) {
        for (const t of tokens(raw[i + 1])) if (!NEVER.includes(t)) (listed ??= []).push(t);
      }
    }
  }
  if (!hasHop) return;
  const upgrading = keepUpgrade && listed !== null && listed.includes("upgrade") &&
    headers.has("upgrade");
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    const lower = raw[i].toLowerCase();
    if (
      ALWAYS.includes(lower) || (listed?.includes(lower) && !(upgrading && lower === "upgrade"))
    ) {
      raw.splice(i, 2);
    }
  }
  if (upgrading) headers.append("Connection", "upgrade");
}

function isAlwaysHop(name: string): boolean {
  // Fast path: most names are not hop-by-hop; compare lengths before lowercasing.
  const n = name.length;
  if (n !== 10 && n !== 2 && n !== 16 && n !== 19) return false;
  return ALWAYS.includes(name.toLowerCase());
}
