import { test } from "node:test";
import assert from "node:assert/strict";
import { listenPorts, ModeError, parseMode } from "../../src/proxy/modes/spec.ts";
import {
  authorized,
  basicAuthorization,
  constantTimeEqual,
  parseCredentials,
} from "../../src/proxy/layers/proxy_auth.ts";

test("parseMode: kinds, URLs with default ports, @port", () => {
  assert.deepEqual(parseMode("regular"), { kind: "regular", text: "regular", listenPort: null });
  assert.deepEqual(parseMode("socks5@1080"), {
    kind: "socks5",
    text: "socks5@1080",
    listenPort: 1080,
  });
  assert.deepEqual(parseMode("reverse:https://example.com@8443"), {
    kind: "reverse",
    text: "reverse:https://example.com@8443",
    listenPort: 8443,
    scheme: "https",
    host: "example.com",
    port: 443,
  });
  const up = parseMode("upstream:http://[::1]:3128");
  assert.equal(up.kind, "upstream");
  assert.deepEqual(up.kind === "upstream" && [up.host, up.port, up.listenPort], [
    "::1",
    3128,
    null,
  ]);
});

test("parseMode: what is wrong, in one line", () => {
  for (
    const [text, pattern] of [
      ["bogus", /is not a mode/],
      ["socks5:x", /takes no URL/],
      ["reverse:", /needs a URL/],
      ["reverse:not a url", /is not a URL/],
      ["upstream:https://p:1", /must start with http:\/\//],
      ["upstream:http://u:p@proxy:1", /upstream_auth/],
      ["reverse:http://h/path", /must not have a path/],
      ["regular@70000", /out of range/],
    ] as const
  ) {
    assert.throws(
      () => parseMode(text),
      (e: Error) => e instanceof ModeError && pattern.test(e.message),
    );
  }
});

test("listenPorts: @port wins, one mode may use the default", () => {
  const modes = ["regular", "socks5@1080"].map(parseMode);
  assert.deepEqual(listenPorts(modes, 8080), [8080, 1080]);
  assert.throws(() => listenPorts(["regular", "socks5"].map(parseMode), 8080), /both want/);
});

test("proxyauth: Basic value, case-insensitive scheme, wrong and malformed refused", () => {
  const c = parseCredentials("user:pa:ss")!;
  assert.deepEqual(c, { username: "user", password: "pa:ss" });
  assert.equal(parseCredentials("nocolon"), null);
  const expected = basicAuthorization(c);
  assert.equal(expected, `Basic ${btoa("user:pa:ss")}`);
  assert.ok(authorized(expected, expected));
  assert.ok(authorized(`basic  ${btoa("user:pa:ss")} `, expected));
  assert.equal(authorized(undefined, expected), false);
  assert.equal(authorized(`Basic ${btoa("user:pa:sS")}`, expected), false);
  assert.equal(authorized(`Bearer ${btoa("user:pa:ss")}`, expected), false);
  assert.equal(authorized("Basic", expected), false);
  assert.ok(constantTimeEqual("", ""));
  assert.equal(constantTimeEqual("a", "ab"), false);
  assert.equal(constantTimeEqual("ab", "a"), false);
});
