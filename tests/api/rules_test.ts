/** Rules at run time: rewrites and breakpoints listed, added, changed, removed without a restart. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { viaProxy, withApi, withOrigin } from "./helpers.ts";
import { jsonArgs, withWeb } from "./web_helpers.ts";

type Rule = { id: string; kind: string; spec: string };

test("CLI rules are listed; rules added, changed and removed apply to the next request", async () => {
  await withOrigin(async (origin) => {
    await withApi({ block_list: ["/~u blocked/403"] }, async ({ proxy, req }) => {
      const get = (path: string) =>
        viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}${path}`);
      const listed = await (await req("/api/rules")).json();
      assert.deepEqual(listed.rules, [{ id: "r1", kind: "block_list", spec: "/~u blocked/403" }]);
      assert.match(listed.kinds.map_remote, /\|filter\|url-regex\|replacement/);
      assert.match(await get("/blocked"), /^HTTP\/1\.1 403/);

      const added = await req("/api/rules", {
        method: "POST",
        json: { kind: "modify_headers", spec: "/~q/X-Rule/added at run time" },
      });
      assert.equal(added.status, 201);
      const rule: Rule = await added.json();
      assert.equal(rule.kind, "modify_headers");
      const remote = await (await req("/api/rules", {
        method: "POST",
        json: { kind: "map_remote", spec: "|~u /from|/from$|/to" },
      })).json();
      assert.match(await get("/from"), /origin: GET \/to /);
      assert.equal(origin.requests.at(-1)!.headers["x-rule"], "added at run time");

      // Change: the block now answers 410; then it goes and the request reaches the origin.
      const changed = await req("/api/rules/r1", {
        method: "PUT",
        json: { spec: "/~u blocked/410" },
      });
      assert.equal((await changed.json()).spec, "/~u blocked/410");
      assert.match(await get("/blocked"), /^HTTP\/1\.1 410/);
      assert.equal((await req("/api/rules/r1", { method: "DELETE" })).status, 200);
      assert.match(await get("/blocked"), /origin: GET \/blocked/);
      assert.deepEqual((await (await req("/api/options")).json()).block_list ?? [], []);

      await req(`/api/rules/${remote.id}`, { method: "DELETE" });
      await req(`/api/rules/${rule.id}`, { method: "DELETE" });
      assert.match(await get("/from"), /origin: GET \/from /);
      assert.equal(origin.requests.at(-1)!.headers["x-rule"], undefined);
      assert.deepEqual((await (await req("/api/rules")).json()).rules, []);
      assert.equal(
        proxy.addons.addons.filter((a) =>
          ["block_list", "map_remote", "modify_headers"].includes(a.name!)
        ).length,
        0,
        "no rules of a kind: no addon holding bodies",
      );

      for (
        const [body, message] of [
          [{ kind: "map_remote", spec: "nope" }, /^map_remote "nope" /],
          [{ kind: "rewrite", spec: "x" }, /unknown kind "rewrite": use one of block_list/],
          [{ kind: "block_list" }, /spec must be a non-empty string/],
          [{ kind: "intercept", spec: "~c" }, /bad filter/],
        ] as const
      ) {
        const bad = await req("/api/rules", { method: "POST", json: body });
        assert.equal(bad.status, 400);
        const { error } = await bad.json();
        assert.match(error, message);
        assert.doesNotMatch(error, /\n/);
      }
      assert.equal(
        (await req("/api/rules/r99", { method: "PUT", json: { spec: "/x/1" } })).status,
        404,
      );
      assert.equal((await req("/api/rules/r99", { method: "DELETE" })).status, 404);
    });
  });
});

test("breakpoints are intercept rules, and PUT /api/intercept shows up as one", async () => {
  await withApi({}, async ({ req }) => {
    const a = await (await req("/api/rules", {
      method: "POST",
      json: { kind: "intercept", spec: "~u /a" },
    })).json();
    await req("/api/rules", { method: "POST", json: { kind: "intercept", spec: "~m POST" } });
    assert.equal((await (await req("/api/intercept")).json()).filter, "(~u /a) | (~m POST)");
    await req(`/api/rules/${a.id}`, { method: "DELETE" });
    assert.equal((await (await req("/api/intercept")).json()).filter, "~m POST");

    await req("/api/intercept", { method: "PUT", json: { filter: "~d example" } });
    const rules: Rule[] = (await (await req("/api/rules")).json()).rules;
    assert.deepEqual(rules.map((r) => [r.kind, r.spec]), [["intercept", "~d example"]]);
    await req(`/api/rules/${rules[0].id}`, { method: "DELETE" });
    assert.equal((await (await req("/api/intercept")).json()).filter, "");
  });
});

test("end to end: a block rule added with curl blocks curl through the proxy", async () => {
  await withOrigin(async (origin) => {
    await withWeb({}, async ({ api, via }) => {
      const url = `http://127.0.0.1:${origin.port}/ads`;
      assert.match((await via(["-w", " %{http_code}", url])).stdout, /200$/);
      const made = JSON.parse(
        (await api("/api/rules", jsonArgs("POST", { kind: "block_list", spec: "|~u /ads|404" })))
          .stdout,
      );
      assert.equal(made.kind, "block_list");
      assert.match((await via(["-w", " %{http_code}", url])).stdout, /404$/);
      const bad = await api("/api/rules", [
        "-w",
        " %{http_code}",
        ...jsonArgs("POST", { kind: "map_local", spec: "x" }),
      ]);
      assert.match(bad.stdout, /"error":"map_local \\"x\\" [^"]*".* 400$/);
    });
  });
});
