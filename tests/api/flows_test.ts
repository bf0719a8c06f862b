/** Flows through a real proxy, read back through app.request(). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { flowFromJson } from "../../src/flow/serialize.ts";
import { PNG, viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";

type Summary = {
  id: string;
  request: { method: string; path: string; host: string; bodySize: number };
  response: { status: number; contentType: string | null; bodySize: number } | null;
  duration: number | null;
  isReplay: boolean;
};

test("flows made through the proxy are listed, filtered, limited and paged", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      for (const path of ["/a", "/json", "/png"]) {
        assert.match(await viaProxy(proxy.address.port, base + path), /^HTTP\/1.1 200/);
      }
      assert.match(
        await viaProxy(proxy.address.port, base + "/post", { method: "POST", body: "hi" }),
        /body=hi/,
      );
      const all = await waitFor("4 finished flows", async () => {
        const body = await (await req("/api/flows")).json();
        return body.flows.length === 4 && body.flows.every((f: Summary) => f.response) && body;
      });
      const flows: Summary[] = all.flows;
      assert.deepEqual(flows.map((f) => f.request.path), ["/a", "/json", "/png", "/post"]);
      assert.equal(all.count, 4);
      assert.equal(all.dropped, 0);
      const json = flows[1];
      assert.equal(json.request.method, "GET");
      assert.equal(json.request.host, "127.0.0.1");
      assert.equal(json.response!.status, 200);
      assert.equal(json.response!.contentType, "application/json");
      assert.ok(json.response!.bodySize > 0);
      assert.ok(json.duration !== null && json.duration >= 0);
      assert.equal(flows[3].request.bodySize, 2);

      const list = async (query: string) =>
        ((await (await req(`/api/flows?${query}`)).json()).flows as Summary[])
          .map((f) => f.request.path);
      assert.deepEqual(await list("filter=" + encodeURIComponent("~t json")), ["/json"]);
      assert.deepEqual(await list("filter=" + encodeURIComponent("~m POST | ~u png")), [
        "/png",
        "/post",
      ]);
      assert.deepEqual(await list("limit=2"), ["/png", "/post"]);
      assert.deepEqual(await list(`after=${flows[1].id}`), ["/png", "/post"]);
      assert.deepEqual(await list(`after=${flows[1].id}&limit=1`), ["/post"]);

      const bad = await req("/api/flows?filter=" + encodeURIComponent("~x nope"));
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /^bad filter: /);
      assert.equal((await req("/api/flows?limit=-1")).status, 400);
    });
  });
});

test("one flow whole, and its bodies raw or decoded, with their content types", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      await viaProxy(proxy.address.port, base + "/gzip");
      await viaProxy(proxy.address.port, base + "/png");
      await viaProxy(proxy.address.port, base + "/echo", { method: "PUT", body: "payload" });
      const [gz, png, put] = await waitFor("3 flows", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 3 && flows.every((f: Summary) => f.response) &&
          flows as Summary[];
      });

      const whole = await (await req(`/api/flows/${gz.id}`)).json();
      const flow = flowFromJson(whole);
      assert.equal(flow.id, gz.id);
      assert.equal(flow.response!.headers.get("content-encoding"), "gzip");
      assert.equal(flow.response!.text(), "zipped text from the origin");
      assert.equal(whole.intercepted, null);
      const noBodies = await (await req(`/api/flows/${gz.id}?body_limit=0`)).json();
      assert.equal(noBodies.response.body, null);
      assert.equal(noBodies.response.truncated, true);

      const raw = await req(`/api/flows/${gz.id}/response/body`);
      assert.equal(raw.headers.get("content-type"), "text/plain");
      assert.match(raw.headers.get("content-security-policy") ?? "", /sandbox/);
      const rawBytes = new Uint8Array(await raw.arrayBuffer());
      assert.deepEqual([...rawBytes.slice(0, 2)], [0x1f, 0x8b], "still gzip");
      const decoded = await req(`/api/flows/${gz.id}/response/body?decode=1`);
      assert.equal(await decoded.text(), "zipped text from the origin");

      const image = await req(`/api/flows/${png.id}/response/body`);
      assert.equal(image.headers.get("content-type"), "image/png");
      assert.deepEqual(new Uint8Array(await image.arrayBuffer()), PNG);

      assert.equal(await (await req(`/api/flows/${put.id}/request/body`)).text(), "payload");
      assert.equal((await req(`/api/flows/nope`)).status, 404);
      assert.equal((await req(`/api/flows/nope/response/body`)).status, 404);
      assert.equal((await req(`/api/flows/${gz.id}/other/body`)).status, 404);
    });
  });
});

test("HAR and JSON-lines exports, delete, clear, and the CA certificate", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      for (const p of ["/one", "/json", "/three"]) await viaProxy(proxy.address.port, base + p);
      const flows: Summary[] = await waitFor("3 flows", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 3 && flows.every((f: Summary) => f.response) && flows;
      });

      const har = await req("/api/flows.har?filter=" + encodeURIComponent("!~t json"));
      assert.match(har.headers.get("content-disposition") ?? "", /flows\.har/);
      const doc = await har.json();
      assert.equal(doc.log.version, "1.2");
      assert.deepEqual(
        doc.log.entries.map((e: { request: { url: string } }) => new URL(e.request.url).pathname),
        ["/one", "/three"],
      );

      const jsonl = await (await req("/api/flows.jsonl")).text();
      const lines = jsonl.trim().split("\n").map((l) => flowFromJson(JSON.parse(l)));
      assert.deepEqual(lines.map((f) => f.request.path), ["/one", "/json", "/three"]);

      assert.equal((await req(`/api/flows/${flows[0].id}`, { method: "DELETE" })).status, 200);
      assert.equal((await req(`/api/flows/${flows[0].id}`, { method: "DELETE" })).status, 404);
      assert.equal((await req(`/api/flows/${flows[0].id}`)).status, 404);
      assert.equal((await (await req("/api/flows")).json()).flows.length, 2);
      assert.equal((await req("/api/clear", { method: "POST" })).status, 200);
      assert.equal((await (await req("/api/flows")).json()).flows.length, 0);

      const ca = await req("/api/ca.pem");
      assert.equal(ca.status, 200);
      const pem = await ca.text();
      assert.equal(pem, proxy.ca.authority.certPem);
      assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
    });
  });
});

test("the store keeps flows within flow_store_max_bytes, dropping the oldest", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      for (let i = 0; i < 5; i++) await viaProxy(proxy.address.port, `${base}/n${i}`);
      const body = await waitFor("5 finished flows", async () => {
        const b = await (await req("/api/flows")).json();
        return b.flows.length === 5 && b.flows.every((f: Summary) => f.response) && b;
      });
      assert.equal(body.dropped, 0);
      assert.equal(body.maxBytes, 2 * 1024 ** 3);
      assert.ok(body.bytes > 0);

      // One byte under what the five take: the oldest goes, and is counted.
      let put = await req("/api/options", {
        method: "PUT",
        json: { flow_store_max_bytes: body.bytes - 1 },
      });
      assert.equal(put.status, 200);
      let after = await (await req("/api/flows")).json();
      assert.deepEqual(after.flows.map((f: Summary) => f.request.path), [
        "/n1",
        "/n2",
        "/n3",
        "/n4",
      ]);
      assert.equal(after.dropped, 1);
      assert.equal(after.count, 4);

      // Lower still: only the newest flow stays, even though it alone is over.
      put = await req("/api/options", { method: "PUT", json: { flow_store_max_bytes: 10 } });
      assert.equal(put.status, 200);
      after = await (await req("/api/flows")).json();
      assert.deepEqual(after.flows.map((f: Summary) => f.request.path), ["/n4"]);
      assert.equal(after.dropped, 4);
      assert.equal((await req(`/api/flows/${body.flows[0].id}`)).status, 404);
    });
  });
});

test("the list pages backwards with a cursor and says how many match", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      for (let i = 0; i < 7; i++) await viaProxy(proxy.address.port, `${base}/p${i}`);
      await waitFor("7 finished flows", async () => {
        const b = await (await req("/api/flows")).json();
        return b.flows.length === 7 && b.flows.every((f: Summary) => f.response);
      });
      const get = async (query: string) => await (await req(`/api/flows?${query}`)).json();
      const first = await get("limit=3");
      assert.deepEqual(first.flows.map((f: Summary) => f.request.path), ["/p4", "/p5", "/p6"]);
      assert.equal(first.total, 7);
      assert.equal(first.more, true);
      assert.equal(first.cursor, first.flows[0].id);
      const second = await get(`limit=3&before=${first.cursor}`);
      assert.deepEqual(second.flows.map((f: Summary) => f.request.path), ["/p1", "/p2", "/p3"]);
      const third = await get(`limit=3&before=${second.cursor}`);
      assert.deepEqual(third.flows.map((f: Summary) => f.request.path), ["/p0"]);
      assert.equal(third.more, false);
      assert.equal(third.cursor, null);

      // Filtered: the total counts matching flows only.
      const filtered = await get("limit=1&filter=" + encodeURIComponent("~u p[135]"));
      assert.deepEqual(filtered.flows.map((f: Summary) => f.request.path), ["/p5"]);
      assert.equal(filtered.total, 3);
      assert.equal(filtered.count, 7);
      const older = await get(
        `limit=5&before=${filtered.cursor}&filter=` + encodeURIComponent("~u p[135]"),
      );
      assert.deepEqual(older.flows.map((f: Summary) => f.request.path), ["/p1", "/p3"]);
    });
  });
});

test("options: the run-time ones are listed and changed; bad or fixed ones are refused", async () => {
  await withApi({ flow_store_max_bytes: 5_000_000 }, async ({ proxy, req }) => {
    const options = await (await req("/api/options")).json();
    assert.equal(options.flow_store_max_bytes, 5_000_000);
    assert.equal(options.intercept, "");
    assert.deepEqual(options.ignore_hosts, []);

    const put = await req("/api/options", {
      method: "PUT",
      json: {
        flow_store_max_bytes: 7_000_000,
        ignore_hosts: ["example\\.com"],
        ssl_insecure: true,
      },
    });
    assert.equal(put.status, 200);
    const changed = await put.json();
    assert.equal(changed.flow_store_max_bytes, 7_000_000);
    assert.deepEqual(changed.ignore_hosts, ["example\\.com"]);
    assert.equal(proxy.options.ssl_insecure, true);

    for (
      const [json, message] of [
        [{ flow_store_max_bytes: "many" }, /expects a number/],
        [{ flow_store_max_bytes: -1 }, /at least 0/],
        [{ max_flows: 10 }, /unknown option/],
        [{ intercept: "~x" }, /not a valid filter/],
        [{ ignore_hosts: ["("] }, /regular expression/],
        [{ listen_port: 1 }, /cannot be changed while running/],
        [{ nope: 1 }, /unknown option/],
      ] as const
    ) {
      const r = await req("/api/options", { method: "PUT", json });
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.match((await r.json()).error, message);
    }
    assert.equal(
      (await (await req("/api/options")).json()).flow_store_max_bytes,
      7_000_000,
      "unchanged by errors",
    );
  });
});
