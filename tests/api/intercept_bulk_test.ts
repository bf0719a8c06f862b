/** Resume all and kill all paused flows. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";

test("POST /api/intercept/resume lets every paused flow go on; /kill drops the given ones", async () => {
  await withOrigin(async (origin) => {
    await withApi({ intercept: "~u /held" }, async ({ proxy, req }) => {
      const url = (p: string) => `http://127.0.0.1:${origin.port}${p}`;
      const answers = [
        viaProxy(proxy.address.port, url("/held/1")),
        viaProxy(proxy.address.port, url("/held/2")),
      ];
      const paused = async (n: number) =>
        await waitFor(`${n} paused`, async () => {
          const { flows } = await (await req("/api/flows")).json();
          const p = flows.filter((f: { intercepted: string | null }) => f.intercepted !== null);
          return p.length === n && p;
        });
      await paused(2);
      const r = await req("/api/intercept/resume", { method: "POST" });
      assert.equal((await r.json()).resumed.length, 2);
      // They pause again at their responses; resume them all again.
      await paused(2);
      await req("/api/intercept/resume", { method: "POST", json: {} });
      for (const a of answers) assert.match(await a, /origin: GET \/held/);

      const third = viaProxy(proxy.address.port, url("/held/3"));
      const [flow] = await paused(1);
      const killed = await req("/api/intercept/kill", {
        method: "POST",
        json: { ids: [flow.id, "nope"] },
      });
      assert.deepEqual(await killed.json(), { killed: [flow.id] });
      assert.equal(await third, "", "a killed flow's client gets no answer");
      const bad = await req("/api/intercept/resume", { method: "POST", json: { ids: "all" } });
      assert.equal(bad.status, 400);
    });
  });
});

test("a refused intercept filter says which filter stays in force", async () => {
  await withApi({ intercept: "~u /keep" }, async ({ req }) => {
    const bad = await req("/api/intercept", { method: "PUT", json: { filter: "~u /new & (" } });
    assert.equal(bad.status, 400);
    const body = await bad.json();
    assert.equal(body.filter, "~u /keep");
    assert.match(body.error, /^bad filter: .*; "~u \/keep" stays in force$/);
    assert.equal((await (await req("/api/intercept")).json()).filter, "~u /keep");
  });
});
