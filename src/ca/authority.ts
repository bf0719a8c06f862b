/**
 * The certificate authority: a CA key and certificate, and leaf certificates issued per host.
 * All leaves share one ECDSA P-256 key pair generated per process, so a new host costs a single
 * signature rather than a key generation. Clients that cannot use ECDSA (no ECDSA suite or
 * signature algorithm in their ClientHello) get leaves with a second shared key, RSA-2048, made
 * on first need.
 *
 * @peculiar/x509 is loaded on first use (creating a CA, issuing a leaf): loading an existing CA
 * needs only PEM and WebCrypto, and the library adds 12-15 MB of resident memory that a proxy
 * never intercepting HTTPS need not pay.
 */
import type { x509 as X509 } from "./x509.ts";
import { toPem } from "./pem.ts";

type X509Module = typeof X509;
let x509Module: Promise<X509Module> | null = null;

function loadX509(): Promise<X509Module> {
  // reflect-metadata must run before @peculiar/x509's tsyringe initialises; a bundle (the
  // compiled binary) may reorder the static imports of one module, so load it on its own first.
  return x509Module ??= import("reflect-metadata")
    .then(() => import("./x509.ts"))
    .then((m) => m.x509);
}

const DAY = 24 * 60 * 60 * 1000;
/** Backdating absorbs clients whose clocks run behind. */
const BACKDATE = 2 * DAY;
const CA_VALIDITY = 3652 * DAY;
/** notBefore to notAfter stays under Chrome's 200-day limit for locally trusted roots' leaves. */
const LEAF_VALIDITY = 190 * DAY;

const EC_KEY: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const RSA_SHA256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const RSA_IMPORT: RsaHashedImportParams = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const RSA_KEY: RsaHashedKeyGenParams = {
  ...RSA_IMPORT,
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

/** The kind of key a leaf carries. */
export type LeafKeyType = "ecdsa" | "rsa";

export interface Leaf {
  /** The names the leaf covers (SAN), first one also its CN when short enough. */
  names: readonly string[];
  /**
   * Presented alone, without this CA after it (RFC 8446 section 4.4.2: a trust anchor may be
   * left out; a client trusts our CA or refuses the leaf either way). Sending the CA too cost
   * every client the parsing of one more certificate a handshake: without it, new connections
   * through the proxy went 8 % faster on average in an alternated run (docs/BENCHMARKS.md),
   * which outweighs the four failed lookups of the issuer in the system's certificate directory
   * that BoringSSL (Bun) makes for a lone leaf.
   */
  certPem: string;
  certDer: Uint8Array;
  /** PKCS#8 PEM of the key shared by every leaf of this authority with this key type. */
  keyPem: string;
  keyType: LeafKeyType;
  notAfter: Date;
}

export class CertificateAuthority {
  readonly #certDer: Uint8Array;
  readonly #key: CryptoKey;
  readonly #signing: Algorithm;
  readonly #leafKeys = new Map<LeafKeyType, Promise<{ keys: CryptoKeyPair; pem: string }>>();
  /** The parsed certificate, its subject, and its SKI (which every leaf names as its AKI). */
  #issuer: Promise<{ cert: X509.X509Certificate; keyId: string }> | null = null;

  constructor(certDer: Uint8Array, key: CryptoKey) {
    this.#certDer = certDer;
    this.#key = key;
    this.#signing = key.algorithm.name === "ECDSA" ? ECDSA_SHA256 : RSA_SHA256;
  }

  /** The CA certificate, parsed (loads @peculiar/x509). */
  async certificate(): Promise<X509.X509Certificate> {
    return (await this.#issuerInfo()).cert;
  }

  #issuerInfo(): Promise<{ cert: X509.X509Certificate; keyId: string }> {
    return this.#issuer ??= loadX509().then(async (x509) => {
      const cert = new x509.X509Certificate(new Uint8Array(this.#certDer));
      const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
      const keyId = ski
        ? ski.keyId
        : (await x509.SubjectKeyIdentifierExtension.create(cert.publicKey)).keyId;
      return { cert, keyId };
    });
  }

  /** A new self-signed CA with an ECDSA P-256 key. */
  static async create(
    now = Date.now(),
  ): Promise<{ ca: CertificateAuthority; keyPkcs8: Uint8Array }> {
    const x509 = await loadX509();
    const keys = await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomSerial(),
      name: "CN=mitm.ts CA, O=mitm.ts",
      notBefore: new Date(now - BACKDATE),
      notAfter: new Date(now - BACKDATE + CA_VALIDITY),
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const keyPkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
    return {
      ca: new CertificateAuthority(new Uint8Array(cert.rawData), keys.privateKey),
      keyPkcs8,
    };
  }

  /** A CA from its certificate and PKCS#8 private key (ECDSA P-256 or RSA). */
  static async load(certDer: Uint8Array, keyPkcs8: Uint8Array): Promise<CertificateAuthority> {
    const key = new Uint8Array(keyPkcs8);
    let imported: CryptoKey;
    try {
      imported = await crypto.subtle.importKey("pkcs8", key, EC_KEY, false, ["sign"]);
    } catch {
      // Not an EC key: the other kind a CA file holds is RSA (mitmproxy's).
      imported = await crypto.subtle.importKey("pkcs8", key, RSA_IMPORT, false, ["sign"]);
    }
    return new CertificateAuthority(new Uint8Array(certDer), imported);
  }

  get certPem(): string {
    return toPem("CERTIFICATE", this.#certDer);
  }

  get certDer(): Uint8Array {
    return this.#certDer;
  }

  /**
   * Issues a leaf for `names` (DNS names and/or IP addresses), signed by this CA, with the shared
   * key of `keyType`.
   */
  async issue(
    names: readonly string[],
    now = Date.now(),
    keyType: LeafKeyType = "ecdsa",
  ): Promise<Leaf> {
    if (names.length === 0) throw new Error("a leaf certificate needs at least one name");
    const x509 = await loadX509();
    const issuer = await this.#issuerInfo();
    let leafKeys = this.#leafKeys.get(keyType);
    if (!leafKeys) {
      leafKeys = leafKeyPair(keyType);
      this.#leafKeys.set(keyType, leafKeys);
      // A failed generation is not kept: the next leaf tries again.
      leafKeys.catch(() => this.#leafKeys.delete(keyType));
    }
    const { keys, pem } = await leafKeys;
    // An RSA key also serves RSA key exchange (TLS_RSA_* suites), which needs keyEncipherment.
    const usages = keyType === "rsa"
      ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
      : x509.KeyUsageFlags.digitalSignature;
    const first = names[0];
    const notBefore = new Date(now - BACKDATE);
    const notAfter = new Date(now - BACKDATE + LEAF_VALIDITY);
    // RFC 5280 caps a CN at 64 characters; longer names live only in the SAN, which must then be
    // critical because the subject is empty (RFC 5280 4.2.1.6).
    const hasCn = first.length <= 64;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      // A JSON value object, not an RFC 4514 string: a name from the client's SNI may hold
      // ",", "+", "\" or a leading "#", which the string parser would split, drop or decode.
      subject: new x509.Name(hasCn ? [{ CN: [{ utf8String: first }] }] : []),
      // The issuer name in the exact encoding of the CA's subject (RFC 5280 4.1.2.6): re-parsing
      // its string form would turn a UTF8String (mitmproxy's CA) into a PrintableString, and
      // clients that match names byte for byte (Go's crypto/x509) would not find the issuer.
      issuer: issuer.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.#key,
      signingAlgorithm: this.#signing,
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.KeyUsagesExtension(usages, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(
          names.map((n) =>
            isIpAddress(n)
              ? { type: "ip" as const, value: canonicalIp(n) }
              : { type: "dns" as const, value: n }
          ),
          !hasCn,
        ),
        new x509.AuthorityKeyIdentifierExtension(issuer.keyId),
      ],
    });
    const der = new Uint8Array(cert.rawData);
    const certPem = toPem("CERTIFICATE", der);
    return {
      names,
      certPem,
      certDer: der,
      keyPem: pem,
      keyType,
      notAfter,
    };
  }
}

async function leafKeyPair(type: LeafKeyType): Promise<{ keys: CryptoKeyPair; pem: string }> {
  const keys = await crypto.subtle.generateKey(type === "rsa" ? RSA_KEY : EC_KEY, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { keys, pem: toPem("PRIVATE KEY", pkcs8) };
}

/** A positive 128-bit serial number, as hex. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01; // no leading zero byte, so the encoding keeps 16 bytes
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * An IPv6 address in the compressed form URL parsing gives it ("::ffff:1.2.3.4" becomes
 * "::ffff:102:304"): @peculiar/x509 encodes IPv4-embedded notation as the wrong address.
 */
function canonicalIp(ip: string): string {
  if (!ip.includes(":")) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip; // not an IPv6 address after all: let the encoder say so
  }
}

export function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}
