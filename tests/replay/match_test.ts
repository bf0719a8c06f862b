import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_MATCH_OPTIONS, matchKey } from "../../src/replay/match_key.ts";
import { ReplayIndex } from "../../src/replay/replay_index.ts";
import { bodyText, recordedFlow } from "./helpers.ts";

const key = (init: Parameters<typeof recordedFlow>[0], options = {}) =>
  matchKey(recordedFlow(init).request, { ...DEFAULT_MATCH_OPTIONS, ...options });

test("match: method, scheme, host, port, path, query and body all count", () => {
  const base = key({ url: "http://a.example/p?x=1", method: "POST", body: "b" });
  assert.equal(base, key({ url: "http://A.example:80/p?x=1", method: "post", body: "b" }));
  for (
    const other of [
      { url: "http://a.example/p?x=1", method: "PUT", body: "b" },
      { url: "https://a.example:80/p?x=1", method: "POST", body: "b" },
      { url: "http://b.example/p?x=1", method: "POST", body: "b" },
      { url: "http://a.example:81/p?x=1", method: "POST", body: "b" },
      { url: "http://a.example/q?x=1", method: "POST", body: "b" },
      { url: "http://a.example/p?x=2", method: "POST", body: "b" },
      { url: "http://a.example/p?x=1", method: "POST", body: "c" },
    ]
  ) assert.notEqual(key(other), base, JSON.stringify(other));
});

test("match: ignore host, port, params, content", () => {
  const a = { url: "http://a.example:81/p?x=1&t=5", body: "one" };
  const b = { url: "http://b.example:82/p?x=1&t=9", body: "two" };
  assert.notEqual(key(a), key(b));
  const all = {
    ignoreHost: true,
    ignorePort: true,
    ignoreParams: ["t"],
    ignoreContent: true,
  };
  assert.equal(key(a, all), key(b, all));
  assert.notEqual(key(a, { ...all, ignoreHost: false }), key(b, { ...all, ignoreHost: false }));
  assert.notEqual(key(a, { ...all, ignorePort: false }), key(b, { ...all, ignorePort: false }));
  assert.notEqual(key(a, { ...all, ignoreParams: [] }), key(b, { ...all, ignoreParams: [] }));
});

test("match: ignore payload params in form and JSON bodies", () => {
  const form = (body: string) => ({
    url: "http://a.example/login",
    method: "POST",
    body,
    headers: [["Content-Type", "application/x-www-form-urlencoded"]] as [string, string][],
  });
  const json = (body: string) => ({
    ...form(body),
    headers: [["Content-Type", "application/json"]] as [string, string][],
  });
  const ignore = { ignorePayloadParams: ["nonce"] };
  assert.equal(key(form("user=a&nonce=1"), ignore), key(form("user=a&nonce=2"), ignore));
  assert.notEqual(key(form("user=a&nonce=1"), ignore), key(form("user=b&nonce=1"), ignore));
  assert.notEqual(key(form("user=a&nonce=1")), key(form("user=a&nonce=2")));
  assert.equal(
    key(json('{"user":"a","nonce":1}'), ignore),
    key(json('{"nonce":2, "user":"a"}'), ignore),
  );
  assert.notEqual(key(json('{"user":"a"}'), ignore), key(json('{"user":"b"}'), ignore));
});

test("match: use_headers adds the named request headers", () => {
  const h = (v: string) => ({
    url: "http://a.example/",
    headers: [["X-Tenant", v]] as [string, string][],
  });
  assert.equal(key(h("1")), key(h("2")));
  assert.notEqual(
    key(h("1"), { useHeaders: ["x-tenant"] }),
    key(h("2"), { useHeaders: ["x-tenant"] }),
  );
  assert.equal(
    key(h("1"), { useHeaders: ["X-Tenant"] }),
    key(h("1"), { useHeaders: ["x-tenant"] }),
  );
});

test("index: consumes recordings in order, then has nothing; reuse answers the first again", () => {
  const rec = [1, 2, 3].map((n) =>
    recordedFlow({ url: "http://a.example/n", responseBody: `r${n}` })
  );
  const consume = new ReplayIndex(DEFAULT_MATCH_OPTIONS, false);
  const reuse = new ReplayIndex(DEFAULT_MATCH_OPTIONS, true);
  for (const f of rec) {
    consume.add(f);
    reuse.add(f);
  }
  const live = () => recordedFlow({ url: "http://a.example/n" });
  assert.deepEqual([1, 2, 3, 4].map(() => bodyText(consume.take(live()))), [
    "r1",
    "r2",
    "r3",
    null,
  ]);
  assert.equal(consume.remaining, 0);
  assert.equal(consume.keys, 0);
  assert.deepEqual([1, 2, 3, 4].map(() => bodyText(reuse.take(live()))), ["r1", "r1", "r1", "r1"]);
  assert.equal(reuse.take(recordedFlow({ url: "http://a.example/other" })), null);
});
