/** Replay: the request goes through the proxy again and comes back as a new flow. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { httpsOrigin, makeOriginCert, tempDir } from "../e2e/https_helpers.ts";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";

type Summary = {
  id: string;
  isReplay: boolean;
  request: { method: string; url: string; bodySize: number };
  response: { status: number } | null;
};

test("replaying an http flow sends it again (body too) and records a new flow marked as replay", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const url = `http://127.0.0.1:${origin.port}/again`;
      await viaProxy(proxy.address.port, url, {
        method: "POST",
        body: "same body",
        headers: ["X-Edit: first"],
      });
      const [first] = await waitFor("the flow", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 1 && flows[0].response && flows as Summary[];
      });
      const r = await req(`/api/flows/${first.id}/replay`, { method: "POST" });
      assert.equal(r.status, 201);
      const fresh: Summary = await r.json();
      assert.notEqual(fresh.id, first.id);
      assert.equal(fresh.isReplay, true);
      assert.equal(fresh.request.url, url);

      const done: Summary = await waitFor("the replay's response", async () => {
        const { flows } = await (await req("/api/flows")).json();
        const again = (flows as Summary[]).find((x) => x.id === fresh.id);
        return again?.response && again;
      });
      assert.equal(done.response!.status, 200);
      assert.equal(origin.requests.length, 2);
      assert.deepEqual(origin.requests[1].line, "POST /again");
      assert.equal(origin.requests[1].body, "same body");
      assert.equal(origin.requests[1].headers["x-edit"], "first");
      const originals = (await (await req("/api/flows")).json()).flows as Summary[];
      assert.deepEqual(originals.map((f) => f.isReplay), [false, true]);

      assert.equal((await req(`/api/flows/nope/replay`, { method: "POST" })).status, 404);
    });
  });
});

test("replaying an https flow goes over TLS through the proxy", async () => {
  const tmp = tempDir("mitm-replay-");
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  try {
    await withApi({ ssl_verify_upstream_trusted_ca: cert.caFile }, async ({ proxy, req }) => {
      // An absolute-form https:// request: the proxy forwards it over TLS.
      const first = await viaProxy(proxy.address.port, `https://localhost:${origin.port}/s`);
      assert.match(first, /hello from the origin: GET \/s/);
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 1 && flows[0].response && flows as Summary[];
      });
      const r = await req(`/api/flows/${flow.id}/replay`, { method: "POST" });
      assert.equal(r.status, 201);
      const fresh: Summary = await r.json();
      assert.equal(fresh.request.url, `https://localhost:${origin.port}/s`);
      await waitFor("the origin to see it twice", () => origin.requests.length === 2);
      const done = await waitFor("the replay's response", async () => {
        const w = await (await req(`/api/flows/${fresh.id}`)).json();
        return w.response && w;
      });
      assert.equal(done.response.status, 200);
      assert.equal(done.isReplay, true);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});
