/**
 * A sans-IO TLS ClientHello parser: give it the bytes received so far, get back the server name
 * (SNI), the ALPN protocols and the versions offered, or "need more bytes", or "not TLS". The
 * ClientHello may span several TLS records and arrive in any number of pieces (RFC 8446 4.1.2,
 * RFC 6066 section 3, RFC 7301 section 3.1).
 */

export interface ClientHello {
  /** host_name from server_name, or null when the client sent none. */
  sni: string | null;
  /** application_layer_protocol_negotiation, in the client's order. */
  alpn: string[];
  /** supported_versions if present (e.g. 0x0304 for TLS 1.3), else [legacy_version]. */
  versions: number[];
  /** cipher_suites, in the client's order. */
  cipherSuites: number[];
  /** signature_algorithms (RFC 8446 4.2.3), or null when the client sent none. */
  signatureAlgorithms: number[] | null;
  /** Bytes of the records that carried the ClientHello. */
  length: number;
}

export type HelloResult =
  | { kind: "hello"; hello: ClientHello }
  | { kind: "need-more" }
  /** The bytes are not a TLS handshake (plain HTTP, another protocol). */
  | { kind: "not-tls" }
  /** Starts like TLS but is malformed. */
  | { kind: "invalid"; reason: string };

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const MAX_PLAINTEXT = 16384;
/** A ClientHello larger than this is refused rather than buffered (post-quantum ones are ~2 KiB). */
export const MAX_HELLO_BYTES = 64 * 1024;

/** True when `first` can start a TLS record carrying a handshake: 0x16 0x03. */
export function looksLikeTls(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === HANDSHAKE && (bytes.length < 2 || bytes[1] === 3);
}

export function parseClientHello(bytes: Uint8Array): HelloResult {
  if (bytes.length === 0) return { kind: "need-more" };
  if (!looksLikeTls(bytes)) return { kind: "not-tls" };
  // Reassemble the handshake message from the fragments of consecutive handshake records.
  const fragments: Uint8Array[] = [];
  let collected = 0;
  let needed = -1;
  let pos = 0;
  while (needed < 0 || collected < needed) {
    if (bytes.length < pos + 5) return more(bytes);
    if (bytes[pos] !== HANDSHAKE) return invalid("record is not a handshake record");
    if (bytes[pos + 1] !== 3) return invalid("record version is not 3.x");
    const len = (bytes[pos + 3] << 8) | bytes[pos + 4];
    // A plaintext record carries at most 2^14 bytes (RFC 8446 5.1; 2^14 + 2048 is for
    // encrypted ones) and never an empty handshake fragment.
    if (len === 0 || len > MAX_PLAINTEXT) return invalid("record length is out of range");
    if (bytes.length < pos + 5 + len) return more(bytes);
    fragments.push(bytes.subarray(pos + 5, pos + 5 + len));
    collected += len;
    pos += 5 + len;
    if (needed < 0 && collected >= 4) {
      const head = join(fragments, 4);
      if (head[0] !== CLIENT_HELLO) return invalid("first handshake message is not a ClientHello");
      needed = 4 + ((head[1] << 16) | (head[2] << 8) | head[3]);
      if (needed > MAX_HELLO_BYTES) return invalid("ClientHello is larger than 64 KiB");
    }
  }
  const msg = join(fragments, needed);
  try {
    return { kind: "hello", hello: { ...parseBody(msg.subarray(4)), length: pos } };
  } catch (e) {
    return invalid((e as Error).message);
  }
}

function more(bytes: Uint8Array): HelloResult {
  return bytes.length > MAX_HELLO_BYTES + 1024
    ? invalid("ClientHello is larger than 64 KiB")
    : { kind: "need-more" };
}

function invalid(reason: string): HelloResult {
  return { kind: "invalid", reason };
}

function join(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    if (o >= n) break;
    const take = Math.min(p.length, n - o);
    out.set(p.subarray(0, take), o);
    o += take;
  }
  return out;
}

/** A bounds-checked reader over the ClientHello body. */
class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array, readonly end = b.length) {}
  u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = (this.b[this.pos] << 8) | this.b[this.pos + 1];
    this.pos += 2;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  /** A sub-reader over the next `n` bytes. */
  sub(n: number): Reader {
    return new Reader(this.bytes(n));
  }
  get left(): number {
    return this.end - this.pos;
  }
  need(n: number): void {
    if (this.pos + n > this.end) throw new Error("ClientHello is truncated");
  }
}

const EXT_SERVER_NAME = 0;
const EXT_SIGNATURE_ALGORITHMS = 13;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

function parseBody(body: Uint8Array): Omit<ClientHello, "length"> {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  r.bytes(32); // random
  r.bytes(r.u8()); // legacy_session_id
  const cipherSuites = u16List(r.sub(r.u16()));
  r.bytes(r.u8()); // legacy_compression_methods
  let sni: string | null = null;
  let alpn: string[] = [];
  let versions: number[] = [legacyVersion];
  let signatureAlgorithms: number[] | null = null;
  const hello = () => ({ sni, alpn, versions, cipherSuites, signatureAlgorithms });
  if (r.left === 0) return hello(); // no extensions (very old clients)
  const exts = r.sub(r.u16());
  while (exts.left > 0) {
    const type = exts.u16();
    const data = exts.sub(exts.u16());
    if (type === EXT_SERVER_NAME) sni = parseServerName(data);
    else if (type === EXT_ALPN) alpn = parseAlpn(data);
    else if (type === EXT_SUPPORTED_VERSIONS) versions = parseVersions(data);
    else if (type === EXT_SIGNATURE_ALGORITHMS) signatureAlgorithms = u16List(data.sub(data.u16()));
  }
  return hello();
}

function u16List(r: Reader): number[] {
  const out: number[] = [];
  while (r.left >= 2) out.push(r.u16());
  return out;
}

/** TLS 1.2 suites authenticated with an ECDSA certificate (ECDHE_ECDSA_WITH_*). */
function isEcdsaSuite(suite: number): boolean {
  return (suite >= 0xc006 && suite <= 0xc00a) || suite === 0xc023 || suite === 0xc024 ||
    suite === 0xc02b || suite === 0xc02c || suite === 0xc048 || suite === 0xc049 ||
    suite === 0xc05c || suite === 0xc05d || suite === 0xc072 || suite === 0xc073 ||
    suite === 0xc086 || suite === 0xc087 || (suite >= 0xc0ac && suite <= 0xc0af) ||
    suite === 0xcca9;
}

/** TLS 1.3's suites (RFC 8446 B.4), which leave the certificate to signature_algorithms. */
function isTls13Suite(suite: number): boolean {
  return suite >= 0x1301 && suite <= 0x1305;
}

/** ecdsa_secp256r1_sha256 and the other ECDSA schemes (RFC 8446 4.2.3), ecdsa_sha1 (RFC 5246). */
function isEcdsaScheme(scheme: number): boolean {
  return (scheme & 0xff) === 0x03 && scheme >= 0x0203 && scheme <= 0x0603;
}

/**
 * Whether the client can use our ECDSA P-256 leaf: it must accept an ECDSA signature
 * (signature_algorithms; absent, TLS 1.2 allows any, RFC 5246 7.4.1.4.1), and either offer
 * TLS 1.3 or a TLS 1.2 suite that authenticates with ECDSA. A client that cannot gets an RSA leaf
 * (mitmproxy's leaves are RSA, so such clients worked there).
 */
export function acceptsEcdsa(hello: ClientHello): boolean {
  const sigalgs = hello.signatureAlgorithms;
  if (sigalgs !== null && !sigalgs.some(isEcdsaScheme)) return false;
  const tls13 = hello.versions.includes(0x0304) && hello.cipherSuites.some(isTls13Suite);
  return tls13 || hello.cipherSuites.some(isEcdsaSuite);
}

function parseServerName(r: Reader): string | null {
  const list = r.sub(r.u16());
  while (list.left > 0) {
    const nameType = list.u8();
    const name = list.bytes(list.u16());
    if (nameType === 0) {
      // HostName<1..2^16-1> (RFC 6066 3); a lone "." would become empty below as well.
      if (name.length === 0 || (name.length === 1 && name[0] === 0x2e)) {
        throw new Error("server name is empty");
      }
      let s = "";
      for (const c of name) {
        // host_name is ASCII (RFC 6066); anything else cannot name a certificate.
        if (c <= 0x20 || c >= 0x7f) throw new Error("server name is not printable ASCII");
        s += String.fromCharCode(c);
      }
      return s.toLowerCase().replace(/\.$/, "");
    }
  }
  return null;
}

function parseAlpn(r: Reader): string[] {
  const list = r.sub(r.u16());
  const out: string[] = [];
  while (list.left > 0) {
    const p = list.bytes(list.u8());
    out.push(String.fromCharCode(...p));
  }
  return out;
}

function parseVersions(r: Reader): number[] {
  const list = r.sub(r.u8());
  const out: number[] = [];
  while (list.left > 0) out.push(list.u16());
  return out;
}
