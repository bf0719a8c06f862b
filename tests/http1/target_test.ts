import { test } from "node:test";
import assert from "node:assert/strict";
import {
  formatAuthority,
  HttpError,
  parseAuthority,
  parseTarget,
  RequestReader,
} from "../../src/http1/mod.ts";
import { assertOneLine, b } from "./helpers.ts";

function rejects(method: string, target: string, message: RegExp): void {
  assert.throws(
    () => parseTarget(method, target),
    (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.status, 400);
      assert.match(e.message, message);
      assertOneLine(e.message);
      return true;
    },
    `${method} ${target}`,
  );
}

test("parseTarget: origin-form keeps path and query as sent", () => {
  assert.deepEqual(parseTarget("GET", "/"), { form: "origin", path: "/" });
  assert.deepEqual(parseTarget("GET", "/a/b?c=d&e=%20"), {
    form: "origin",
    path: "/a/b?c=d&e=%20",
  });
  assert.deepEqual(parseTarget("POST", "//double"), { form: "origin", path: "//double" });
});

test("parseTarget: absolute-form", () => {
  assert.deepEqual(parseTarget("GET", "http://Example.COM/x?y"), {
    form: "absolute",
    scheme: "http",
    host: "example.com",
    port: 80,
    path: "/x?y",
  });
  assert.deepEqual(parseTarget("GET", "HTTPS://example.com:8443"), {
    form: "absolute",
    scheme: "https",
    host: "example.com",
    port: 8443,
    path: "/",
  });
  assert.deepEqual(parseTarget("GET", "http://example.com?q=1"), {
    form: "absolute",
    scheme: "http",
    host: "example.com",
    port: 80,
    path: "/?q=1",
  });
  assert.deepEqual(parseTarget("GET", "ws://[::1]:9000/chat"), {
    form: "absolute",
    scheme: "ws",
    host: "::1",
    port: 9000,
    path: "/chat",
  });
  assert.deepEqual(parseTarget("GET", "wss://10.0.0.1/"), {
    form: "absolute",
    scheme: "wss",
    host: "10.0.0.1",
    port: 443,
    path: "/",
  });
  // An "@" after the authority is part of the path, not userinfo.
  assert.deepEqual(parseTarget("GET", "http://a.example/p@q"), {
    form: "absolute",
    scheme: "http",
    host: "a.example",
    port: 80,
    path: "/p@q",
  });
  // An empty port means the default one (RFC 3986 allows "host:").
  assert.deepEqual(parseTarget("GET", "http://a.example:/"), {
    form: "absolute",
    scheme: "http",
    host: "a.example",
    port: 80,
    path: "/",
  });
});

test("parseTarget: absolute-form with an unknown scheme needs an explicit port", () => {
  assert.deepEqual(parseTarget("GET", "foo+bar://h:1/"), {
    form: "absolute",
    scheme: "foo+bar",
    host: "h",
    port: 1,
    path: "/",
  });
  rejects("GET", "foo://h/", /port/);
  rejects("GET", "foo://h/", /^(?!CONNECT)/); // not a message about CONNECT
});

test("parseTarget: a scheme named like an Object.prototype key has no default port", () => {
  // "constructor" must not find Object.prototype.constructor as its default port.
  rejects("GET", "constructor://h/", /port/);
  assert.equal(
    (parseTarget("GET", "constructor://h:81/") as { port: number }).port,
    81,
  );
});

test("parseTarget: authority-form for CONNECT", () => {
  assert.deepEqual(parseTarget("CONNECT", "Example.com:443"), {
    form: "authority",
    host: "example.com",
    port: 443,
  });
  assert.deepEqual(parseTarget("CONNECT", "[2001:db8::1]:8443"), {
    form: "authority",
    host: "2001:db8::1",
    port: 8443,
  });
  assert.deepEqual(parseTarget("CONNECT", "127.0.0.1:65535"), {
    form: "authority",
    host: "127.0.0.1",
    port: 65535,
  });
});

test("parseTarget: asterisk-form only for OPTIONS", () => {
  assert.deepEqual(parseTarget("OPTIONS", "*"), { form: "asterisk" });
  rejects("GET", "*", /asterisk-form is only valid for OPTIONS/);
  assert.deepEqual(parseTarget("OPTIONS", "/"), { form: "origin", path: "/" });
  assert.equal(parseTarget("OPTIONS", "http://a/").form, "absolute");
});

test("parseTarget: CONNECT refuses targets without host:port", () => {
  rejects("CONNECT", "example.com", /CONNECT target needs host:port/);
  rejects("CONNECT", "example.com:", /CONNECT target needs host:port/);
  rejects("CONNECT", "[::1]", /CONNECT target needs host:port/);
  rejects("CONNECT", "/path", /host name is invalid|port/);
  rejects("CONNECT", "example.com:443/x", /port is not a number/);
  rejects("CONNECT", ":443", /request-target has no host/);
});

test("parseTarget refuses userinfo in absolute-form and authority-form", () => {
  rejects("GET", "http://user@example.com/", /userinfo/);
  rejects("GET", "http://user:pw@example.com:80/", /userinfo/);
  rejects("GET", "http://evil.example@good.example/", /userinfo/);
  rejects("CONNECT", "user@example.com:443", /userinfo/);
});

test("parseTarget refuses fragments", () => {
  rejects("GET", "/a#b", /fragment/);
  rejects("GET", "/#", /fragment/);
  rejects("GET", "http://a.example/x#y", /fragment/);
  rejects("GET", "http://a.example#y", /fragment/);
});

test("parseTarget refuses malformed targets", () => {
  rejects("GET", "", /not a path, URL or host:port/);
  rejects("GET", "example.com", /not a path, URL or host:port/);
  rejects("GET", "://a/", /not a path, URL or host:port/);
  rejects("GET", "1http://a/", /scheme is invalid/);
  rejects("GET", "ht_tp://a/", /scheme is invalid/);
  rejects("GET", "http:///path", /has no host/);
  rejects("GET", "http://a b/", /host name is invalid/);
  rejects("GET", "http://a<b/", /host name is invalid/);
  rejects("GET", "http://a:port/", /port is not a number/);
  rejects("GET", "http://a:0/", /port is out of range/);
  rejects("GET", "http://a:65536/", /port is out of range/);
  rejects("GET", "http://a:123456/", /port is not a number/);
  rejects("GET", "http://a:-1/", /port is not a number/);
  rejects("GET", "http://[::1/", /lacks '\]'/);
  rejects("GET", "http://[zz::1]/", /IPv6 address in request-target is invalid/);
  rejects("GET", "http://[1.2.3.4]/", /IPv6 address in request-target is invalid/);
  rejects("GET", "http://[::1]x/", /junk after IPv6 address/);
});

test("parseAuthority applies the default port and lowercases the host", () => {
  assert.deepEqual(parseAuthority("Example.com", 80), { host: "example.com", port: 80 });
  assert.deepEqual(parseAuthority("a:8080", 80), { host: "a", port: 8080 });
  assert.deepEqual(parseAuthority("[FE80::1]", 443), { host: "fe80::1", port: 443 });
});

test("formatAuthority brackets IPv6 and omits the default port", () => {
  assert.equal(formatAuthority("example.com", 80, 80), "example.com");
  assert.equal(formatAuthority("example.com", 8080, 80), "example.com:8080");
  assert.equal(formatAuthority("::1", 443, 443), "[::1]");
  assert.equal(formatAuthority("::1", 8443), "[::1]:8443");
});

test("request line forms come through the reader unchanged and parse with parseTarget", () => {
  const cases: [string, string, string][] = [
    ["GET", "/index.html?x=1", "origin"],
    ["GET", "http://example.com:8080/a", "absolute"],
    ["CONNECT", "example.com:443", "authority"],
    ["OPTIONS", "*", "asterisk"],
  ];
  for (const [method, target, form] of cases) {
    const r = new RequestReader();
    r.feed(b(`${method} ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`));
    const ev = r.next();
    assert.ok(ev !== null && ev.type === "head");
    assert.equal(ev.head.method, method);
    assert.equal(ev.head.target, target);
    assert.equal(parseTarget(ev.head.method, ev.head.target).form, form);
    assert.deepEqual(r.next(), { type: "end", trailers: null });
  }
});
