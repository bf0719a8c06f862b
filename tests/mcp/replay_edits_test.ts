/**
 * POST /api/flows/:id/replay with {"request": {...}}: the replay is sent changed (what
 * replay_flow's changes use), the kept flow stays as it was, and bad edits are a 400.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { viaProxy, waitFor, withApi, withOrigin } from "../api/helpers.ts";

type Summary = { id: string; isReplay: boolean; request: { method: string; url: string } };

test("a replay can change method, URL, headers and body; the original stays", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const url = `http://127.0.0.1:${origin.port}/first`;
      await viaProxy(proxy.address.port, url, { method: "POST", body: "one" });
      const [first] = await waitFor("the flow", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 1 && flows[0].response && flows as Summary[];
      });
      const r = await req(`/api/flows/${first.id}/replay`, {
        method: "POST",
        json: {
          request: {
            method: "PUT",
            url: `http://127.0.0.1:${origin.port}/second?x=1`,
            headers: [["Host", `127.0.0.1:${origin.port}`], ["X-Edit", "changed"]],
            body: "two",
          },
        },
      });
      assert.equal(r.status, 201);
      const fresh: Summary = await r.json();
      assert.equal(fresh.isReplay, true);
      assert.equal(fresh.request.method, "PUT");
      await waitFor("the changed request at the origin", () => origin.requests.length === 2);
      assert.equal(origin.requests[1].line, "PUT /second?x=1");
      assert.equal(origin.requests[1].headers["x-edit"], "changed");
      assert.equal(origin.requests[1].body, "two");
      const kept = await (await req(`/api/flows/${first.id}`)).json();
      assert.equal(kept.request.method, "POST");
      assert.equal(kept.request.path, "/first");
      assert.deepEqual(kept.request.body, { text: "one" });

      const bad = await req(`/api/flows/${first.id}/replay`, {
        method: "POST",
        json: { request: { url: "not a url" } },
      });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /url must be an absolute http/);
      const response = await req(`/api/flows/${first.id}/replay`, {
        method: "POST",
        json: { response: { status: 500 } },
      });
      assert.equal(response.status, 400);
      assert.match((await response.json()).error, /only \{"request": \{\.\.\.\}\} can be changed/);
      assert.equal(origin.requests.length, 2);
    });
  });
});
