/**
 * Why a client's TLS handshake with the proxy failed, in words a user can act on. The TLS stacks
 * name causes differently (Bun: BoringSSL reason codes such as NO_SHARED_CIPHER; Deno: rustls
 * messages such as "peer is incompatible: NoCipherSuitesInCommon"), and some causes show best in
 * the ClientHello itself (a client offering only TLS 1.1). "Does not trust the CA" is said only
 * for the alerts that mean it (RFC 8446 6.2: unknown_ca, bad_certificate, certificate_unknown)
 * and for a close right after our certificate, which is how some clients say it.
 */
import type { ClientHello } from "./client_hello.ts";

export type HandshakeFailureReason =
  | "untrusted"
  | "untrusted-probably"
  | "certificate"
  | "alpn"
  | "cipher"
  | "version"
  | "closed-after-certificate"
  | "closed-early"
  | "closed"
  | "timeout"
  | "other";

export interface HandshakeFailure {
  reason: HandshakeFailureReason;
  /** One line, naming the host, the cause and what to do. */
  text: string;
}

/** The ALPN protocols the proxy speaks to clients. */
const OUR_ALPN = ["http/1.1", "http/1.0"];

const SEE_MITM_IT = "see http://mitm.it or use --ignore-hosts to pass it through";

/** Alert names as BoringSSL (TLSV1_ALERT_UNKNOWN_CA), rustls (UnknownCA) and RFCs write them. */
const TRUST_ALERTS: [RegExp, string][] = [
  [/unknown[_ ]?ca/i, "unknown_ca"],
  [/bad[_ ]?certificate/i, "bad_certificate"],
  [/certificate[_ ]?unknown/i, "certificate_unknown"],
];
const OTHER_CERT_ALERTS = /(certificate[_ ]?(expired|revoked)|unsupported[_ ]?certificate)/i;

/**
 * `message` is the handshake error's message (from the runtime's TLS, src/runtime/node/tls.ts or
 * bun/tls.ts), `code` its NetError code; `hello` the ClientHello the client sent; `host` names the
 * connection in the text.
 */
export function describeHandshakeFailure(
  host: string,
  code: string,
  message: string,
  hello: ClientHello,
): HandshakeFailure {
  const failed = `TLS handshake with the client for ${host} failed`;
  const maxVersion = Math.max(...hello.versions);
  if (maxVersion < 0x0303 || /UNSUPPORTED_PROTOCOL|protocol[_ ]?version/i.test(message)) {
    return {
      reason: "version",
      text: `${failed}: the client offers only ${versionName(maxVersion)} or older, ` +
        `the proxy needs TLS 1.2 or 1.3`,
    };
  }
  const trust = TRUST_ALERTS.find(([r]) => r.test(message));
  if (trust) {
    const alert = trust[1];
    return {
      reason: "untrusted",
      text: `client does not trust the mitm.ts CA for ${host} (it sent the alert ${alert}); ` +
        SEE_MITM_IT,
    };
  }
  if (OTHER_CERT_ALERTS.test(message)) {
    const alert = OTHER_CERT_ALERTS.exec(message)![0];
    return {
      reason: "certificate",
      text: `${failed}: the client rejected our certificate (${alert})`,
    };
  }
  // BoringSSL cannot read an alert that a TLS 1.3 client sends unencrypted after our encrypted
  // flight (OpenSSL, hence curl, does that when the certificate does not verify).
  if (/BAD_PACKET_LENGTH|DECRYPTION_FAILED/i.test(message)) {
    return {
      reason: "untrusted-probably",
      text: `client rejected our certificate for ${host} with an alert the TLS stack could not ` +
        `decode (TLS 1.3 clients send it so when they do not trust the mitm.ts CA); ${SEE_MITM_IT}`,
    };
  }
  const offersOurs = hello.alpn.length === 0 || hello.alpn.some((p) => OUR_ALPN.includes(p));
  if (
    !offersOurs ||
    /NO_APPLICATION_PROTOCOL|known protocol|no[_ ]?application[_ ]?protocol/i.test(message)
  ) {
    return {
      reason: "alpn",
      text: `${failed}: no common application protocol (the client offers ` +
        `${hello.alpn.join(", ") || "none"} in ALPN, the proxy speaks http/1.1); ` +
        `pass it through with --ignore-hosts`,
    };
  }
  if (
    /NO_SHARED_CIPHER|NO_COMMON_SIGNATURE|NoCipherSuitesInCommon|NoKxGroupsInCommon|NoSignatureSchemesInCommon|handshake[_ ]?failure/i
      .test(message)
  ) {
    const said = /[A-Z][A-Za-z_]*(Common|CIPHER|SIGNATURE_ALGORITHMS|FAILURE)[A-Za-z_]*/.exec(
      message,
    );
    return {
      reason: "cipher",
      text: `${failed}: no cipher suite, key exchange or signature algorithm in common with the ` +
        `client${said ? ` (${said[0]})` : ""}`,
    };
  }
  if (code === "timeout") {
    return { reason: "timeout", text: `${failed}: ${message}` };
  }
  if (code === "closed" || /disconnected|closed/i.test(message)) {
    if (/after our certificate/.test(message)) {
      return {
        reason: "closed-after-certificate",
        text: `client closed the connection for ${host} after we sent our certificate ` +
          `(some clients do this when they do not trust the mitm.ts CA); ${SEE_MITM_IT}`,
      };
    }
    if (/before our certificate/.test(message)) {
      return {
        reason: "closed-early",
        text: `client closed the connection for ${host} during the TLS handshake, before our ` +
          `certificate reached it`,
      };
    }
    return {
      reason: "closed",
      text: `client closed the connection for ${host} during the TLS handshake (if this happens ` +
        `every time, it may not trust the mitm.ts CA; ${SEE_MITM_IT})`,
    };
  }
  return { reason: "other", text: `${failed}: ${message}` };
}

function versionName(v: number): string {
  if (v === 0x0300) return "SSL 3.0";
  if (v >= 0x0301 && v <= 0x0304) return `TLS 1.${v - 0x0301}`;
  return `version 0x${v.toString(16).padStart(4, "0")}`;
}
