/**
 * The origin's TLS cipher and certificate chain reach the flows: curl through the proxy (run as
 * the CLI) to an HTTPS origin on 127.0.0.1 that sends its leaf and its CA; the -w
 * recording must carry the cipher and the certificates with their subjects and fingerprints, on
 * both flows of one origin connection.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFlows } from "../../src/flow/record_file.ts";
import { startProxyProcess } from "./helpers.ts";
import {
  curlVia,
  httpsOrigin,
  makeOriginCert,
  pemToDer,
  sha256,
  tempDir,
  testCaFile,
} from "./https_helpers.ts";

const ON_BUN = "Bun" in globalThis;
const CA_NAME = ["CN=Origin Test CA", "O=mitm.ts tests"];
const parts = (name: string) => name.split(", ").sort();

describe("origin certificate chain", () => {
  test("recorded flows carry the cipher and the chain, leaf first", {
    timeout: 120_000,
  }, async () => {
    const tmp = tempDir();
    const cert = await makeOriginCert(tmp.dir, ["localhost"]);
    // The origin sends its CA after its leaf, so the chain has two certificates.
    const origin = await httpsOrigin({ ...cert, certPem: cert.certPem + cert.caPem });
    const file = join(tmp.dir, "flows.jsonl");
    try {
      const proxy = await startProxyProcess(
        ["-w", file, "--set", `ssl_verify_upstream_trusted_ca=${cert.caFile}`],
      );
      try {
        const base = `https://localhost:${origin.port}`;
        const r = await curlVia(proxy.url, [
          "--cacert",
          await testCaFile(),
          `${base}/one`,
          `${base}/two`,
        ]);
        assert.match(r.stdout, /GET \/one.*GET \/two/s, proxy.output());
      } finally {
        await proxy.stop();
      }
      const { flows } = readFlows(file);
      assert.equal(flows.length, 2);
      for (const flow of flows) {
        const tls = flow.server?.tls;
        assert.ok(tls, "the server side spoke TLS");
        assert.match(tls.cipher ?? "", /^TLS_|^ECDHE-|AES|CHACHA/, JSON.stringify(tls));
        const chain = tls.certificates ?? [];
        // node:tls reports the chain the origin sent (Deno always; Bun when the origin's
        // handshake runs through it, as for an origin dialled before the client's handshake);
        // Bun's own TLS engine reports the leaf only, with no issuer links.
        if (ON_BUN) assert.ok(chain.length === 1 || chain.length === 2, JSON.stringify(chain));
        else assert.equal(chain.length, 2, JSON.stringify(chain));
        assert.equal(chain[0].subject, "CN=localhost");
        // The order of a name's parts differs between runtimes.
        assert.deepEqual(parts(chain[0].issuer), CA_NAME);
        assert.equal(chain[0].sha256, sha256(pemToDer(cert.certPem)));
        assert.deepEqual(chain[0].altNames, ["localhost"]);
        assert.ok(Date.parse(chain[0].notBefore ?? "") < Date.now());
        assert.ok(Date.parse(chain[0].notAfter ?? "") > Date.now());
        if (chain.length === 1) continue;
        assert.deepEqual(parts(chain[1].subject), CA_NAME);
        assert.equal(chain[1].sha256, sha256(pemToDer(cert.caPem)));
      }
    } finally {
      await origin.close();
      tmp.remove();
    }
  });
});
