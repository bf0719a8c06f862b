import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import {
  flowsToHar,
  harEntriesToFlows,
  harTimings,
  harToFlows,
  parseSetCookie,
} from "../../src/flow/har.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { flowToJson } from "../../src/flow/serialize.ts";
import { VERSION } from "../../src/version.ts";
import { BINARY, errorFlow, richFlow, simpleFlow, T0 } from "./helpers.ts";
import { validateHar } from "./har_schema.ts";

function assertValid(har: unknown): void {
  const { valid, errors } = validateHar(har);
  assert.ok(valid, `HAR 1.2 schema: ${JSON.stringify(errors, null, 2)}`);
}

/** A streamed upload to an IPv6 origin over a reused connection. */
function streamedFlow(): Flow {
  const flow = simpleFlow("done");
  flow.request.method = "PUT";
  flow.request.host = "::1";
  flow.request.body = null;
  flow.request.streamed = true;
  flow.request.bodySize = 10_000_000;
  flow.server = {
    address: "::1",
    port: 8000,
    tls: null,
    timestampTcpStart: T0 - 5000,
    timestampTcpEnd: T0 - 4990,
  };
  return flow;
}

test("flowsToHar output validates against the HAR 1.2 JSON schema", () => {
  const flows = [richFlow(), simpleFlow(BINARY), errorFlow(), streamedFlow()];
  const weird = simpleFlow("x", { path: "/a b/|{}?q=\u00e9" });
  flows.push(weird);
  const har = flowsToHar(flows);
  assertValid(har);
  assertValid(JSON.parse(JSON.stringify(har)));
  assert.equal(har.log.version, "1.2");
  assert.deepEqual(har.log.creator, { name: "mitm.ts", version: VERSION });
  assert.equal(har.log.pages, undefined);
  assert.equal(har.log.entries.length, flows.length);
  assert.equal(har.log.entries[4].request.url, "http://127.0.0.1:8000/a%20b/%7C%7B%7D?q=%E9");
  assert.equal(har.log.entries[3].serverIPAddress, "::1");
  assert.deepEqual(
    flowsToHar([], { creator: { name: "x", version: "9" } }).log.creator,
    { name: "x", version: "9" },
  );
});

test("the schema check is real: a broken HAR fails it", () => {
  const har = flowsToHar([richFlow()]);
  const broken = JSON.parse(JSON.stringify(har));
  delete broken.log.entries[0].response.content;
  broken.log.entries[0].startedDateTime = "yesterday";
  assert.equal(validateHar(broken).valid, false);
  const badIp = JSON.parse(JSON.stringify(har));
  badIp.log.entries[0].serverIPAddress = "example.com";
  assert.equal(validateHar(badIp).valid, false);
});

test("request: url, headers in order, cookies, queryString, postData", () => {
  const entry = flowsToHar([richFlow()]).log.entries[0];
  const rq = entry.request;
  assert.equal(rq.method, "POST");
  assert.equal(rq.url, "https://example.com/api/items?q=hello%20world&x=1&x=2&plus=a+b");
  assert.equal(rq.httpVersion, "HTTP/1.1");
  assert.deepEqual(rq.headers.slice(0, 4), [
    { name: "Host", value: "example.com" },
    { name: "X-Custom-CASE", value: "first" },
    { name: "Cookie", value: "session=abc123; theme=dark" },
    { name: "x-custom-case", value: "second" },
  ]);
  assert.deepEqual(rq.cookies, [
    { name: "session", value: "abc123" },
    { name: "theme", value: "dark" },
  ]);
  assert.deepEqual(rq.queryString, [
    { name: "q", value: "hello world" },
    { name: "x", value: "1" },
    { name: "x", value: "2" },
    { name: "plus", value: "a b" },
  ]);
  assert.deepEqual(rq.postData, {
    mimeType: "application/json; charset=utf-8",
    text: '{"name":"caf\u00e9 \u2603","n":1}',
  });
  assert.equal(rq.bodySize, new TextEncoder().encode(rq.postData.text!).length);
  const line = "POST /api/items?q=hello%20world&x=1&x=2&plus=a+b HTTP/1.1\r\n";
  const fields = richFlow().request.headers.raw;
  let size = line.length + 2;
  for (let i = 0; i < fields.length; i += 2) size += `${fields[i]}: ${fields[i + 1]}\r\n`.length;
  assert.equal(rq.headersSize, size);
});

test("request: form bodies get params, binary bodies base64 with _encoding", () => {
  const form = simpleFlow();
  form.request.method = "POST";
  form.request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  form.request.body = new TextEncoder().encode("a=1&b=x+y&c=%26");
  form.request.bodySize = form.request.body.length;
  const bin = simpleFlow();
  bin.request.method = "POST";
  bin.request.headers.set("Content-Type", "application/octet-stream");
  bin.request.body = BINARY;
  bin.request.bodySize = BINARY.length;
  const [f, b] = flowsToHar([form, bin]).log.entries;
  assert.deepEqual(f.request.postData, {
    mimeType: "application/x-www-form-urlencoded",
    text: "a=1&b=x+y&c=%26",
    params: [{ name: "a", value: "1" }, { name: "b", value: "x y" }, { name: "c", value: "&" }],
  });
  assert.deepEqual(b.request.postData, {
    mimeType: "application/octet-stream",
    text: Buffer.from(BINARY).toString("base64"),
    _encoding: "base64",
  });
  // No body: no postData.
  assert.equal(flowsToHar([simpleFlow()]).log.entries[0].request.postData, undefined);
});

test("response: Set-Cookie parsed, content decoded with compression, redirectURL", () => {
  const flow = richFlow();
  const rs = flowsToHar([flow]).log.entries[0].response;
  assert.equal(rs.status, 200);
  assert.equal(rs.statusText, "OK");
  assert.deepEqual(rs.cookies, [
    {
      name: "sid",
      value: "xyz",
      path: "/",
      domain: "example.com",
      expires: "2026-10-21T07:28:00.000Z",
      httpOnly: true,
      secure: true,
    },
    {
      name: "pref",
      value: "1",
      expires: new Date(T0 + 100 + 3600_000).toISOString(),
      httpOnly: false,
      secure: false,
    },
  ]);
  const decoded = new TextEncoder().encode("<html>hello \u00fcber</html>");
  assert.deepEqual(rs.content, {
    size: decoded.length,
    compression: decoded.length - flow.response!.body!.length,
    mimeType: "text/html; charset=utf-8",
    text: "<html>hello \u00fcber</html>",
  });
  assert.equal(rs.bodySize, flow.response!.body!.length);
  assert.equal(rs.redirectURL, "");

  const redirect = simpleFlow("", { status: 302 });
  redirect.response!.headers.append("Location", "https://example.org/next");
  assert.equal(
    flowsToHar([redirect]).log.entries[0].response.redirectURL,
    "https://example.org/next",
  );
});

test("parseSetCookie: attributes in any case, Max-Age over Expires, bad dates left out", () => {
  assert.deepEqual(
    parseSetCookie("a=b=c; expires=Thu, 01 Jan 2099 00:00:00 GMT; max-age=10; PATH=/x", 1000),
    {
      name: "a",
      value: "b=c",
      expires: "1970-01-01T00:00:11.000Z",
      path: "/x",
      httpOnly: false,
      secure: false,
    },
  );
  assert.deepEqual(parseSetCookie("a=1; Expires=someday; Max-Age=0", 5000), {
    name: "a",
    value: "1",
    expires: "1970-01-01T00:00:00.000Z",
    httpOnly: false,
    secure: false,
  });
  assert.deepEqual(parseSetCookie("flag", 0), {
    name: "",
    value: "flag",
    httpOnly: false,
    secure: false,
  });
});

test("binary content is base64 with encoding: base64", () => {
  const rs = flowsToHar([simpleFlow(BINARY, { contentType: "image/png" })]).log.entries[0].response;
  assert.deepEqual(rs.content, {
    size: 256,
    mimeType: "image/png",
    text: Buffer.from(BINARY).toString("base64"),
    encoding: "base64",
  });
});

test("content that cannot be decoded is given raw with _decodeError", () => {
  const flow = simpleFlow(BINARY);
  flow.response!.headers.set("Content-Encoding", "gzip");
  const c = flowsToHar([flow]).log.entries[0].response.content;
  assert.equal(c.encoding, "base64");
  assert.equal(c.text, Buffer.from(BINARY).toString("base64"));
  assert.equal(typeof c._decodeError, "string");
  assert.equal(c.compression, undefined);
  const back = harToFlows(JSON.parse(JSON.stringify(flowsToHar([flow]))))[0];
  assert.deepEqual(back.response?.body, BINARY);
});

test("streamed and truncated bodies: sizes without text, and a comment saying why", () => {
  const har = flowsToHar([streamedFlow(), simpleFlow("0123456789")], { bodyLimit: 5 });
  const [s, t] = har.log.entries;
  assertValid(har);
  assert.equal(s.request.bodySize, 10_000_000);
  assert.equal(s.request.postData?.text, undefined);
  assert.match(s.request.postData?.comment ?? "", /streamed/);
  assert.equal(t.response.content.text, undefined);
  assert.equal(t.response.content.size, 10);
  assert.match(t.response.content.comment ?? "", /body limit/);
  const back = harToFlows(JSON.parse(JSON.stringify(har)));
  assert.equal(back[0].request.streamed, true);
  assert.equal(back[0].request.body, null);
  assert.equal(back[0].request.bodySize, 10_000_000);
  assert.equal(back[1].response?.body, null);
  assert.equal(back[1].response?.bodySize, 10);
  assert.equal(flowToJson(back[1]).response?.truncated, true);
});

test("timings come from the flow's timestamps and time is their sum", () => {
  const entry = flowsToHar([richFlow()]).log.entries[0];
  // request T0..T0+5, connect T0+6..T0+36 (TLS T0+16..T0+36), response T0+100..T0+120.
  assert.deepEqual(entry.timings, {
    blocked: -1,
    dns: -1,
    connect: 30,
    send: 5,
    wait: 95 - 30,
    receive: 20,
    ssl: 20,
  });
  assert.equal(entry.time, 120, "the flow's wall-clock span");
  assert.equal(entry.startedDateTime, new Date(T0).toISOString());
  assert.equal(entry.serverIPAddress, "93.184.216.34");
  assert.equal(entry.connection, "51234");
  assert.deepEqual(entry.cache, {});

  // A reused connection (opened before this request): connect and ssl unknown.
  const reused = harTimings(streamedFlow());
  assert.equal(reused.connect, -1);
  assert.equal(reused.ssl, -1);
  for (const e of flowsToHar([richFlow(), streamedFlow(), errorFlow()]).log.entries) {
    const t = e.timings;
    for (const v of [t.blocked, t.dns, t.connect, t.ssl]) assert.ok(v === -1 || v! >= 0);
    for (const v of [t.send, t.wait, t.receive]) assert.ok(v >= 0);
    const sum = [t.blocked, t.dns, t.connect, t.send, t.wait, t.receive]
      .filter((v) => v! > 0)
      .reduce((a, b) => a! + b!, 0);
    assert.equal(e.time, sum);
  }
});

test("the first flow on a connection opened before its request (an HTTPS tunnel) gets its connect and TLS time", () => {
  const flow = simpleFlow();
  const start = flow.request.timestampStart;
  // Dialled and TLS-connected while the client's CONNECT and handshake were under way.
  flow.server = {
    address: "127.0.0.1",
    port: 443,
    tls: { sni: "a.test", alpn: "http/1.1", version: "TLSv1.3" },
    reused: false,
    timestampTcpStart: start - 50,
    timestampTcpEnd: start - 40,
    timestampTlsStart: start - 40,
    timestampTlsEnd: start - 20,
  };
  const first = harTimings(flow);
  assert.equal(first.connect, 30);
  assert.equal(first.ssl, 20);
  flow.server = { ...flow.server, reused: true };
  const later = harTimings(flow);
  assert.equal(later.connect, -1);
  assert.equal(later.ssl, -1);
});

test("a looked-up origin name gives timings.dns, apart from connect, and survives the round trip", () => {
  const flow = simpleFlow();
  const start = flow.request.timestampStart;
  flow.response!.timestampStart = start + 10;
  const end = flow.response!.timestampEnd = start + 12;
  // Resolved and dialled after the request was read (a plain HTTP request to a name).
  flow.server = {
    address: "localhost",
    port: 80,
    tls: null,
    reused: false,
    timestampDnsStart: start + 1,
    timestampDnsEnd: start + 4,
    timestampTcpStart: start + 4,
    timestampTcpEnd: start + 6,
  };
  const t = harTimings(flow);
  assert.equal(t.dns, 3);
  assert.equal(t.connect, 2);
  const sum = [t.blocked, t.dns, t.connect, t.send, t.wait, t.receive]
    .filter((v) => v! > 0)
    .reduce((a, b) => a! + b!, 0);
  assert.equal(sum, end - start, "lookup and connect are inside the flow's span, not added to it");
  const har = JSON.parse(JSON.stringify(flowsToHar([flow])));
  assert.equal(har.log.entries[0].timings.dns, 3);
  const back = harToFlows(har)[0];
  assert.equal(back.server?.timestampDnsStart, start + 1);
  assert.equal(back.server?.timestampDnsEnd, start + 4);
  assert.equal(flowToJson(back).server?.timestampDnsEnd, start + 4);
  // No lookup recorded (an IP address), or a reused connection: -1.
  const { timestampDnsStart: _s, timestampDnsEnd: _e, ...noLookup } = flow.server;
  flow.server = noLookup;
  assert.equal(harTimings(flow).dns, -1);
  assert.equal(flowToJson(flow).server?.timestampDnsStart, undefined);
  flow.server = { ...flow.server, timestampDnsStart: start + 1, timestampDnsEnd: start + 4 };
  flow.server.reused = true;
  assert.equal(harTimings(flow).dns, -1);
});

test("an error without a response becomes status 0 with _error", () => {
  const entry = flowsToHar([errorFlow()]).log.entries[0];
  assert.equal(entry.response.status, 0);
  assert.equal(entry.response._error, "connection refused");
  assert.equal(entry.serverIPAddress, undefined);
  assert.equal(entry.timings.wait, 49, "until the error");
  const back = harToFlows(JSON.parse(JSON.stringify(flowsToHar([errorFlow()]))))[0];
  assert.equal(back.response, null);
  assert.deepEqual(back.error, { message: "connection refused", timestamp: T0 + 50 });
});

test("HAR read back gives equivalent flows", () => {
  const flows = [richFlow(), simpleFlow(BINARY), errorFlow(), streamedFlow()];
  flows[1].isReplay = true;
  const back = harToFlows(JSON.parse(JSON.stringify(flowsToHar(flows))));
  assert.equal(back.length, flows.length);
  for (let i = 0; i < flows.length; i++) {
    const a = flowToJson(flows[i]);
    const b = flowToJson(back[i]);
    // Response content is stored decoded in HAR and encoded again: compare decoded bytes.
    assert.deepEqual(back[i].response?.decodedBody(), flows[i].response?.decodedBody());
    if (a.response && b.response) {
      for (const m of [a.response, b.response]) {
        m.body = null;
        m.bodySize = 0;
        m.headers = m.headers.filter(([n]) => n.toLowerCase() !== "content-length");
      }
    }
    assert.deepEqual(b, a, `flow ${i}`);
  }
});

test("an edited URL in our own HAR wins over the recorded target", () => {
  const har = JSON.parse(JSON.stringify(flowsToHar([simpleFlow()])));
  har.log.entries[0].request.url = "https://other.example:8443/changed?x=1";
  const flow = harToFlows(har)[0];
  assert.equal(flow.request.url, "https://other.example:8443/changed?x=1");
  assert.equal(flow.request.port, 8443);
});

test("a browser's HAR: h2 pseudo-headers, base64 content, failures and data: URLs", () => {
  const gz = zlib.gzipSync(new TextEncoder().encode("body text"));
  const har = {
    log: {
      version: "1.2",
      creator: { name: "WebInspector", version: "537.36" },
      pages: [],
      entries: [
        {
          startedDateTime: "2025-01-02T03:04:05.678901Z",
          time: 50.5,
          request: {
            method: "GET",
            url: "https://example.com/img?x=1#frag",
            httpVersion: "http/2.0",
            headers: [
              { name: ":authority", value: "example.com" },
              { name: ":method", value: "GET" },
              { name: "accept", value: "image/*" },
            ],
            queryString: [],
            cookies: [],
            headersSize: -1,
            bodySize: 0,
          },
          response: {
            status: 200,
            statusText: "",
            httpVersion: "http/2.0",
            headers: [
              { name: "content-type", value: "image/png" },
              { name: "content-encoding", value: "gzip" },
            ],
            cookies: [],
            content: {
              size: 256,
              mimeType: "image/png",
              text: Buffer.from(BINARY).toString("base64"),
              encoding: "base64",
            },
            redirectURL: "",
            headersSize: -1,
            bodySize: gz.length,
          },
          cache: {},
          timings: { blocked: 1, dns: -1, ssl: -1, connect: -1, send: 2, wait: 30, receive: 17.5 },
          serverIPAddress: "[2606:2800:220:1::1]",
        },
        {
          startedDateTime: "2025-01-02T03:04:06Z",
          time: 0,
          request: {
            method: "GET",
            url: "data:image/png;base64,AAAA",
            httpVersion: "",
            headers: [],
            queryString: [],
            cookies: [],
            headersSize: -1,
            bodySize: 0,
          },
          response: {
            status: 200,
            statusText: "",
            httpVersion: "",
            headers: [],
            cookies: [],
            content: { size: 3, mimeType: "image/png" },
            redirectURL: "",
            headersSize: -1,
            bodySize: -1,
          },
          cache: {},
          timings: { send: 0, wait: 0, receive: 0 },
        },
        {
          startedDateTime: "2025-01-02T03:04:07.000Z",
          time: 12,
          request: {
            method: "POST",
            url: "http://down.example/api",
            httpVersion: "HTTP/1.1",
            headers: [{ name: "Host", value: "down.example" }],
            queryString: [],
            cookies: [],
            headersSize: -1,
            bodySize: 3,
            postData: { mimeType: "text/plain", text: "abc" },
          },
          response: {
            status: 0,
            statusText: "",
            httpVersion: "",
            headers: [],
            cookies: [],
            content: { size: 0, mimeType: "x-unknown" },
            redirectURL: "",
            headersSize: -1,
            bodySize: -1,
            _error: "net::ERR_CONNECTION_REFUSED",
          },
          cache: {},
          timings: { blocked: 2, send: 0, wait: 10, receive: 0 },
        },
      ],
    },
  };
  const { flows, skipped } = harEntriesToFlows(har);
  assert.equal(flows.length, 2);
  assert.deepEqual(skipped.map((s) => s.entry), [2]);
  assert.match(skipped[0].reason, /not an http\(s\) URL/);

  const [img, failed] = flows;
  assert.equal(img.request.url, "https://example.com/img?x=1");
  assert.equal(img.request.httpVersion, "HTTP/2.0");
  assert.deepEqual(img.request.headers.raw, ["Host", "example.com", "accept", "image/*"]);
  assert.equal(img.request.timestampStart, Date.UTC(2025, 0, 2, 3, 4, 5, 678));
  assert.equal(img.request.timestampEnd, img.request.timestampStart + 3);
  assert.equal(img.response?.timestampStart, img.request.timestampStart + 33);
  assert.equal(img.response?.timestampEnd, img.request.timestampStart + 50.5);
  assert.deepEqual(img.response?.decodedBody(), BINARY, "content encoded again, decodes the same");
  assert.equal(img.response?.headers.get("content-encoding"), "gzip");
  assert.deepEqual(img.server, {
    address: "2606:2800:220:1::1",
    port: 443,
    tls: { sni: "example.com", alpn: null, version: null },
  });
  assert.equal(img.error, null);

  assert.equal(failed.response, null);
  assert.equal(failed.error?.message, "net::ERR_CONNECTION_REFUSED");
  assert.equal(new TextDecoder().decode(failed.request.body!), "abc");
  assert.equal(failed.request.scheme, "http");
  assert.deepEqual(harToFlows(har).map((f) => f.request.url), flows.map((f) => f.request.url));
  assert.throws(() => harToFlows({ entries: [] }), /not a HAR document/);
});
