/**
 * Compose (POST /api/requests) and binary-safe edits: a body given as {"base64": ...} reaches the
 * origin, or the client, byte for byte (a PNG edited at its response stays a PNG).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { base64Encode } from "../../src/flow/serialize.ts";
import { recordingOrigin } from "../export/helpers.ts";
import { PNG, viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";
import { jsonArgs, withWeb } from "./web_helpers.ts";

const BYTES = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);

test("POST /api/requests sends a composed request through the proxy as a new flow", async () => {
  const origin = await recordingOrigin();
  try {
    await withApi({}, async ({ req }) => {
      const url = `http://127.0.0.1:${origin.port}/composed?q=1`;
      const r = await req("/api/requests", {
        method: "POST",
        json: {
          method: "PUT",
          url,
          headers: [["Content-Type", "application/x-bin"], ["X-Made", "by hand"]],
          body: { base64: base64Encode(BYTES) },
        },
      });
      assert.equal(r.status, 201);
      const summary = await r.json();
      assert.equal(summary.request.url, url);
      assert.equal(summary.request.method, "PUT");
      await waitFor("the origin", () => origin.received.length === 1);
      const got = origin.received[0];
      assert.equal(got.method, "PUT");
      assert.equal(got.url, "/composed?q=1");
      assert.deepEqual(got.body, BYTES);
      assert.deepEqual(got.headers.find(([n]) => n === "X-Made"), ["X-Made", "by hand"]);
      const done = await waitFor("the flow's response", async () => {
        const flow = await (await req(`/api/flows/${summary.id}`)).json();
        return flow.response && flow;
      });
      assert.equal(done.response.status, 200);

      // Text bodies and a GET with nothing but a URL.
      const plain = await req("/api/requests", { method: "POST", json: { url, body: "héllo" } });
      assert.equal(plain.status, 201);
      await waitFor("the second", () => origin.received.length === 2);
      assert.equal(new TextDecoder().decode(origin.received[1].body), "héllo");
      assert.equal(origin.received[1].method, "GET");

      for (
        const [body, message] of [
          [{}, /url is missing/],
          [{ url: "ftp://x/" }, /url must be an absolute http/],
          [{ url, method: "GE T" }, /method must be a token/],
          [{ url, body: { base64: "@@@" } }, /body.base64: invalid base64/],
          [{ url, body: 5 }, /body must be a string/],
          [{ url, headers: [["X", "a\r\nb"]] }, /bad header/],
          [{ url, verb: "GET" }, /unknown field "verb"/],
        ] as const
      ) {
        const bad = await req("/api/requests", { method: "POST", json: body });
        assert.equal(bad.status, 400, JSON.stringify(body));
        assert.match((await bad.json()).error, message);
      }
    });
  } finally {
    await origin.close();
  }
});

test("replay with a base64 body edit sends exactly those bytes", async () => {
  const origin = await recordingOrigin();
  try {
    await withApi({}, async ({ proxy, req }) => {
      await viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}/orig`, {
        method: "POST",
        body: "text",
      });
      const [flow] = await waitFor("the flow", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.length === 1 && flows[0].response && flows;
      });
      const r = await req(`/api/flows/${flow.id}/replay`, {
        method: "POST",
        json: { request: { body: { base64: base64Encode(BYTES) } } },
      });
      assert.equal(r.status, 201);
      await waitFor("the replay", () => origin.received.length === 2);
      assert.deepEqual(origin.received[1].body, BYTES);
    });
  } finally {
    await origin.close();
  }
});

test("a paused PNG response edited with a base64 body reaches the client unchanged", async () => {
  await withOrigin(async (origin) => {
    await withApi({ intercept: "~s & ~u /png" }, async ({ proxy, req }) => {
      const answer = viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}/png`);
      const flow = await waitFor("the response to pause", async () => {
        const { flows } = await (await req("/api/flows")).json();
        return flows.find((f: { intercepted: string }) => f.intercepted === "response");
      });
      const resumed = await req(`/api/flows/${flow.id}/resume`, {
        method: "POST",
        json: { response: { status: 201, body: { base64: base64Encode(PNG) } } },
      });
      assert.equal(resumed.status, 200);
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 201/);
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      assert.deepEqual(Uint8Array.from(body, (c) => c.charCodeAt(0)), PNG);
    });
  });
});

test("end to end: compose with curl against the API; the origin and the flow list see it", async () => {
  const origin = await recordingOrigin();
  try {
    await withWeb({}, async ({ api, apiJson }) => {
      const url = `http://127.0.0.1:${origin.port}/from-curl`;
      const made = await api(
        "/api/requests",
        jsonArgs("POST", { method: "POST", url, body: "composed body" }),
      );
      const summary = JSON.parse(made.stdout);
      assert.equal(summary.request.url, url, made.stdout);
      await waitFor("the origin", () => origin.received.length === 1);
      assert.equal(new TextDecoder().decode(origin.received[0].body), "composed body");
      const { flows } = await apiJson("/api/flows") as { flows: { id: string }[] };
      assert.deepEqual(flows.map((f) => f.id), [summary.id]);
    });
  } finally {
    await origin.close();
  }
});
