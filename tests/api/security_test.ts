/** The API's guards, through app.request(): token, Host, Origin, JSON-only state changes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cookieName, hostAllowed, newToken, sameSecret } from "../../src/api/security.ts";
import { HOST, PORT, TOKEN, withApi } from "./helpers.ts";
import { syntheticFlow } from "./ui_helpers.ts";

test("every /api route needs the token: missing or wrong is a 401 JSON error", async () => {
  await withApi({}, async ({ req }) => {
    for (const path of ["/api/flows", "/api/options", "/api/ca.pem", "/api/events", "/api/x"]) {
      const none = await req(path, { headers: { authorization: "" } });
      assert.equal(none.status, 401, path);
      assert.match((await none.json()).error, /token/);
      const wrong = await req(path, { headers: { authorization: "Bearer nope" } });
      assert.equal(wrong.status, 401, path);
      assert.deepEqual(await wrong.json(), { error: "wrong API token" });
    }
    const almost = await req("/api/flows", { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(almost.status, 401);
    const ok = await req("/api/flows");
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray((await ok.json()).flows));
  });
});

test("opening the UI with ?token= sets an HttpOnly SameSite=Strict cookie that the API accepts", async () => {
  await withApi({}, async ({ req }) => {
    const wrong = await req("/?token=bad", { headers: { authorization: "" } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);

    const open = await req(`/?token=${TOKEN}`, { headers: { authorization: "" } });
    // The page itself (no redirect round trip), not to be cached under the token's address.
    assert.equal(open.status, 200);
    assert.match(await open.text(), /<script src="\/app.js" defer>/);
    assert.equal(open.headers.get("cache-control"), "no-store");
    const cookie = open.headers.get("set-cookie") ?? "";
    assert.match(cookie, new RegExp(`^${cookieName(PORT)}=${TOKEN};`));
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);

    const pair = cookie.split(";")[0];
    const withCookie = await req("/api/flows", { headers: { authorization: "", cookie: pair } });
    assert.equal(withCookie.status, 200);
    const badCookie = await req("/api/flows", {
      headers: { authorization: "", cookie: `${cookieName(PORT)}=x` },
    });
    assert.equal(badCookie.status, 401);
  });
});

test("the page carries the newest flows only to a logged-in browser, escaped, uncached", async () => {
  await withApi({}, async ({ control, req }) => {
    const flow = syntheticFlow(1);
    flow.request.path = "/</script><script>alert(1)</script><!--";
    control.store.add(flow);
    await control.store.sync();
    const block = /<script type="application\/json" id="first-page">(.*?)<\/script>/s;

    const anonymous = await req("/", { headers: { authorization: "" } });
    const plain = await anonymous.text();
    assert.doesNotMatch(plain, /first-page/);
    assert.equal(anonymous.headers.get("cache-control"), null);

    const open = await req(`/?token=${TOKEN}`, { headers: { authorization: "" } });
    const html = await open.text();
    assert.equal(open.headers.get("cache-control"), "no-store");
    const data = block.exec(html);
    assert.ok(data, "a data block for the deferred script");
    assert.match(html, /<script src="\/app.js" defer>/);
    // The only "</script>" of the block is its own end; the flow's path comes back whole.
    assert.doesNotMatch(data[1], /</);
    const page = JSON.parse(data[1]);
    assert.equal(page.flows.length, 1);
    assert.equal(page.flows[0].request.path, flow.request.path);

    const cookie = `${cookieName(PORT)}=${TOKEN}`;
    const withCookie = await req("/", { headers: { authorization: "", cookie } });
    assert.match(await withCookie.text(), /id="first-page"/);
    const wrong = await req("/", {
      headers: { authorization: "", cookie: `${cookieName(PORT)}=x` },
    });
    assert.doesNotMatch(await wrong.text(), /first-page/);
  });
});

test("a Host header that is not this server is refused (DNS rebinding)", async () => {
  await withApi({}, async ({ req }) => {
    for (
      const host of ["evil.example", "evil.example:8081", "127.0.0.1:9999", "localhost.evil.com"]
    ) {
      const r = await req("/api/flows", { headers: { host } });
      assert.equal(r.status, 403, host);
      assert.match((await r.json()).error, /not this server/);
      assert.equal((await req("/", { headers: { host } })).status, 403, `UI with ${host}`);
    }
    for (const host of [HOST, "localhost:8081", "[::1]:8081", "127.0.0.1", "LOCALHOST:8081"]) {
      assert.equal((await req("/api/flows", { headers: { host } })).status, 200, host);
    }
  });
});

test("foreign origins are refused and no CORS headers are ever sent", async () => {
  await withApi({}, async ({ req }) => {
    const foreign = await req("/api/flows", { headers: { origin: "https://evil.example" } });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
    const preflight = await req("/api/clear", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    const crossSite = await req("/api/flows", { headers: { "sec-fetch-site": "cross-site" } });
    assert.equal(crossSite.status, 403);
    const same = await req("/api/flows", { headers: { origin: `http://${HOST}` } });
    assert.equal(same.status, 200);
    assert.equal(same.headers.get("access-control-allow-origin"), null);
  });
});

test("state changes need a JSON body (or none): form and text bodies get 415", async () => {
  await withApi({}, async ({ req }) => {
    for (
      const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
    ) {
      const r = await req("/api/clear", {
        method: "POST",
        body: "a=b",
        headers: { "content-type": type },
      });
      assert.equal(r.status, 415, type);
      const put = await req("/api/intercept", {
        method: "PUT",
        body: '{"filter":"~all"}',
        headers: { "content-type": type },
      });
      assert.equal(put.status, 415, type);
    }
    assert.equal((await req("/api/intercept")).status, 200);
    assert.deepEqual(await (await req("/api/intercept")).json(), { filter: "" });
    assert.equal((await req("/api/clear", { method: "POST" })).status, 200);
    assert.equal((await req("/api/clear", { method: "POST", json: {} })).status, 200);
    const bad = await req("/api/intercept", {
      method: "PUT",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /not valid JSON/);
    // A GET never changes anything.
    assert.equal((await req("/api/clear")).status, 404);
  });
});

test("tokens: random, compared in full", () => {
  const a = newToken();
  assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(a, newToken());
  assert.ok(sameSecret(a, a));
  assert.ok(!sameSecret("", a));
  assert.ok(!sameSecret(a.slice(0, -1), a));
  assert.ok(!sameSecret(a + a, a));
  assert.ok(!sameSecret(a.slice(0, -1) + (a.endsWith("A") ? "B" : "A"), a));
  assert.ok(hostAllowed("127.0.0.2:80", { token: "", port: 80, hosts: [] }));
  assert.ok(hostAllowed("10.0.0.5:80", { token: "", port: 80, hosts: ["10.0.0.5"] }));
  assert.ok(!hostAllowed("10.0.0.5:80", { token: "", port: 80, hosts: [] }));
  assert.ok(hostAllowed("[fe80::1]:80", { token: "", port: 80, hosts: ["fe80::1"] }));
});
