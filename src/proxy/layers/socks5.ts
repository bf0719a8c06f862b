/**
 * The server side of a SOCKS5 handshake (RFC 1928), sans-IO, with username/password
 * authentication (RFC 1929) when credentials are configured. Only CONNECT is supported (as in
 * mitmproxy). Bytes may arrive in any pieces; whatever follows the request (a client may send
 * its TLS ClientHello without waiting for the reply) is handed back as `leftover`.
 *
 * ```ts
 * const hs = new Socks5Handshake({ credentials: null });
 * const step = hs.receive(chunk);        // { send, request, error }
 * for (const b of step.send) conn.write(b);
 * if (step.error) conn.close();
 * if (step.request) { connect to step.request.host:port, then conn.write(socks5Reply(Socks5Reply.Succeeded, bound)) }
 * ```
 */

import { constantTimeEqual } from "./proxy_auth.ts";

/** REP values of the reply (RFC 1928 section 6). */
export const Socks5Reply = {
  Succeeded: 0x00,
  GeneralFailure: 0x01,
  NotAllowed: 0x02,
  NetworkUnreachable: 0x03,
  HostUnreachable: 0x04,
  ConnectionRefused: 0x05,
  TtlExpired: 0x06,
  CommandNotSupported: 0x07,
  AddressTypeNotSupported: 0x08,
} as const;

export type Socks5ReplyCode = typeof Socks5Reply[keyof typeof Socks5Reply];

const VERSION = 0x05;
const AUTH_VERSION = 0x01;
const METHOD_NONE = 0x00;
const METHOD_PASSWORD = 0x02;
const NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

export interface Socks5Request {
  /** An IPv4 or IPv6 address (IPv6 without brackets) or a domain name. */
  host: string;
  port: number;
  addressType: "ipv4" | "domain" | "ipv6";
  /** The username the client authenticated with, or null without authentication. */
  username: string | null;
  /** Bytes received after the request: the start of the tunnelled stream. */
  leftover: Uint8Array;
}

export interface Socks5Step {
  /** Bytes to send to the client now, in order. */
  send: Uint8Array[];
  /** Set once the CONNECT request is complete: connect, then send socks5Reply(...). */
  request: Socks5Request | null;
  /** Set when the handshake failed: send `send`, then close. A short reason for the log. */
  error: string | null;
}

export interface Socks5Options {
  /** Required username and password (RFC 1929), or null to accept clients without any. */
  credentials: { username: string; password: string } | null;
}

type State = "greeting" | "auth" | "request" | "done" | "failed";

export class Socks5Handshake {
  readonly #credentials: Socks5Options["credentials"];
  #state: State = "greeting";
  #buf: Uint8Array = new Uint8Array(0);
  #username: string | null = null;

  constructor(options: Socks5Options) {
    this.#credentials = options.credentials;
  }

  /** Feeds received bytes; see Socks5Step. After a request or an error, further input is ignored. */
  receive(chunk: Uint8Array): Socks5Step {
    const step: Socks5Step = { send: [], request: null, error: null };
    if (this.#state === "done" || this.#state === "failed") return step;
    this.#buf = this.#buf.length === 0 ? chunk.slice() : concat(this.#buf, chunk);
    for (;;) {
      const used = this.#advance(step);
      if (used === 0) return step;
      this.#buf = this.#buf.subarray(used);
      if (step.request !== null || step.error !== null) return step;
    }
  }

  /** Tries to read one message of the current state; returns the bytes used (0: need more). */
  #advance(step: Socks5Step): number {
    const b = this.#buf;
    const fail = (reason: string, reply?: Uint8Array): number => {
      if (reply) step.send.push(reply);
      step.error = reason;
      this.#state = "failed";
      return Math.max(1, b.length);
    };
    switch (this.#state) {
      case "greeting": {
        if (b.length < 1) return 0;
        if (b[0] !== VERSION) return fail(`not SOCKS5 (version byte ${b[0]})`);
        if (b.length < 2 || b.length < 2 + b[1]) return 0;
        const methods = b.subarray(2, 2 + b[1]);
        const wanted = this.#credentials ? METHOD_PASSWORD : METHOD_NONE;
        if (!methods.includes(wanted)) {
          return fail(
            this.#credentials
              ? "the client does not offer username/password authentication"
              : "the client does not offer 'no authentication'",
            Uint8Array.of(VERSION, NO_ACCEPTABLE),
          );
        }
        step.send.push(Uint8Array.of(VERSION, wanted));
        this.#state = this.#credentials ? "auth" : "request";
        return 2 + b[1];
      }
      case "auth": {
        if (b.length < 2) return 0;
        if (b[0] !== AUTH_VERSION) return fail(`bad username/password version ${b[0]}`);
        const ulen = b[1];
        if (b.length < 2 + ulen + 1) return 0;
        const plen = b[2 + ulen];
        const end = 3 + ulen + plen;
        if (b.length < end) return 0;
        const username = latin1(b.subarray(2, 2 + ulen));
        const password = latin1(b.subarray(3 + ulen, end));
        const c = this.#credentials!;
        // Both compared in full, whatever the first difference (constant time).
        const userOk = constantTimeEqual(username, c.username);
        if (!(constantTimeEqual(password, c.password) && userOk)) {
          return fail("wrong username or password", Uint8Array.of(AUTH_VERSION, 0x01));
        }
        this.#username = username;
        step.send.push(Uint8Array.of(AUTH_VERSION, 0x00));
        this.#state = "request";
        return end;
      }
      case "request": {
        if (b.length < 4) return 0;
        if (b[0] !== VERSION) return fail(`bad request version ${b[0]}`);
        const atyp = b[3];
        let addrEnd: number;
        if (atyp === ATYP_IPV4) addrEnd = 8;
        else if (atyp === ATYP_IPV6) addrEnd = 20;
        else if (atyp === ATYP_DOMAIN) {
          if (b.length < 5) return 0;
          addrEnd = 5 + b[4];
        } else {
          return fail(
            `address type ${atyp} not supported`,
            socks5Reply(Socks5Reply.AddressTypeNotSupported),
          );
        }
        if (b.length < addrEnd + 2) return 0;
        if (b[1] !== CMD_CONNECT) {
          return fail(
            `command ${b[1]} not supported (only CONNECT)`,
            socks5Reply(Socks5Reply.CommandNotSupported),
          );
        }
        const port = (b[addrEnd] << 8) | b[addrEnd + 1];
        const host = atyp === ATYP_IPV4
          ? b.subarray(4, 8).join(".")
          : atyp === ATYP_IPV6
          ? formatIpv6(b.subarray(4, 20))
          : latin1(b.subarray(5, addrEnd));
        if (atyp === ATYP_DOMAIN && host.length === 0) {
          return fail("empty domain name", socks5Reply(Socks5Reply.GeneralFailure));
        }
        const used = addrEnd + 2;
        step.request = {
          host,
          port,
          addressType: atyp === ATYP_IPV4 ? "ipv4" : atyp === ATYP_IPV6 ? "ipv6" : "domain",
          username: this.#username,
          leftover: b.slice(used),
        };
        this.#state = "done";
        return b.length; // the rest went into leftover
      }
      default:
        return 0;
    }
  }
}

/**
 * A reply: `05 REP 00 ATYP BND.ADDR BND.PORT`. The bound address is the proxy's end of the
 * connection to the target (IPv4 or IPv6); 0.0.0.0:0 when there is none (errors).
 */
export function socks5Reply(
  code: Socks5ReplyCode,
  bound: { host: string; port: number } = { host: "0.0.0.0", port: 0 },
): Uint8Array {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(bound.host);
  const addr = v4 ? Uint8Array.from(v4.slice(1), Number) : parseIpv6(bound.host);
  const out = new Uint8Array(4 + addr.length + 2);
  out.set([VERSION, code, 0x00, addr.length === 4 ? ATYP_IPV4 : ATYP_IPV6]);
  out.set(addr, 4);
  out[4 + addr.length] = bound.port >> 8;
  out[5 + addr.length] = bound.port & 0xff;
  return out;
}

/** The reply for a failed connection to the target, by the runtime's NetError code. */
export function socks5ReplyForError(code: string): Socks5ReplyCode {
  switch (code) {
    case "refused":
      return Socks5Reply.ConnectionRefused;
    case "dns":
    case "timeout":
      return Socks5Reply.HostUnreachable;
    case "unreachable":
      return Socks5Reply.NetworkUnreachable;
    case "permission":
      return Socks5Reply.NotAllowed;
    default:
      return Socks5Reply.GeneralFailure;
  }
}

function formatIpv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  // Longest run of zero groups becomes "::" (RFC 5952).
  let best = -1, len = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > len && j - i > 1) [best, len] = [i, j - i];
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + len).join(":")}`;
}

/** 16 bytes of an IPv6 address ("::" allowed; an embedded IPv4 tail is not needed here). */
function parseIpv6(host: string): Uint8Array {
  const h = host.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const [head, tail] = h.includes("::") ? h.split("::") : [h, null];
  const parts = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)));
  const front = parts(head);
  const back = tail === null ? [] : parts(tail);
  const groups = [...front, ...new Array(8 - front.length - back.length).fill(0), ...back];
  const out = new Uint8Array(16);
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return out; // "::"
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
