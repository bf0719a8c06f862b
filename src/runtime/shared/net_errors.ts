import { NetError } from "../types.ts";

/** What a write still waiting for its connection to drain learns when the connection closes. */
export function closedWhileSending(): NetError {
  return new NetError("closed", "connection closed while sending");
}

/** Maps a runtime's socket error to a NetError whose message a person can act on. */
export function toNetError(e: unknown): NetError {
  if (e instanceof NetError) return e;
  const err = e as { code?: string; message?: string; syscall?: string };
  const code = err?.code ?? "";
  switch (code) {
    case "ECONNREFUSED":
      return new NetError("refused", "connection refused", { cause: e });
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
    case "EAI_FAIL":
      return new NetError("dns", "DNS lookup failed", { cause: e });
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new NetError("unreachable", "host unreachable", { cause: e });
    case "EADDRNOTAVAIL":
      // Binding an address no interface of this machine has (or, connecting, no local port left).
      return new NetError("address-not-available", "address not available on this machine", {
        cause: e,
      });
    case "ETIMEDOUT":
      return new NetError("timeout", "connection timed out", { cause: e });
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return new NetError("reset", "connection reset by peer", { cause: e });
    case "EADDRINUSE":
      return new NetError("address-in-use", "address already in use", { cause: e });
    case "EACCES":
    case "EPERM":
      return new NetError("permission", "permission denied", { cause: e });
  }
  return new NetError("other", err?.message ?? String(e), { cause: e });
}

/**
 * A failed TLS handshake, in words. The fatal alert no_application_protocol (RFC 7301 section
 * 3.2: the peer speaks none of the offered ALPN protocols) reads differently per TLS library:
 * rustls (Deno) "received fatal alert: NoApplicationProtocol", BoringSSL (Bun)
 * "...TLSV1_ALERT_NO_APPLICATION_PROTOCOL", OpenSSL "tlsv1 alert no application protocol". It is
 * reported under its RFC name, which the proxy core looks for (it then offers an origin more).
 */
export function tlsHandshakeError(why: string, cause?: unknown): NetError {
  if (/no[ _]?application[ _]?protocol/i.test(why)) {
    return new NetError(
      "tls",
      "TLS handshake failed: alert no_application_protocol (the peer speaks none of the offered ALPN protocols)",
      { cause },
    );
  }
  return new NetError("tls", `TLS handshake failed: ${why}`, { cause });
}
