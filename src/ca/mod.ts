/** The certificate authority: WebCrypto + @peculiar/x509, no OpenSSL. */
export { CertificateAuthority, isIpAddress, type Leaf, type LeafKeyType } from "./authority.ts";
export { LeafCache } from "./leaf_cache.ts";
export {
  CaFileError,
  caFiles,
  expandHome,
  type LoadedCa,
  loadOrCreateCa,
  readCaFile,
} from "./store.ts";
export { parsePem, toPem } from "./pem.ts";
export { pkcs1ToPkcs8 } from "./der.ts";
