/** Marks and comments: set through the API, matched by ~marked / ~comment, kept in exports. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Flow, FlowRequest } from "../../src/flow/flow.ts";
import { flowFromJson, flowToJson } from "../../src/flow/serialize.ts";
import { flowsToHar, harToFlows } from "../../src/flow/har.ts";
import { parseFilter } from "../../src/filter/mod.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";
import { jsonArgs, withWeb } from "./web_helpers.ts";

function bareFlow(): Flow {
  const request = new FlowRequest({
    method: "GET",
    scheme: "http",
    host: "example.test",
    port: 80,
    path: "/",
    httpVersion: "HTTP/1.1",
    headers: new HeaderList(["Host", "example.test"]),
    timestampStart: 1_700_000_000_000,
  });
  return new Flow({ address: "127.0.0.1", port: 5000, tls: null }, request);
}

test("a comment survives the recording format and HAR, and ~comment matches it", () => {
  const flow = bareFlow();
  assert.equal(flowToJson(flow).comment, undefined, "no field when empty");
  flow.comment = "login fails here\nsee ticket 12";
  flow.marked = true;
  const again = flowFromJson(JSON.parse(JSON.stringify(flowToJson(flow))));
  assert.equal(again.comment, flow.comment);
  assert.equal(again.marked, true);
  const har = flowsToHar([flow]);
  assert.equal(har.log.entries[0].comment, flow.comment);
  assert.equal(harToFlows(har)[0].comment, flow.comment);
  assert.equal(parseFilter("~comment ticket")(flow), true);
  assert.equal(parseFilter("~comment 'ticket 13'")(flow), false);
  assert.equal(parseFilter("~comment x")(bareFlow()), false);
  assert.equal(String(parseFilter("~comment ticket & ~marked")), "~comment ticket & ~marked");
});

test("PATCH /api/flows/:id marks and comments a flow; lists, filters and exports show it", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      await viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}/one`);
      await viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}/two`);
      const flows = await waitFor("two flows", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 2 && flows;
      });
      const id = flows[1].id;
      const r = await req(`/api/flows/${id}`, {
        method: "PATCH",
        json: { marked: true, comment: "the second one" },
      });
      assert.equal(r.status, 200);
      const summary = await r.json();
      assert.equal(summary.marked, true);
      assert.equal(summary.comment, "the second one");
      assert.equal(summary.id, id);

      const marked = await (await req(`/api/flows?filter=${encodeURIComponent("~marked")}`))
        .json();
      assert.deepEqual(marked.flows.map((f: { id: string }) => f.id), [id]);
      const commented = await (await req(`/api/flows?filter=${encodeURIComponent("~comment sec")}`))
        .json();
      assert.deepEqual(commented.flows.map((f: { id: string }) => f.id), [id]);
      assert.equal((await (await req(`/api/flows/${id}`)).json()).comment, "the second one");
      const lines = (await (await req("/api/flows.jsonl")).text()).trim().split("\n");
      assert.equal(JSON.parse(lines[1]).comment, "the second one");
      const har = await (await req("/api/flows.har")).json();
      assert.equal(har.log.entries[1].comment, "the second one");

      // Only the fields given change; PUT does the same.
      const unmark = await req(`/api/flows/${id}`, { method: "PUT", json: { marked: false } });
      assert.deepEqual(
        [(await unmark.json()).marked, (await (await req(`/api/flows/${id}`)).json()).comment],
        [false, "the second one"],
      );

      for (
        const [body, message] of [
          [{ marked: "yes" }, /marked must be true or false/],
          [{ comment: 5 }, /comment must be a string/],
          [{ colour: "red" }, /unknown field "colour"/],
          [[1], /JSON object/],
          [{ comment: "x".repeat(10_001) }, /at most 10000/],
        ] as const
      ) {
        const bad = await req(`/api/flows/${id}`, { method: "PATCH", json: body });
        assert.equal(bad.status, 400);
        assert.match((await bad.json()).error, message);
      }
      const missing = await req("/api/flows/nope", { method: "PATCH", json: { marked: true } });
      assert.equal(missing.status, 404);
      const form = await req(`/api/flows/${id}`, {
        method: "PATCH",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "marked=true",
      });
      assert.equal(form.status, 415, "a form cannot mark");
    });
  });
});

test("end to end: curl through the proxy, then mark it with curl against the API", async () => {
  await withOrigin(async (origin) => {
    await withWeb({}, async ({ api, apiJson, via }) => {
      const out = await via([`http://127.0.0.1:${origin.port}/marked-by-curl`]);
      assert.match(out.stdout, /origin: GET \/marked-by-curl/);
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await apiJson("/api/flows") as { flows: { id: string }[] };
        return flows.length === 1 && flows;
      });
      const set = await api(
        `/api/flows/${flow.id}`,
        jsonArgs("PATCH", { marked: true, comment: "from curl" }),
      );
      assert.equal(JSON.parse(set.stdout).comment, "from curl");
      const listed = await apiJson(`/api/flows?filter=${encodeURIComponent("~comment curl")}`) as {
        flows: { marked: boolean }[];
      };
      assert.deepEqual(listed.flows.map((f) => f.marked), [true]);
    });
  });
});
