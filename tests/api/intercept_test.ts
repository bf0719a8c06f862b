/** Interception through the API: pause at request and response, edit, resume, kill. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";

type Summary = { id: string; request: { path: string }; intercepted: string | null };

async function pausedFlows(
  req: (p: string) => Promise<Response>,
  phase: string,
  n = 1,
): Promise<Summary[]> {
  return await waitFor(`${n} flow(s) paused at ${phase}`, async () => {
    const { flows } = await (await req("/api/flows")).json();
    const paused = (flows as Summary[]).filter((f) => f.intercepted === phase);
    return paused.length === n && paused;
  });
}

test("a matching request pauses, is edited, and goes on; others pass meanwhile", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const set = await req("/api/intercept", { method: "PUT", json: { filter: "~u /held" } });
      assert.deepEqual(await set.json(), { filter: "~u /held" });
      const base = `http://127.0.0.1:${origin.port}`;
      const held = viaProxy(proxy.address.port, `${base}/held`, { method: "POST", body: "orig" });
      const [flow] = await pausedFlows(req, "request");
      assert.equal(flow.request.path, "/held");
      assert.equal(origin.requests.length, 0, "the origin has not seen it");

      // A paused flow holds only its own connection: another request goes through meanwhile.
      assert.match(await viaProxy(proxy.address.port, `${base}/free`), /origin: GET \/free/);
      assert.equal((await (await req("/api/status")).json()).paused, 1);

      const resume = await req(`/api/flows/${flow.id}/resume`, {
        method: "POST",
        json: {
          request: {
            method: "PUT",
            url: `${base}/edited?q=1`,
            headers: [["Host", `127.0.0.1:${origin.port}`], ["X-Edit", "yes"]],
            body: "changed body",
          },
        },
      });
      assert.equal(resume.status, 200);
      const answer = await held;
      assert.match(answer, /origin: PUT \/edited\?q=1 x-edit=yes body=changed body/);
      const seen = origin.requests.find((r) => r.line.startsWith("PUT"))!;
      assert.equal(seen.headers["content-length"], "12");
      const whole = await (await req(`/api/flows/${flow.id}`)).json();
      assert.equal(whole.request.method, "PUT");
      assert.equal(whole.intercepted, null);

      assert.equal((await req(`/api/flows/${flow.id}/resume`, { method: "POST" })).status, 409);
      assert.equal((await req(`/api/flows/${flow.id}/kill`, { method: "POST" })).status, 409);
    });
  });
});

test("a matching response pauses and can be edited before the client gets it", async () => {
  await withOrigin(async (origin) => {
    await withApi({ intercept: "~c 200 & ~u /r" }, async ({ proxy, req }) => {
      // ~c needs a response: the request does not match, the response does.
      const answer = viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}/r`);
      const [flow] = await pausedFlows(req, "response");
      assert.equal(origin.requests.length, 1);
      const early = await req(`/api/flows/${flow.id}/resume`, {
        method: "POST",
        json: { request: { method: "GET" } },
      });
      assert.equal(early.status, 400, "a request edit at the response is refused");
      const bad = await req(`/api/flows/${flow.id}/resume`, {
        method: "POST",
        json: { response: { headers: [["Bad Name", "x"]] } },
      });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /bad header/);
      const ok = await req(`/api/flows/${flow.id}/resume`, {
        method: "POST",
        json: {
          response: {
            status: 418,
            headers: [["Content-Type", "text/plain"], ["X-Changed", "1"]],
            body: "edited",
          },
        },
      });
      assert.equal(ok.status, 200);
      const text = await answer;
      assert.match(text, /^HTTP\/1.1 418 /);
      assert.match(text, /X-Changed: 1/);
      assert.match(text, /\r\n\r\nedited$/);
    });
  });
});

test("kill drops a paused flow's connection; bad filters are refused; off means no pausing", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      const bad = await req("/api/intercept", { method: "PUT", json: { filter: "~c" } });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error, /^bad filter/);
      assert.equal((await req("/api/intercept", { method: "PUT", json: {} })).status, 400);

      await req("/api/intercept", { method: "PUT", json: { filter: "~all" } });
      const base = `http://127.0.0.1:${origin.port}`;
      const killed = viaProxy(proxy.address.port, `${base}/k`);
      const [flow] = await pausedFlows(req, "request");
      assert.equal((await req(`/api/flows/${flow.id}/kill`, { method: "POST" })).status, 200);
      assert.equal(await killed, "", "the connection closed without an answer");
      const whole = await waitFor("the error", async () => {
        const w = await (await req(`/api/flows/${flow.id}`)).json();
        return w.error && w;
      });
      assert.match(whole.error.message, /killed/);
      assert.equal(origin.requests.length, 0);

      // Turning it off: nothing pauses, and flows paused before stay paused until resumed.
      const second = viaProxy(proxy.address.port, `${base}/second`);
      const [waiting] = await pausedFlows(req, "request");
      await req("/api/intercept", { method: "PUT", json: { filter: "" } });
      assert.match(await viaProxy(proxy.address.port, `${base}/free`), /GET \/free/);
      await req(`/api/flows/${waiting.id}/resume`, { method: "POST" });
      assert.match(await second, /GET \/second/);
    });
  });
});

test("closing the control layer kills paused flows so the proxy can stop", async () => {
  await withOrigin(async (origin) => {
    let pending: Promise<string> | null = null;
    await withApi({ intercept: "~all" }, async ({ proxy, req }) => {
      pending = viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}/x`);
      await pausedFlows(req, "request");
    });
    assert.equal(await pending!, "");
  });
});
