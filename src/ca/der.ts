/**
 * Just enough DER to wrap private keys WebCrypto cannot import: PKCS#1 RSA keys (what mitmproxy
 * writes as "BEGIN RSA PRIVATE KEY") become PKCS#8 PrivateKeyInfo.
 */

/** Encodes one TLV with a definite length. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let lengthBytes: number[];
  if (n < 0x80) lengthBytes = [n];
  else {
    const digits: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) digits.unshift(v & 0xff);
    lengthBytes = [0x80 | digits.length, ...digits];
  }
  const out = new Uint8Array(1 + lengthBytes.length + n);
  out[0] = tag;
  out.set(lengthBytes, 1);
  out.set(content, 1 + lengthBytes.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const NULL = Uint8Array.of(0x05, 0x00);
/** 1.2.840.113549.1.1.1 rsaEncryption */
const RSA_ENCRYPTION_OID = Uint8Array.of(
  0x06,
  0x09,
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
);

/** PKCS#8 PrivateKeyInfo around a PKCS#1 RSAPrivateKey (RFC 5208 section 5). */
export function pkcs1ToPkcs8(pkcs1: Uint8Array): Uint8Array {
  return tlv(
    SEQUENCE,
    concat(
      tlv(INTEGER, Uint8Array.of(0)),
      tlv(SEQUENCE, concat(RSA_ENCRYPTION_OID, NULL)),
      tlv(OCTET_STRING, pkcs1),
    ),
  );
}
