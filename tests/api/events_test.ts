/** GET /api/events: live changes as Server-Sent Events, through app.request(). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readEvents, viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";

type FlowsEvent = {
  upsert: { id: string; request: { path: string }; response: unknown }[];
  remove: string[];
  clear: boolean;
  stats: { count: number; dropped: number };
};

const flowsEvents = (events: { event: string; data: unknown }[]) =>
  events.filter((e) => e.event === "flows").map((e) => e.data as FlowsEvent);

test("flows added, updated, removed and cleared arrive as events", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req, control }) => {
      const res = await req("/api/events");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      const base = `http://127.0.0.1:${origin.port}`;
      const traffic = viaProxy(proxy.address.port, `${base}/live`);
      const events = await readEvents(
        res.body!,
        (evs) => flowsEvents(evs).some((e) => e.upsert.some((f) => f.response)),
      );
      assert.equal(events[0].event, "hello");
      const upserts = flowsEvents(events).flatMap((e) => e.upsert);
      assert.equal(upserts[0].request.path, "/live");
      await traffic;

      // Delete and clear, seen by a second stream.
      const id = upserts[0].id;
      const second = await req("/api/events");
      const seen = readEvents(
        second.body!,
        (evs) => flowsEvents(evs).some((e) => e.clear),
      );
      await waitFor("the second stream", () => control.streams.size === 1);
      await req(`/api/flows/${id}`, { method: "DELETE" });
      await new Promise((r) => setTimeout(r, 150));
      await viaProxy(proxy.address.port, `${base}/later`);
      await new Promise((r) => setTimeout(r, 150));
      await req("/api/clear", { method: "POST" });
      const got = flowsEvents(await seen);
      assert.ok(got.some((e) => e.remove.includes(id)), JSON.stringify(got));
      assert.ok(got.at(-1)!.clear);
      assert.equal(got.at(-1)!.stats.count, 0);
      await waitFor("streams to close", () => control.streams.size === 0);
    });
  });
});

test("a filtered stream sends only matching flows; a bad filter is a 400", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      assert.equal((await req("/api/events?filter=~nope")).status, 400);
      const res = await req("/api/events?filter=" + encodeURIComponent("~t json"));
      const base = `http://127.0.0.1:${origin.port}`;
      await viaProxy(proxy.address.port, `${base}/plain`);
      await viaProxy(proxy.address.port, `${base}/json`);
      const events = await readEvents(
        res.body!,
        (evs) => flowsEvents(evs).some((e) => e.upsert.some((f) => f.request.path === "/json")),
      );
      const paths = flowsEvents(events).flatMap((e) => e.upsert.map((f) => f.request.path));
      assert.ok(!paths.includes("/plain"), paths.join(" "));
    });
  });
});

test("?page=N: the hello carries the newest N matching flows; later ones come as events", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      for (const path of ["/json", "/plain", "/json?2", "/json?3"]) {
        await viaProxy(proxy.address.port, `${base}${path}`);
      }
      assert.equal((await req("/api/events?page=-1")).status, 400);
      const res = await req("/api/events?page=2&filter=" + encodeURIComponent("~t json"));
      const traffic = viaProxy(proxy.address.port, `${base}/json?4`);
      const events = await readEvents(
        res.body!,
        (evs) => flowsEvents(evs).some((e) => e.upsert.some((f) => f.request.path === "/json?4")),
      );
      const hello = events[0];
      assert.equal(hello.event, "hello");
      const page = hello.data as {
        flows: { request: { path: string } }[];
        total: number;
        more: boolean;
        cursor: string | null;
        count: number;
      };
      // Taken once the stream listened: /json?4 is either in it or comes after it, never lost.
      const paths = page.flows.map((f) => f.request.path);
      assert.ok(
        paths.join() === "/json?2,/json?3" || paths.join() === "/json?3,/json?4",
        paths.join(),
      );
      assert.equal(page.more, true);
      assert.ok(page.cursor !== null);
      assert.ok(page.total >= 3);
      await traffic;
    });
  });
});
