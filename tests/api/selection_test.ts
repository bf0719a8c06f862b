/** A selection of flows by id: export (HAR, JSON lines), mark, replay, delete. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";
import { jsonArgs, withWeb } from "./web_helpers.ts";

type Summary = { id: string; request: { path: string }; marked: boolean; isReplay: boolean };

test("export, mark, replay and delete a selection through app.request()", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      for (const p of ["/a", "/b", "/c"]) {
        await viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}${p}`);
      }
      const flows: Summary[] = await waitFor("three flows", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 3 && flows;
      });
      const [a, b, c] = flows.map((f) => f.id);

      const har = await req("/api/flows/export", { method: "POST", json: { ids: [c, a] } });
      assert.equal(har.status, 200);
      const entries = (await har.json()).log.entries;
      assert.deepEqual(
        entries.map((e: { request: { url: string } }) => new URL(e.request.url).pathname),
        [
          "/c",
          "/a",
        ],
      );
      const jsonl = await req("/api/flows/export", {
        method: "POST",
        json: { ids: [b], format: "jsonl" },
      });
      assert.equal(jsonl.headers.get("content-type"), "application/x-ndjson");
      const lines = (await jsonl.text()).trim().split("\n");
      assert.deepEqual(lines.map((l) => JSON.parse(l).request.path), ["/b"]);
      const missing = await req("/api/flows/export", {
        method: "POST",
        json: { ids: [a, "nope"] },
      });
      assert.equal(missing.status, 404);
      assert.match((await missing.json()).error, /no flow nope/);
      const badFormat = await req("/api/flows/export", {
        method: "POST",
        json: { ids: [a], format: "xml" },
      });
      assert.equal(badFormat.status, 400);

      const marked = await req("/api/flows/mark", {
        method: "POST",
        json: { ids: [a, b], marked: true, comment: "pair" },
      });
      assert.deepEqual((await marked.json()).flows.map((f: Summary) => f.marked), [true, true]);
      const onlyMarked =
        await (await req(`/api/flows?filter=${encodeURIComponent("~comment pair")}`)).json();
      assert.deepEqual(onlyMarked.flows.map((f: Summary) => f.id), [a, b]);

      const replayed = await req("/api/flows/replay", {
        method: "POST",
        json: { ids: [b, "gone", a] },
      });
      assert.equal(replayed.status, 201);
      const result = await replayed.json();
      assert.deepEqual(result.flows.map((f: Summary) => [f.request.path, f.isReplay]), [
        ["/b", true],
        ["/a", true],
      ]);
      assert.deepEqual(result.failed, [{ id: "gone", error: "no flow gone" }]);
      await waitFor("the origin to see the replays", () => origin.requests.length === 5);

      const deleted = await req("/api/flows/delete", {
        method: "POST",
        json: { ids: [a, c, "x"] },
      });
      assert.deepEqual(await deleted.json(), { deleted: 2, missing: ["x"] });
      const left = (await (await req("/api/flows")).json()).flows.map((f: Summary) => f.id);
      assert.ok(!left.includes(a) && !left.includes(c) && left.includes(b));

      for (const body of [{}, { ids: "a" }, { ids: [1] }]) {
        const bad = await req("/api/flows/delete", { method: "POST", json: body });
        assert.equal(bad.status, 400);
        assert.match((await bad.json()).error, /send \{"ids"/);
      }
    });
  });
});

test("end to end: export a selection as HAR with curl", async () => {
  await withOrigin(async (origin) => {
    await withWeb({}, async ({ api, apiJson, via }) => {
      await via([`http://127.0.0.1:${origin.port}/one`]);
      await via([`http://127.0.0.1:${origin.port}/two`]);
      const flows = await waitFor("two flows", async () => {
        const { flows } = await apiJson("/api/flows") as { flows: Summary[] };
        return flows.length === 2 && flows;
      });
      const har = JSON.parse(
        (await api("/api/flows/export", jsonArgs("POST", { ids: [flows[1].id] }))).stdout,
      );
      assert.equal(har.log.entries.length, 1);
      assert.match(har.log.entries[0].request.url, /\/two$/);
      const gone = JSON.parse(
        (await api("/api/flows/delete", jsonArgs("POST", { ids: flows.map((f) => f.id) }))).stdout,
      );
      assert.equal(gone.deleted, 2);
    });
  });
});
