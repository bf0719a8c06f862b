/**
 * GET /api/flows?sort=&order=&cursor= (and the first page in the hello of /api/events) with flows
 * made through a real proxy: every column both ways, paged with the cursor, against a sort of
 * the same summaries here; a filter with it; and the one-line 400s for what is not a sort.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FlowSummary } from "../../src/api/summary.ts";
import { connect, readUntil } from "../e2e/helpers.ts";
import { readEvents, viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";

/** What the API lists (the flow list's rows). */
type Summary = FlowSummary;

interface Page {
  flows: Summary[];
  total: number;
  more: boolean;
  cursor: string | null;
}

type Value = string | number | null;

const VALUES: Record<string, (f: Summary) => Value> = {
  start: (f) => f.timestamps.start,
  method: (f) => f.request.method,
  host: (f) => f.request.host,
  path: (f) => f.request.path,
  url: (f) => f.request.url,
  status: (f) => f.response?.status ?? null,
  type: (f) => f.response?.contentType ?? "",
  size: (f) => f.response?.bodySize ?? null,
  duration: (f) => f.duration,
  scheme: (f) => f.request.scheme,
  port: (f) => f.request.port,
  version: (f) => f.request.httpVersion,
  comment: (f) => f.comment,
  marked: (f) => (f.marked ? 1 : 0),
};

function compare(a: Value, b: Value): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  // ASCII here: NOCASE is comparing the lower-cased text.
  const x = String(a).toLowerCase(), y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Every column both ways, paged 3 at a time with the cursor, against a sort of `arrival` here. */
async function expectEveryOrder(get: (query: string) => Promise<Page>, arrival: Summary[]) {
  for (const column of Object.keys(VALUES)) {
    for (const order of ["asc", "desc"]) {
      const want = arrival.map((f, i) => ({ f, i }))
        .sort((a, b) => compare(VALUES[column](a.f), VALUES[column](b.f)) || a.i - b.i)
        .map(({ f }) => f.id);
      if (order === "desc") want.reverse();
      const got: string[] = [];
      let query = `sort=${column}&order=${order}&limit=3`;
      for (let n = 0;; n++) {
        const page = await get(query);
        assert.equal(page.total, arrival.length);
        got.push(...page.flows.map((f) => f.id));
        if (!page.more) {
          assert.equal(page.cursor, null);
          break;
        }
        assert.equal(page.flows.length, 3);
        assert.ok(n < 5 && page.cursor);
        query = `sort=${column}&order=${order}&limit=3&cursor=${page.cursor}`;
      }
      assert.deepEqual(got, want, `${column} ${order}`);
    }
  }
}

test("sort= and order= page the flows in that order with a cursor", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const port = proxy.address.port;
      await viaProxy(port, `${base}/b`);
      await viaProxy(port, `${base}/a`, { method: "POST", body: "x".repeat(300) });
      await viaProxy(port, `${base}/json`);
      await viaProxy(port, `${base}/png`);
      await viaProxy(port, `${base}/big`);
      await viaProxy(port, `${base}/C`);
      await viaProxy(port, `${base}/a?x`, { method: "PUT", body: "y" });
      await viaProxy(port, "http://127.0.0.1:9/refused"); // no response: NULL status and size
      const get = async (query: string): Promise<Page> =>
        await (await req(`/api/flows?${query}`)).json();
      const arrival = await waitFor("8 finished flows", async () => {
        const b = await get("");
        return b.flows.length === 8 && b.flows.every((f) => f.duration !== null) && b.flows;
      });

      await expectEveryOrder(get, arrival);

      // order= alone sorts by start; a filter applies as without a sort.
      const newest = await get("order=desc&limit=1");
      assert.equal(newest.flows[0].request.path, "/refused");
      const gets = await get(`sort=path&filter=${encodeURIComponent("~m GET & ~s")}`);
      assert.deepEqual(gets.flows.map((f) => f.request.path), [
        "/b",
        "/big",
        "/C",
        "/json",
        "/png",
      ]);
      assert.equal(gets.total, 5);
      const filtered = await get(`sort=path&limit=2&filter=${encodeURIComponent("~m GET & ~s")}`);
      const next = await get(
        `sort=path&limit=2&cursor=${filtered.cursor}&filter=${encodeURIComponent("~m GET & ~s")}`,
      );
      assert.deepEqual(next.flows.map((f) => f.request.path), ["/C", "/json"]);

      // The hello of the event stream carries the first sorted page, and its cursor goes on.
      const res = await req("/api/events?page=2&sort=size&order=desc");
      const [hello] = await readEvents(res.body!, (evs) => evs.length > 0);
      const first = hello.data as Page;
      const bySize = (await get("sort=size&order=desc")).flows.map((f) => f.request.url);
      assert.equal(bySize[0], `${base}/big`);
      assert.deepEqual(first.flows.map((f) => f.request.url), bySize.slice(0, 2));
      assert.equal(first.total, 8);
      const rest = await get(`sort=size&order=desc&limit=1&cursor=${first.cursor}`);
      assert.deepEqual(rest.flows.map((f) => f.request.url), bySize.slice(2, 3));
    });
  });
});

test("sort= by scheme, port, HTTP version, comment and mark, with marks set through the API", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const port = proxy.address.port;
      await viaProxy(port, `${base}/one`);
      await viaProxy(port, "http://127.0.0.1:9/refused"); // another port
      // An HTTP/1.0 request: its flow's version sorts before the others' HTTP/1.1.
      const old = await connect(port);
      old.write(`GET ${base}/old HTTP/1.0\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
      await readUntil(old, () => false, 10_000);
      old.destroy();
      await viaProxy(port, `${base}/two`);
      await viaProxy(port, `${base}/three`);
      const get = async (query: string): Promise<Page> =>
        await (await req(`/api/flows?${query}`)).json();
      const flows = await waitFor("5 finished flows", async () => {
        const b = await get("");
        return b.flows.length === 5 && b.flows.every((f) => f.duration !== null) && b.flows;
      });
      const byPath = (p: string) => flows.find((f) => f.request.path === p)!.id;
      const patch = async (path: string, body: object) => {
        const res = await req(`/api/flows/${byPath(path)}`, {
          method: "PATCH",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200);
      };
      await patch("/two", { marked: true, comment: "b second" });
      await patch("/refused", { marked: true });
      await patch("/one", { comment: "A first" });
      const arrival = (await get("")).flows;
      assert.deepEqual(arrival.map((f) => f.marked), [false, true, false, true, false]);
      assert.deepEqual(arrival.map((f) => f.request.httpVersion).sort(), [
        "HTTP/1.0",
        "HTTP/1.1",
        "HTTP/1.1",
        "HTTP/1.1",
        "HTTP/1.1",
      ]);
      await expectEveryOrder(get, arrival);
      // Marked first, then by arrival reversed; the comment in its order.
      const paths = async (q: string) => (await get(q)).flows.map((f) => f.request.path);
      assert.deepEqual(await paths("sort=marked&order=desc"), [
        "/two",
        "/refused",
        "/three",
        "/old",
        "/one",
      ]);
      assert.deepEqual((await paths("sort=comment&order=desc")).slice(0, 2), ["/two", "/one"]);
      assert.deepEqual((await paths("sort=version")).slice(0, 1), ["/old"]);
      // The origin's port is above 9.
      assert.deepEqual(await paths("sort=port&order=desc"), [
        "/three",
        "/two",
        "/old",
        "/one",
        "/refused",
      ]);
    });
  });
});

test("a cursor after a very long URL holds the flow's number; once it is gone, a 409", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const long = `/a?${"q".repeat(3000)}`;
      for (const path of ["/b", long, "/c"]) await viaProxy(proxy.address.port, base + path);
      const get = async (query: string) => await req(`/api/flows?sort=url&${query}`);
      await waitFor("3 flows", async () => (await (await get("")).json()).flows.length === 3);
      const first: Page = await (await get("limit=1")).json();
      assert.equal(first.flows[0].request.path, long);
      // The URL is not in the cursor, so it fits in a request line.
      assert.ok(first.cursor!.length < 100, `cursor of ${first.cursor!.length} characters`);
      const next: Page = await (await get(`limit=5&cursor=${first.cursor}`)).json();
      assert.deepEqual(next.flows.map((f) => f.request.path), ["/b", "/c"]);

      const id = first.flows[0].id;
      assert.equal((await req(`/api/flows/${id}`, { method: "DELETE" })).status, 200);
      const gone = await get(`limit=5&cursor=${first.cursor}`);
      assert.equal(gone.status, 409);
      assert.match((await gone.json()).error, /is gone .*ask for the first page again/);
    });
  });
});

test("a bad sort, order or cursor is a 400 with a one-line reason", async () => {
  await withApi({}, async ({ req }) => {
    const refused = async (query: string, reason: RegExp, path = "/api/flows") => {
      const res = await req(`${path}?${query}`);
      assert.equal(res.status, 400, query);
      const { error } = await res.json();
      assert.match(error, reason);
      assert.doesNotMatch(error, /\n/);
    };
    await refused(
      "sort=nope",
      /sort must be one of start, method, .*duration, .*marked, got "nope"/,
    );
    await refused("sort=host&order=up", /order must be asc or desc, got "up"/);
    await refused("cursor=abc", /cursor= pages a sorted list: give sort= with it/);
    await refused("sort=host&cursor=%7B%7D", /is not one a sorted page gave out/);
    await refused("sort=host&cursor=WzEsMiwzXQ", /is not one a sorted page gave out/); // [1,2,3]
    const other = Buffer.from(JSON.stringify(["path:asc", "/a", 3])).toString("base64url");
    await refused(`sort=host&cursor=${other}`, /belongs to the order path:asc, not host:asc/);
    await refused("sort=host&before=X", /a sorted list pages with cursor=/);
    await refused("page=5&sort=bytes", /sort must be one of/, "/api/events");
  });
});
