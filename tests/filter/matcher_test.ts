import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeContent } from "../../src/flow/encoding.ts";
import { parseFilter } from "../../src/filter/mod.ts";
import { bytes, makeFlow, matches } from "./helpers.ts";

/** Asserts which of the expressions match the flow. */
function check(flow: ReturnType<typeof makeFlow>, yes: string[], no: string[]): void {
  for (const expr of yes) assert.equal(matches(expr, flow), true, `should match: ${expr}`);
  for (const expr of no) assert.equal(matches(expr, flow), false, `should not match: ${expr}`);
}

// ---- No-argument filters ----

test("~all and ~http match every flow", () => {
  for (const flow of [makeFlow(), makeFlow({ response: {}, error: "x", marked: true })]) {
    check(flow, ["~all", "~http"], ["!~all", "!~http"]);
  }
});

test("~q: no response yet; ~s: has a response", () => {
  check(makeFlow(), ["~q"], ["~s"]);
  check(makeFlow({ response: { status: 200 } }), ["~s"], ["~q"]);
  // A response without a kept body is still a response.
  check(makeFlow({ response: { status: 204, body: null } }), ["~s"], ["~q"]);
});

test("~e: the flow has an error", () => {
  check(makeFlow({ error: "connection reset" }), ["~e"], []);
  check(makeFlow({ response: {}, error: "killed" }), ["~e", "~e ~s"], []);
  check(makeFlow(), [], ["~e"]);
});

test("~marked", () => {
  check(makeFlow({ marked: true }), ["~marked"], ["!~marked"]);
  check(makeFlow(), [], ["~marked"]);
});

test("~websocket: metadata.websocket, or a 101 response upgrading to websocket", () => {
  check(makeFlow({ metadata: { websocket: true } }), ["~websocket"], []);
  check(makeFlow({ metadata: { websocket: { messages: [] } } }), ["~websocket"], []);
  check(makeFlow({ metadata: { websocket: false } }), [], ["~websocket"]);
  check(makeFlow({ metadata: { other: 1 } }), [], ["~websocket"]);
  check(
    makeFlow({ response: { status: 101, headers: [["Upgrade", "WebSocket"]] } }),
    ["~websocket"],
    [],
  );
  check(
    makeFlow({ response: { status: 101, headers: [["upgrade", "foo, websocket"]] } }),
    ["~websocket"],
    [],
  );
  check(makeFlow({ response: { status: 101, headers: [["Upgrade", "h2c"]] } }), [], ["~websocket"]);
  check(makeFlow({ response: { status: 200, headers: [["Upgrade", "websocket"]] } }), [], [
    "~websocket",
  ]);
  check(makeFlow({ response: { status: 101 } }), [], ["~websocket"]);
});

test("~a: response Content-Type is a script, stylesheet, image or font", () => {
  const asset = [
    "text/javascript",
    "application/javascript; charset=utf-8",
    "application/x-javascript",
    "text/css",
    "image/png",
    "image/svg+xml",
    "IMAGE/GIF",
    "font/woff2",
    "application/font-woff",
  ];
  for (const ct of asset) {
    check(makeFlow({ response: { headers: [["Content-Type", ct]] } }), ["~a"], []);
  }
  for (const ct of ["text/html", "application/json", "text/plain"]) {
    check(makeFlow({ response: { headers: [["Content-Type", ct]] } }), [], ["~a"]);
  }
  // Only the response counts.
  check(makeFlow({ request: { headers: [["Content-Type", "image/png"]] } }), [], ["~a"]);
  check(makeFlow({ response: {} }), [], ["~a"]);
});

// ---- Request line ----

test("~m: method regex", () => {
  const flow = makeFlow({ method: "POST" });
  check(flow, ["~m POST", "~m post", "~m ^P", "~m OS", "~m GET|POST"], ["~m GET", "~m ^OST"]);
});

test("~d: request host", () => {
  const flow = makeFlow({ host: "api.Example.com", port: 8080 });
  check(
    flow,
    ["~d example.com", "~d EXAMPLE", "~d ^api\\.", "~d com$"],
    ["~d 8080", "~d other.org", "~d ^example"],
  );
});

test("~u: request URL, scheme, authority, path and query", () => {
  const flow = makeFlow({ scheme: "https", host: "example.com", port: 8443, path: "/a/b?x=1" });
  check(
    flow,
    [
      "~u ^https://example\\.com:8443/a/b\\?x=1$",
      "~u /A/B",
      "~u x=1",
      "~u :8443",
      "~u ^https:",
    ],
    ["~u ^http:", "~u y=2"],
  );
  // The default port is left out.
  check(makeFlow({ scheme: "https", port: 443, path: "/" }), ["~u ^https://example.com/$"], [
    "~u 443",
  ]);
});

test("a bare regex matches the URL, like ~u", () => {
  const flow = makeFlow({ host: "shop.example.com", path: "/cart?id=7" });
  check(flow, ["cart", "SHOP", "id=7", "'shop\\.example'", "cart ~q"], ["checkout", "cart ~s"]);
  for (const flowX of [flow, makeFlow({ path: "/other" })]) {
    assert.equal(matches("cart", flowX), matches("~u cart", flowX));
  }
});

test("~src: client address:port", () => {
  const flow = makeFlow({ client: { address: "192.168.1.20", port: 51234 } });
  check(
    flow,
    ["~src 192\\.168", "~src :51234$", "~src ^192.168.1.20:51234$"],
    ["~src 10\\.0", "~src :80$"],
  );
  check(makeFlow({ client: { address: "::1", port: 5000 } }), ["~src '^::1:5000$'"], []);
});

test("~dst: server address:port, else the request's host:port", () => {
  check(makeFlow({ host: "example.com", port: 80 }), ["~dst ^example.com:80$"], ["~dst 10\\."]);
  check(
    makeFlow({ host: "example.com", port: 80, server: { address: "10.1.2.3", port: 8080 } }),
    ["~dst ^10.1.2.3:8080$", "~dst 8080"],
    ["~dst example"],
  );
});

// ---- Status ----

test("~c: response status code", () => {
  const flow = makeFlow({ response: { status: 404 } });
  check(flow, ["~c 404", "~c 0404", "!~c 200"], ["~c 200", "~c 40", "~c 4040"]);
  // No response: no code matches, and the negation does.
  check(makeFlow(), ["!~c 200"], ["~c 200", "~c 0"]);
});

// ---- Headers ----

test("~h: each Name: value line, request or response", () => {
  const flow = makeFlow({
    request: { headers: [["Host", "example.com"], ["Accept", "*/*"]] },
    response: { headers: [["Set-Cookie", "id=42; Path=/"], ["Server", "nginx"]] },
  });
  check(
    flow,
    [
      "~h accept",
      "~h 'Accept: \\*/\\*'",
      "~h ^host:",
      "~h example.com$",
      "~h '^server: nginx$'",
      "~h id=42",
      "~hq ^accept",
      "~hs ^set-cookie",
    ],
    ["~h ^nginx", "~hq nginx", "~hs ^host", "~h x-missing", "~hq id=42"],
  );
});

test("~h: a regex can span lines of the header block", () => {
  const flow = makeFlow({ request: { headers: [["A", "1"], ["B", "2"]] } });
  check(flow, ["~hq 'A: 1\\r\\nB: 2'", "~hq '1\\s+B'", "~hq 'B: 2\\r\\n$'"], ["~hq 'B: 2\\r\\nA'"]);
});

test("~h: repeated headers are separate lines", () => {
  const flow = makeFlow({ request: { headers: [["X-Tag", "a"], ["x-tag", "b"]] } });
  check(flow, ["~hq '^x-tag: a$'", "~hq '^x-tag: b$'"], ["~hq 'a, b'"]);
});

test("~hs and ~h with no response", () => {
  const flow = makeFlow({ request: { headers: [["Host", "x"]] } });
  check(flow, ["~h host", "~hq host"], ["~hs host", "~hs .*", "~hs ''"]);
  // An empty header list is still a (blank) block.
  check(makeFlow({ response: { headers: [] } }), ["~hs ^$"], ["~hs ."]);
});

// ---- Content-Type ----

test("~t, ~tq, ~ts: Content-Type of request and response", () => {
  const flow = makeFlow({
    method: "POST",
    request: { headers: [["Content-Type", "application/x-www-form-urlencoded"]] },
    response: { headers: [["Content-Type", "application/json; charset=utf-8"]] },
  });
  check(
    flow,
    ["~t json", "~t form", "~tq form", "~ts json", "~ts ^application/JSON", "~t charset"],
    ["~tq json", "~ts form", "~t html"],
  );
  // Only Content-Type counts, not other headers.
  check(makeFlow({ request: { headers: [["Accept", "text/html"]] } }), [], ["~t html"]);
  check(makeFlow(), [], ["~t .*", "~ts .*", "~tq .*"]);
});

// ---- Bodies ----

test("~b, ~bq, ~bs: request and response bodies", () => {
  const flow = makeFlow({
    method: "POST",
    request: { body: "user=alice&pass=secret" },
    response: { body: '{"ok": true, "token": "XYZ"}' },
  });
  check(
    flow,
    ["~b alice", "~b token", "~bq pass=", "~bs '\"ok\": true'", "~bs XYZ", "~b SECRET"],
    ["~bq token", "~bs alice", "~b bob"],
  );
});

test("body regexes span lines: . matches a line break", () => {
  const flow = makeFlow({ response: { body: "first line\nsecond line" } });
  check(flow, ["~bs 'line.second'", "~bs 'first.*second'", "~bs line$", "~bs '^first'"], [
    "~bs '^second'",
    "~bs 'first line$'",
  ]);
});

test("body filters decode gzip, br and deflate", () => {
  for (const encoding of ["gzip", "br", "deflate", "gzip, br"]) {
    const flow = makeFlow({
      method: "POST",
      request: { body: "request payload " + encoding, encoding },
      response: { body: "<html>hello from " + encoding + "</html>", encoding },
    });
    // Sanity: the stored bytes really are encoded (short brotli output may keep the text as is).
    assert.notDeepEqual(
      flow.response!.body,
      new TextEncoder().encode(`<html>hello from ${encoding}</html>`),
    );
    check(flow, ["~bs 'hello from'", "~bq 'request payload'", "~b '<html>'"], ["~bq hello"]);
  }
});

test("body filters: an undecodable body is matched as raw bytes", () => {
  const flow = makeFlow({
    response: { headers: [["Content-Encoding", "gzip"]], body: "not really gzip" },
    request: { headers: [["Content-Encoding", "x-unknown"]], body: "weird coding" },
  });
  assert.throws(() => flow.response!.decodedBody());
  assert.throws(() => flow.request.decodedBody());
  check(flow, ["~bs 'really gzip'", "~bq 'weird coding'"], ["~bs nothing"]);
});

test("body filters: a missing body never matches, an empty one is empty text", () => {
  const streamed = makeFlow({ response: { body: null } });
  streamed.response!.streamed = true;
  check(streamed, [], ["~b .*", "~bs ''", "~bq ''", "~b ^$"]);
  const empty = makeFlow({ request: { body: "" }, response: { body: "" } });
  check(empty, ["~bq ^$", "~bs ''", "~b .*"], ["~b ."]);
  check(makeFlow(), [], ["~bs .*"]);
});

test("body filters: UTF-8 text, Latin-1 when not UTF-8", () => {
  check(makeFlow({ response: { body: "naïve café ☕" } }), ["~bs café", "~bs ☕", "~bs NAÏVE"], []);
  const latin = makeFlow({ response: { body: bytes("caf\xe9 \xff") } });
  check(latin, ["~bs 'caf\u00e9'", "~bs '\u00ff'"], ["~bs '\ufffd'"]);
});

test("body filters: a body is decoded once per evaluation", () => {
  const flow = makeFlow({ response: { body: "abc", encoding: "gzip" } });
  let calls = 0;
  const original = flow.response!.decodedBody.bind(flow.response!);
  flow.response!.decodedBody = () => {
    calls++;
    return original();
  };
  const f = parseFilter("~bs x | ~b y | ~bs z | ~bs abc");
  assert.equal(f(flow), true);
  assert.equal(calls, 1);
  f(flow);
  assert.equal(calls, 2);
});

test("a body set through setBody is found through its encoding", () => {
  const flow = makeFlow({ response: { headers: [["Content-Encoding", "gzip"]], body: "" } });
  flow.response!.setBody("replaced by an addon");
  assert.deepEqual(
    flow.response!.body,
    encodeContent(new TextEncoder().encode("replaced by an addon"), "gzip"),
  );
  check(flow, ["~bs 'by an addon'"], []);
});

// ---- Case-insensitivity ----

test("every regex filter is case-insensitive", () => {
  const flow = makeFlow({
    method: "PATCH",
    host: "Host.Example",
    path: "/Path",
    client: { address: "Client.Local", port: 1 },
    server: { address: "Server.Local", port: 2 },
    request: { headers: [["X-Req", "ReqValue"], ["Content-Type", "Text/Plain"]], body: "ReqBody" },
    response: { headers: [["X-Res", "ResValue"], ["Content-Type", "Image/Png"]], body: "ResBody" },
  });
  check(
    flow,
    [
      "~m patch",
      "~d host.EXAMPLE",
      "~u /path",
      "/PATH",
      "~src client",
      "~dst SERVER",
      "~h 'x-req: reqvalue'",
      "~hq X-REQ",
      "~hs 'x-res: RESVALUE'",
      "~t text/PLAIN",
      "~tq TEXT",
      "~ts image",
      "~b reqbody",
      "~bq REQBODY",
      "~bs resbody",
    ],
    [],
  );
});

// ---- Operators on flows ----

test("operators combine filters as expected", () => {
  const get = makeFlow({ method: "GET", host: "a.com", response: { status: 200 } });
  const post = makeFlow({ method: "POST", host: "b.com" });
  const cases: Array<[string, boolean, boolean]> = [
    ["~m GET & ~d a.com", true, false],
    ["~m GET ~d a.com", true, false],
    ["~m GET | ~d b.com", true, true],
    ["!~m GET", false, true],
    ["!(~m GET | ~d b.com)", false, false],
    ["~q | ~c 200", true, true],
    ["~s & !~c 200", false, false],
    ["!~s & ~d b", false, true],
    ["~d a | ~d b ~s", true, false],
    ["~d a | (~d b ~s)", true, false],
    ["~d b | ~d a & ~q", false, true],
    ["!!~q", false, true],
  ];
  for (const [expr, g, p] of cases) {
    assert.equal(matches(expr, get), g, `${expr} on GET`);
    assert.equal(matches(expr, post), p, `${expr} on POST`);
  }
});

test("and/or short-circuit: later filters are not evaluated", () => {
  const flow = makeFlow({ response: { body: "x", encoding: "gzip" } });
  let calls = 0;
  flow.response!.decodedBody = () => {
    calls++;
    return null;
  };
  assert.equal(matches("~q & ~bs x", flow), false);
  assert.equal(matches("~s | ~bs x", flow), true);
  assert.equal(calls, 0);
});

test("a filter does not change the flow", () => {
  const flow = makeFlow({
    request: { headers: [["A", "1"]], body: "q", encoding: "gzip" },
    response: { headers: [["B", "2"]], body: "s", encoding: "br" },
  });
  const before = JSON.stringify({
    req: flow.request.headers.raw,
    res: flow.response!.headers.raw,
    qb: Array.from(flow.request.body!),
    sb: Array.from(flow.response!.body!),
    m: flow.metadata,
  });
  matches("~b q ~h a ~t x ~a ~websocket ~dst x ~src y | ~all", flow);
  const after = JSON.stringify({
    req: flow.request.headers.raw,
    res: flow.response!.headers.raw,
    qb: Array.from(flow.request.body!),
    sb: Array.from(flow.response!.body!),
    m: flow.metadata,
  });
  assert.equal(after, before);
});

test("the same filter gives the same answer twice (no RegExp lastIndex state)", () => {
  const f = parseFilter("~d example");
  const flow = makeFlow();
  for (let i = 0; i < 3; i++) assert.equal(f(flow), true);
});
