/**
 * What the proxy records is what happened on the wire (issue 16): a message an addon changed is
 * recorded with the framing it was really sent with (the new Content-Length), and HAR timings
 * give the origin connect and TLS time to the first flow on that connection (also when an HTTPS
 * tunnel opened it before the request), -1 to the flows that reuse it. Real curl, real origins on
 * 127.0.0.1, the proxy's own `record` and `hardump` files read back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Addon } from "../../mod.ts";
import { readFlows } from "../../src/flow/record_file.ts";
import { curlVia, echoOrigin, parseCurlI, withAddons } from "../addons/helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir, testCaFile } from "./https_helpers.ts";
import { viaProxy, waitFor, withApi, withOrigin } from "../api/helpers.ts";

test("bodies an addon changed are recorded with the Content-Length that was sent", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin((_req, res) => res.end("hello"));
  const tmp = tempDir("mitm-framing-");
  const file = join(tmp.dir, "flows.jsonl");
  const newRequest = "a new request body";
  const newResponse = "a changed, longer response body";
  const addon: Addon = {
    name: "rewriter",
    request: (f) => f.request.setText(newRequest),
    response: (f) => f.response!.setText(newResponse),
  };
  try {
    await withAddons([addon], async ({ url }) => {
      const r = await curlVia(url, ["-i", "-d", "abc", `http://127.0.0.1:${origin.port}/x`]);
      assert.equal(r.code, 0, r.stderr);
      const res = parseCurlI(r.stdout);
      assert.equal(res.body, newResponse);
      const sentLength = res.headers.find(([n]) => /^content-length$/i.test(n))?.[1];
      assert.equal(sentLength, String(newResponse.length), "the client got the new length");
    }, { record: file });
    assert.equal(origin.received[0].headers["content-length"], String(newRequest.length));
    const { flows } = readFlows(file);
    assert.equal(flows.length, 1);
    const [flow] = flows;
    assert.equal(flow.request.text(), newRequest);
    assert.equal(flow.request.headers.get("content-length"), String(newRequest.length));
    assert.equal(flow.response!.text(), newResponse);
    assert.equal(flow.response!.headers.get("content-length"), String(newResponse.length));
    assert.equal(flow.response!.headers.has("transfer-encoding"), false);
  } finally {
    await origin.close();
    tmp.remove();
  }
});

// deno-lint-ignore no-explicit-any
type Json = any;

/** A header's value in the API's flow JSON ([name, value] pairs). */
function headerOf(headers: [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

test("bodies edited in the intercept editor are recorded with the Content-Length that was sent", {
  timeout: 60_000,
}, async () => {
  await withOrigin(async (origin) => {
    await withApi({ intercept: "~u /edit" }, async ({ proxy, req }) => {
      const paused = async (phase: string) =>
        await waitFor(`a flow paused at ${phase}`, async () => {
          const { flows } = await (await req("/api/flows")).json();
          return (flows as Json[]).find((f) => f.intercepted === phase);
        });
      const base = `http://127.0.0.1:${origin.port}`;
      const answer = viaProxy(proxy.address.port, `${base}/edit`, { method: "POST", body: "orig" });
      // The editor changes the body only: the head still says Content-Length: 4.
      const atRequest = await paused("request");
      const edited = await req(`/api/flows/${atRequest.id}/resume`, {
        method: "POST",
        json: { request: { body: "changed body" } },
      });
      assert.equal(edited.status, 200);
      const atResponse = await paused("response");
      const done = await req(`/api/flows/${atResponse.id}/resume`, {
        method: "POST",
        json: { response: { body: "edited!" } },
      });
      assert.equal(done.status, 200);
      const text = await answer;
      assert.match(text, /\r\nContent-Length: 7\r\n/i);
      assert.match(text, /\r\n\r\nedited!$/);
      const seen = origin.requests.find((r) => r.line.startsWith("POST"))!;
      assert.equal(seen.headers["content-length"], "12");
      const whole = await waitFor("the finished flow", async () => {
        const f = await (await req(`/api/flows/${atRequest.id}`)).json();
        return f.intercepted === null && f.response && f;
      });
      assert.equal(headerOf(whole.request.headers, "content-length"), "12");
      assert.equal(headerOf(whole.response.headers, "content-length"), "7");
    });
  });
});

function harEntries(file: string): Json[] {
  return JSON.parse(readFileSync(file, "utf8")).log.entries;
}

test("HAR: connect and ssl belong to the first flow on an HTTPS connection, -1 for the next", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir("mitm-har-timings-");
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const file = join(tmp.dir, "dump.har");
  try {
    await withAddons([], async ({ url }) => {
      // One CONNECT, two requests in it, one origin connection (opened for the certificate).
      const base = `https://localhost:${origin.port}`;
      const r = await curlVia(url, ["--cacert", await testCaFile(), `${base}/1`, `${base}/2`]);
      assert.equal(r.code, 0, r.stderr);
    }, { hardump: file, ssl_verify_upstream_trusted_ca: cert.caFile });
    assert.equal(origin.connections(), 1);
    const entries = harEntries(file).filter((e) => e.request.method === "GET");
    assert.deepEqual(entries.map((e) => new URL(e.request.url).pathname), ["/1", "/2"]);
    const [first, second] = entries.map((e) => e.timings);
    assert.ok(first.connect >= 0, `first flow: connect ${first.connect}`);
    assert.ok(first.ssl >= 0, `first flow: ssl ${first.ssl}`);
    assert.ok(first.ssl <= first.connect, "ssl is counted inside connect");
    assert.equal(second.connect, -1, "the second flow reused the connection");
    assert.equal(second.ssl, -1);
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("HAR: plain HTTP, the first flow's connect is measured, no ssl; the reuse has -1", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin();
  const tmp = tempDir("mitm-har-timings-");
  const file = join(tmp.dir, "dump.har");
  try {
    await withAddons([], async ({ url }) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const r = await curlVia(url, [`${base}/1`, `${base}/2`]);
      assert.equal(r.code, 0, r.stderr);
    }, { hardump: file });
    assert.equal(origin.connections(), 1);
    const [first, second] = harEntries(file).map((e) => e.timings);
    assert.ok(first.connect >= 0, `first flow: connect ${first.connect}`);
    assert.equal(first.ssl, -1);
    assert.equal(second.connect, -1);
    assert.equal(second.ssl, -1);
  } finally {
    await origin.close();
    tmp.remove();
  }
});
