/**
 * Secrets stay out of the output: with -v, neither the proxyauth password, a given API token, nor
 * the values of Proxy-Authorization / Authorization headers are ever printed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startProxyProcess } from "../e2e/helpers.ts";
import { completeResponse, exchange, recordingOrigin, sleep } from "./helpers.ts";

const PASSWORD = "proxy-pw-5ecret";
const TOKEN = "api-token-5ecret";
const BEARER = "bearer-5ecret";
const btoa64 = (s: string) => Buffer.from(s).toString("base64");

test("-v output never contains proxyauth, the API token or Authorization values", {
  timeout: 60_000,
}, async () => {
  const origin = await recordingOrigin();
  const proxy = await startProxyProcess([
    "-v",
    "--web-port",
    "0",
    "--api-token",
    TOKEN,
    "--set",
    `proxyauth=alice:${PASSWORD}`,
  ]);
  try {
    const url = `http://127.0.0.1:${origin.port}/`;
    const good = `Basic ${btoa64(`alice:${PASSWORD}`)}`;
    const bad = `Basic ${btoa64(`alice:wrong-${PASSWORD}`)}`;
    const request = (auth: string) =>
      `GET ${url} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${auth}\r\n` +
      `Authorization: Bearer ${BEARER}\r\nCookie: session=${BEARER}\r\n\r\n`;
    const ok = await exchange(proxy.port, request(good), completeResponse);
    assert.match(ok.text, /^HTTP\/1\.1 200 /);
    const refused = await exchange(proxy.port, request(bad), completeResponse);
    assert.match(refused.text, /^HTTP\/1\.1 407 /);
    // Proxy-Authorization is hop-by-hop: the origin never sees it either.
    assert.doesNotMatch(origin.all(), /Proxy-Authorization/i);
    await sleep(200); // let the flow lines reach the output
  } finally {
    await proxy.stop();
    await origin.close();
  }
  const out = proxy.output();
  assert.match(out, /GET http:\/\/127\.0\.0\.1:\d+\//, "the flows were printed");
  for (const secret of [PASSWORD, TOKEN, BEARER, btoa64(`alice:${PASSWORD}`)]) {
    assert.ok(!out.includes(secret), `output contains ${secret}:\n${out}`);
  }
});
