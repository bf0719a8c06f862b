/** FlowRequest.target: what a person reads as the request's target. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { simpleFlow } from "./helpers.ts";

test("target: host:port for CONNECT (IPv6 in brackets, the port always), the URL otherwise", () => {
  const request = simpleFlow().request;
  assert.equal(request.target, "http://127.0.0.1:8000/");
  request.method = "CONNECT";
  request.scheme = "https";
  request.port = 443;
  request.path = "";
  assert.equal(request.target, "127.0.0.1:443");
  request.host = "::1";
  assert.equal(request.target, "[::1]:443");
  assert.equal(request.url, "https://[::1]", "the URL is unchanged");
});
