/**
 * Which TLS connections are intercepted (src/proxy/tls_policy.ts): --ignore-hosts and
 * --allow-hosts regexes searched in "host:port", the SNI and "sni:port"; sni undefined before the
 * ClientHello, null when the client sent none. true = intercept, false = pass through.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { interceptPolicy } from "../../src/proxy/tls_policy.ts";

test("no lists: everything is intercepted", () => {
  const p = interceptPolicy([], []);
  for (const sni of [undefined, null, "a.test"]) {
    assert.equal(p("a.test", 443, sni), true);
    assert.equal(p("10.0.0.1", 8443, sni), true);
  }
});

test("ignore-hosts: host:port decides before the ClientHello (sni undefined) when it matches", () => {
  const p = interceptPolicy(["example\\.com"], []);
  assert.equal(p("example.com", 443, undefined), false);
  assert.equal(p("www.example.com", 8443, undefined), false); // searched, not anchored
  // An IP address says nothing about the name yet: intercept for now, decide on the SNI.
  assert.equal(p("93.184.216.34", 443, undefined), true);
  assert.equal(p("93.184.216.34", 443, "example.com"), false);
  assert.equal(p("93.184.216.34", 443, "api.example.com"), false);
  assert.equal(p("93.184.216.34", 443, "example.org"), true);
  assert.equal(p("93.184.216.34", 443, null), true);
  // The CONNECT host matching is enough, whatever the SNI says.
  assert.equal(p("example.com", 443, "other.test"), false);
  assert.equal(p("example.com", 443, null), false);
  assert.equal(p("other.test", 443, "other.test"), true);
});

test("ignore-hosts: case-insensitive; ports and anchors match against host:port and sni:port", () => {
  assert.equal(interceptPolicy(["EXAMPLE\\.COM"], [])("example.com", 443, undefined), false);
  assert.equal(interceptPolicy(["example"], [])("1.2.3.4", 443, "WWW.EXAMPLE.TEST"), false);

  const port = interceptPolicy([":8443$"], []);
  assert.equal(port("a.test", 8443, undefined), false);
  assert.equal(port("a.test", 443, undefined), true);
  assert.equal(port("a.test", 443, "a.test"), true);

  // Anchored on both ends: "host:port" and "sni:port" can match, and so can the bare SNI.
  const hostPort = interceptPolicy(["^a\\.test:443$"], []);
  assert.equal(hostPort("a.test", 443, undefined), false);
  assert.equal(hostPort("a.test", 444, undefined), true);
  assert.equal(hostPort("10.0.0.1", 443, "a.test"), false); // via "a.test:443"
  assert.equal(hostPort("10.0.0.1", 444, "a.test"), true);
  const bare = interceptPolicy(["^a\\.test$"], []);
  assert.equal(bare("a.test", 443, undefined), true); // "a.test:443" does not match ^a\.test$
  assert.equal(bare("10.0.0.1", 443, "a.test"), false); // the bare SNI does
  assert.equal(bare("10.0.0.1", 443, "b.a.test"), true);
});

test("allow-hosts: before the ClientHello nothing is ruled out; then host:port or SNI must match", () => {
  const p = interceptPolicy([], ["^allowed\\.test"]);
  // sni undefined: intercept for now (the SNI may still match).
  assert.equal(p("allowed.test", 443, undefined), true);
  assert.equal(p("other.test", 443, undefined), true);
  assert.equal(p("10.0.0.1", 443, undefined), true);
  // After the ClientHello: either subject matching is enough.
  assert.equal(p("10.0.0.1", 443, "allowed.test"), true);
  assert.equal(p("allowed.test", 443, "other.test"), true);
  assert.equal(p("other.test", 443, "other.test"), false);
  assert.equal(p("other.test", 443, "not-allowed.test"), false); // anchored by the user
  // No SNI (null): only host:port can match.
  assert.equal(p("allowed.test", 443, null), true);
  assert.equal(p("10.0.0.1", 443, null), false);
  // An empty SNI is no SNI (the parser refuses it anyway).
  assert.equal(p("10.0.0.1", 443, ""), false);
});

test("allow-hosts with ports: sni:port", () => {
  const p = interceptPolicy([], ["\\.test:8443$"]);
  assert.equal(p("10.0.0.1", 8443, "a.test"), true);
  assert.equal(p("10.0.0.1", 443, "a.test"), false);
  assert.equal(p("a.test", 8443, null), true);
});

test("both lists: an ignore match wins over an allow match", () => {
  const p = interceptPolicy(["secret"], ["\\.test"]);
  assert.equal(p("secret.test", 443, undefined), false);
  assert.equal(p("10.0.0.1", 443, "secret.test"), false);
  assert.equal(p("public.test", 443, "public.test"), true);
  assert.equal(p("public.org", 443, "public.org"), false);
  assert.equal(p("public.org", 443, undefined), true);
});

test("several regexes: any one matching counts; answers do not change between calls", () => {
  const p = interceptPolicy(["^one\\.", "two"], ["three", "four"]);
  for (let i = 0; i < 3; i++) {
    assert.equal(p("one.test", 443, "one.test"), false);
    assert.equal(p("x.test", 443, "two.test"), false);
    assert.equal(p("x.test", 443, "three.test"), true);
    assert.equal(p("x.test", 443, "four.test"), true);
    assert.equal(p("x.test", 443, "five.test"), false);
  }
});

test("an invalid regex throws when the policy is made", () => {
  assert.throws(() => interceptPolicy(["("], []), SyntaxError);
  assert.throws(() => interceptPolicy([], ["[a-"]), SyntaxError);
});
