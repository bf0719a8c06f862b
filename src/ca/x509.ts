/** @peculiar/x509 set up with the runtime's WebCrypto (it needs reflect-metadata loaded first). */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
