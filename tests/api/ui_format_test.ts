/** The web UI's formatting helpers, as pure code. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { requestTarget } from "../../src/webui/format.ts";

test("requestTarget: host:port for CONNECT (IPv6 in brackets), the URL otherwise", () => {
  const connect = {
    method: "CONNECT",
    url: "http://example.com:443",
    host: "example.com",
    port: 443,
  };
  assert.equal(requestTarget(connect), "example.com:443");
  assert.equal(
    requestTarget({ ...connect, host: "::1", url: "http://[::1]:8443", port: 8443 }),
    "[::1]:8443",
  );
  const get = { method: "GET", url: "https://example.com/a?b=1", host: "example.com", port: 443 };
  assert.equal(requestTarget(get), "https://example.com/a?b=1");
});
