/**
 * Failures that happen before any request (a CONNECT whose origin refuses, a client that does not
 * trust the proxy's certificate) are flows in the API too, with their error, as in the live output
 * and recordings: a real proxy, the API on a socket, curl as the client.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "./helpers.ts";
import { withWeb } from "./web_helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir } from "../e2e/https_helpers.ts";

interface Listed {
  flows: { request: { method: string; host: string; port: number }; error: string | null }[];
}

test("a refused CONNECT and a client that refuses our certificate are flows with their errors", async () => {
  const tmp = tempDir("mitm-failure-flows-");
  const origin = await httpsOrigin(await makeOriginCert(tmp.dir, ["localhost"]));
  try {
    await withWeb({ ssl_insecure: true }, async ({ apiJson, via }) => {
      // Port 9 on loopback refuses the connection: the CONNECT is answered 502.
      assert.notEqual((await via(["-sS", "https://127.0.0.1:9/"])).code, 0);
      // curl without the proxy's CA: it refuses our certificate in the handshake.
      assert.notEqual((await via(["-sS", `https://localhost:${origin.port}/`])).code, 0);
      let listed: Listed = { flows: [] };
      await waitFor("both failures listed", async () => {
        listed = await apiJson("/api/flows") as Listed;
        return listed.flows.length >= 2;
      });
      const connects = listed.flows.filter((f) => f.request.method === "CONNECT");
      const refused = connects.find((f) => f.request.port === 9);
      assert.match(refused?.error ?? "", /could not connect to 127\.0\.0\.1:9: connection refused/);
      const untrusted = connects.find((f) => f.request.port === origin.port);
      assert.match(untrusted?.error ?? "", /does not trust the proxy's certificate for localhost/);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
