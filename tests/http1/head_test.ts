import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_LIMITS,
  HeaderList,
  HttpError,
  isToken,
  parseFields,
  parseRequestHead,
  parseResponseHead,
  RequestReader,
  ResponseReader,
  serializeFields,
  serializeRequestHead,
  serializeResponseHead,
} from "../../src/http1/mod.ts";
import {
  assertOneLine,
  b,
  checkError,
  checkIO,
  data,
  end,
  reqHead,
  requestDriver,
  resHead,
  responseDriver,
  s,
} from "./helpers.ts";

const req = () => requestDriver();
const res = () => responseDriver(["GET"]);

// ---- request lines ----

test("request line: origin-form GET with headers", () => {
  checkIO(
    req,
    "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
    [reqHead("GET", "/index.html?q=1", ["Host", "example.com", "Accept", "*/*"]), end()],
  );
});

test("request line: absolute-form, authority-form and asterisk-form are kept as sent", () => {
  checkIO(req, "GET http://example.com/a HTTP/1.1\r\nHost: example.com\r\n\r\n", [
    reqHead("GET", "http://example.com/a", ["Host", "example.com"]),
    end(),
  ]);
  checkIO(req, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", [
    reqHead("CONNECT", "example.com:443", ["Host", "example.com:443"]),
    end(),
  ]);
  checkIO(req, "OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n", [
    reqHead("OPTIONS", "*", ["Host", "example.com"]),
    end(),
  ]);
});

test("request line: HTTP/1.0 and extension methods are accepted", () => {
  checkIO(req, "GET / HTTP/1.0\r\n\r\n", [reqHead("GET", "/", [], "HTTP/1.0"), end()]);
  checkIO(req, "M-SEARCH * HTTP/1.1\r\n\r\n", [reqHead("M-SEARCH", "*"), end()]);
  checkIO(req, "get / HTTP/1.1\r\n\r\n", [reqHead("get", "/"), end()]);
  checkIO(req, "GET / HTTP/1.9\r\n\r\n", [reqHead("GET", "/", [], "HTTP/1.9"), end()]);
});

test("request line: bytes above 0x7F in the target are refused (RFC 9112 3.2: ASCII only)", () => {
  for (const t of ["/caf\xe9", "/\x80", "/a?q=\xff", "http://h/\xc3\xa9", "\xe9"]) {
    checkError(req, `GET ${t} HTTP/1.1\r\n\r\n`, 400, /request-target contains a byte above 0x7F/);
  }
  // Percent-encoded, the same bytes are fine and kept as sent.
  checkIO(req, "GET /caf%C3%A9?q=%FF HTTP/1.1\r\n\r\n", [
    reqHead("GET", "/caf%C3%A9?q=%FF"),
    end(),
  ]);
});

test("request line: leading empty lines before a request are ignored", () => {
  checkIO(req, "\r\n\r\nGET / HTTP/1.1\r\n\r\n", [reqHead("GET", "/"), end()]);
});

test("request line: HTTP/0.9 'GET /' is refused", () => {
  checkError(req, "GET /\r\n\r\n", 400, /no HTTP version.*HTTP\/0\.9/);
});

test("request line: missing target is refused", () => {
  checkError(req, "GET\r\n\r\n", 400, /no request-target/);
});

test("request line: extra spaces are refused", () => {
  checkError(req, "GET  / HTTP/1.1\r\n\r\n", 400, /two spaces in a row/);
  checkError(req, "GET /  HTTP/1.1\r\n\r\n", 400, /extra spaces/);
  checkError(req, "GET / HTTP/1.1 \r\n\r\n", 400, /extra spaces/);
  checkError(req, "GET / a HTTP/1.1\r\n\r\n", 400, /extra spaces/);
  checkError(req, " GET / HTTP/1.1\r\n\r\n", 400, /method is not a valid token/);
});

test("request line: bad method tokens are refused", () => {
  for (const method of ["G(T", "GE\x00T", "GET/", "G\xe9T", 'G"T', "G\rT"]) {
    checkError(req, `${method} / HTTP/1.1\r\n\r\n`, 400, /method is not a valid token/);
  }
});

test("request line: control characters in the target are refused", () => {
  for (const c of ["\x00", "\x01", "\t", "\x7f", "\r"]) {
    checkError(req, `GET /a${c}b HTTP/1.1\r\n\r\n`, 400, /request-target contains a control/);
  }
});

test("request line: HTTP/2.0 is 505, other major versions too", () => {
  const e = checkError(req, "GET / HTTP/2.0\r\n\r\n", 505, /HTTP\/2\.0 is not supported/);
  assert.equal(e.name, "HttpError");
  checkError(req, "GET / HTTP/0.9\r\n\r\n", 505, /not supported/);
  checkError(req, "GET / HTTP/3.0\r\n\r\n", 505, /not supported/);
});

test("request line: malformed versions are refused", () => {
  for (
    const v of ["HTTP/1", "HTTP/1.", "HTTP/1.10", "http/1.1", "HTTP/1,1", "HTTP 1.1", "HTTP/a.1"]
  ) {
    const expected = v.includes(" ") ? /extra spaces/ : /HTTP version is malformed/;
    checkError(req, `GET / ${v}\r\n\r\n`, 400, expected);
  }
  checkError(req, "GET / HTTP/1.1\r\r\n\r\n", 400, /HTTP version is malformed/);
});

// ---- status lines ----

test("status line: with a reason phrase", () => {
  checkIO(res, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", [
    resHead(200, "OK", ["Content-Length", "0"]),
    end(),
  ]);
  checkIO(res, "HTTP/1.1 404 Not  Found \xe9\r\nContent-Length: 0\r\n\r\n", [
    resHead(404, "Not  Found \xe9", ["Content-Length", "0"]),
    end(),
  ]);
});

test("status line: empty reason with and without the space", () => {
  checkIO(res, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", [
    resHead(200, "", ["Content-Length", "0"]),
    end(),
  ]);
  checkIO(res, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", [
    resHead(200, "", ["Content-Length", "0"]),
    end(),
  ]);
});

test("status line: HTTP/1.0 responses", () => {
  checkIO(res, "HTTP/1.0 204 No Content\r\n\r\n", [
    resHead(204, "No Content", [], "HTTP/1.0"),
    end(),
  ]);
});

test("status line: malformed status lines are 502", () => {
  checkError(res, "HTTP/2.0 200 OK\r\n\r\n", 502, /does not start with HTTP\/1\.x/);
  checkError(res, "HTTP/1.1\r\n\r\n", 502, /valid three-digit status code/);
  checkError(res, "ICY 200 OK\r\n\r\n", 502, /does not start with HTTP\/1\.x/);
  checkError(res, "http/1.1 200 OK\r\n\r\n", 502, /does not start with HTTP\/1\.x/);
  checkError(res, "HTTP/1.1 20 OK\r\n\r\n", 502, /three-digit status code/);
  checkError(res, "HTTP/1.1 2000 OK\r\n\r\n", 502, /three-digit status code/);
  checkError(res, "HTTP/1.1 2x0 OK\r\n\r\n", 502, /three-digit status code/);
  checkError(res, "HTTP/1.1 099 OK\r\n\r\n", 502, /three-digit status code/);
  checkError(res, "HTTP/1.1  200 OK\r\n\r\n", 502, /three-digit status code/);
  checkError(res, "HTTP/1.1200 OK\r\n\r\n", 502, /three-digit status code/);
  checkError(res, "HTTP/1.1 200 O\x00K\r\n\r\n", 502, /reason phrase contains NUL or CR/);
  checkError(res, "HTTP/1.1 200 O\rK\r\n\r\n", 502, /reason phrase contains NUL or CR/);
});

// ---- header fields ----

test("headers keep original name case, order and repeated names", () => {
  checkIO(
    req,
    "POST /x HTTP/1.1\r\nhOsT: a\r\nX-Multi: 1\r\nACCEPT: */*\r\nx-multi: 2\r\nX-MULTI: 3\r\n\r\n",
    [
      reqHead("POST", "/x", [
        "hOsT",
        "a",
        "X-Multi",
        "1",
        "ACCEPT",
        "*/*",
        "x-multi",
        "2",
        "X-MULTI",
        "3",
      ]),
      end(),
    ],
  );
});

test("header values: surrounding whitespace is trimmed, inner whitespace kept", () => {
  checkIO(
    req,
    "GET / HTTP/1.1\r\nA:x\r\nB: \t x  y \t \r\nC:\r\nD:   \r\nE: \xe9\x80\xff\r\n\r\n",
    [reqHead("GET", "/", ["A", "x", "B", "x  y", "C", "", "D", "", "E", "\xe9\x80\xff"]), end()],
  );
});

test("header values may contain other control characters but not NUL or CR", () => {
  checkIO(res, "HTTP/1.1 200 OK\r\nX: a\x01b\tc\x7f\r\nContent-Length: 0\r\n\r\n", [
    resHead(200, "OK", ["X", "a\x01b\tc\x7f", "Content-Length", "0"]),
    end(),
  ]);
});

test("headers: obs-fold is refused (400 request, 502 response)", () => {
  checkError(req, "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400, /obsolete line folding/);
  checkError(req, "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400, /obsolete line folding/);
  checkError(req, "GET / HTTP/1.1\r\n X: a\r\n\r\n", 400, /obsolete line folding/);
  checkError(res, "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 502, /^response .*obsolete/);
});

test("headers: NUL or bare CR in a value is refused", () => {
  checkError(req, "GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400, /value contains NUL/);
  checkError(req, "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, /value contains CR/);
  checkError(req, "GET / HTTP/1.1\r\nX: ab\r\r\n\r\n", 400, /value contains CR/);
  checkError(res, "HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n", 502, /value contains NUL/);
  checkError(res, "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", 502, /value contains CR/);
});

test("headers: whitespace before the colon is refused", () => {
  checkError(req, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, /whitespace before the colon/);
  checkError(req, "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, /whitespace before the colon/);
  checkError(
    res,
    "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
    502,
    /whitespace before the colon/,
  );
});

test("headers: empty names, missing colons and invalid name characters are refused", () => {
  checkError(req, "GET / HTTP/1.1\r\n: a\r\n\r\n", 400, /empty name/);
  checkError(req, "GET / HTTP/1.1\r\nHost\r\n\r\n", 400, /no colon/);
  checkError(req, "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, /request header line has no colon/);
  checkError(req, "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 400, /name contains an invalid char/);
  checkError(req, "GET / HTTP/1.1\r\nH\xe9: a\r\n\r\n", 400, /name contains an invalid char/);
  checkError(req, "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", 400, /name contains an invalid char/);
});

test("bare LF line endings are refused everywhere in a request head", () => {
  checkError(req, "GET / HTTP/1.1\nHost: a\n\n", 400, /bare LF/);
  checkError(req, "GET / HTTP/1.1\r\nHost: a\n\r\n", 400, /bare LF/);
  checkError(req, "GET / HTTP/1.1\r\nHost: a\r\n\n", 400, /bare LF/);
  checkError(req, "\nGET / HTTP/1.1\r\n\r\n", 400, /bare LF/);
  checkError(req, "\r\n\nGET / HTTP/1.1\r\n\r\n", 400, /bare LF/);
});

test("response heads with LF-only or mixed line ends are read as browsers read them", () => {
  const ok = resHead(200, "OK", ["Content-Length", "2", "X-A", "1"]);
  for (
    const head of [
      "HTTP/1.1 200 OK\nContent-Length: 2\nX-A: 1\n\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 2\nX-A: 1\r\n\n",
      "HTTP/1.1 200 OK\nContent-Length: 2\r\nX-A: 1\n\r\n",
      "\nHTTP/1.1 200 OK\nContent-Length: 2\nX-A: 1 \t\n\n",
    ]
  ) {
    checkIO(res, head + "ok", [ok, data("ok"), end()]);
  }
  checkIO(res, "HTTP/1.1 204 No Content\n\n", [resHead(204, "No Content"), end()]);
  checkIO(res, "HTTP/1.1 204\n\n", [resHead(204, ""), end()]);
  // A bare CR is still refused, wherever it is.
  checkError(res, "HTTP/1.1 200 OK\nX: a\rb\n\n", 502, /value contains CR/);
  checkError(res, "HTTP/1.1 200 O\rK\n\n", 502, /reason phrase contains NUL or CR/);
  checkError(res, "HTTP/1.1 200 OK\nX\r: a\n\n", 502, /name contains an invalid char/);
});

test("a response head read with LF line ends is serialized with CRLF", () => {
  const r = new ResponseReader();
  r.expect("GET");
  r.feed(b("HTTP/1.1 200 OK\nA: 1\r\nB: 2\n\n"));
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(s(serializeResponseHead(ev.head)), "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n");
});

// ---- limits ----

const PAD_START = "GET / HTTP/1.1\r\nX-Pad: ";
const PAD_OVERHEAD = PAD_START.length + 4;

/** A request head of exactly `size` bytes. */
function requestOfSize(size: number): string {
  return PAD_START + "a".repeat(size - PAD_OVERHEAD) + "\r\n\r\n";
}

test("limits: default max head size is 64 KiB", () => {
  assert.equal(DEFAULT_LIMITS.maxHeadBytes, 65536);
  const ok = requestOfSize(65536);
  const r = new RequestReader();
  r.feed(b(ok));
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(ev.head.headers.get("x-pad")!.length, 65536 - PAD_OVERHEAD);
});

test("limits: a request head over the limit is 431", () => {
  checkError(req, requestOfSize(65537), 431, /request head is larger than 65536 bytes/);
  // Without ever finishing the head (one endless line) the limit still applies.
  checkError(req, "GET /" + "a".repeat(70000), 431, /larger than 65536 bytes/);
  // Many small lines add up.
  checkError(req, "GET / HTTP/1.1\r\n" + "X-A: b\r\n".repeat(9000), 431, /larger than/);
});

test("limits: maxHeadBytes can be configured", () => {
  const small = () => requestDriver({ maxHeadBytes: 100 });
  checkIO(small, requestOfSize(100), [
    reqHead("GET", "/", ["X-Pad", "a".repeat(100 - PAD_OVERHEAD)]),
    end(),
  ]);
  checkError(small, requestOfSize(101), 431, /larger than 100 bytes/);
});

test("limits: a response head over the limit is 502", () => {
  const big = "HTTP/1.1 200 OK\r\nX-Pad: " + "a".repeat(70000) + "\r\n\r\n";
  checkError(res, big, 502, /response head is larger than 65536 bytes/);
  checkError(
    () => responseDriver(["GET"], { maxHeadBytes: 50 }),
    "HTTP/1.1 200 OK\r\nX-Pad: " + "a".repeat(40) + "\r\n\r\n",
    502,
    /larger than 50 bytes/,
  );
});

test("limits: leading empty lines do not count towards the head size", () => {
  const small = () => requestDriver({ maxHeadBytes: 48 });
  checkIO(small, "\r\n".repeat(100) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", [
    reqHead("GET", "/", ["Host", "a"]),
    end(),
  ]);
});

test("limits: maxHeaderCount exceeded is 431 for requests, 502 for responses", () => {
  const fields = (n: number) => {
    let out = "";
    for (let i = 0; i < n; i++) out += `X-${i}: ${i}\r\n`;
    return out;
  };
  assert.equal(DEFAULT_LIMITS.maxHeaderCount, 256);
  const r = new RequestReader();
  r.feed(b(`GET / HTTP/1.1\r\n${fields(256)}\r\n`));
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(ev.head.headers.size, 256);
  checkError(req, `GET / HTTP/1.1\r\n${fields(257)}\r\n`, 431, /more than 256 header fields/);
  checkError(
    res,
    `HTTP/1.1 200 OK\r\n${fields(257)}\r\n`,
    502,
    /response has more than 256 header fields/,
  );
  const three = () => requestDriver({ maxHeaderCount: 3 });
  checkIO(three, `GET / HTTP/1.1\r\n${fields(3)}\r\n`, [
    reqHead("GET", "/", ["X-0", "0", "X-1", "1", "X-2", "2"]),
    end(),
  ]);
  checkError(three, `GET / HTTP/1.1\r\n${fields(4)}\r\n`, 431, /more than 3 header fields/);
});

// ---- the functions under the readers ----

test("parseRequestHead and parseResponseHead parse a head at an offset", () => {
  const bytes = b("junkGET /x HTTP/1.1\r\nA: 1\r\n\r\nmore");
  const head = parseRequestHead(bytes, 4, bytes.length - 4, DEFAULT_LIMITS);
  assert.equal(head.method, "GET");
  assert.equal(head.target, "/x");
  assert.deepEqual(head.headers.raw, ["A", "1"]);
  const rb = b("..HTTP/1.1 301 Moved\r\nLocation: /y\r\n\r\n..");
  const rh = parseResponseHead(rb, 2, rb.length - 2, DEFAULT_LIMITS);
  assert.equal(rh.status, 301);
  assert.equal(rh.reason, "Moved");
  assert.deepEqual(rh.headers.raw, ["Location", "/y"]);
});

test("parseFields stops at the section end", () => {
  const bytes = b("A: 1\r\nB: 2\r\n\r\n");
  assert.deepEqual(parseFields(bytes, 0, bytes.length - 2, 10, 400, "trailer").raw, [
    "A",
    "1",
    "B",
    "2",
  ]);
  assert.equal(parseFields(bytes, 0, 0, 10, 400, "trailer").size, 0);
});

test("isToken follows RFC 9110 tchar", () => {
  assert.equal(isToken("Content-Type"), true);
  assert.equal(isToken("!#$%&'*+-.^_`|~09azAZ"), true);
  for (const t of ["", "a b", "a:b", "a(b", "a\x7f", "\xe9", "a\u0100", 'a"', "a/b", "a@b"]) {
    assert.equal(isToken(t), false, JSON.stringify(t));
  }
});

// ---- serializing ----

function roundTripRequest(text: string): void {
  const r = new RequestReader();
  r.feed(b(text));
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(s(serializeRequestHead(ev.head)), text);
}

function roundTripResponse(text: string): void {
  const r = new ResponseReader();
  r.expect("GET");
  r.feed(b(text));
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(s(serializeResponseHead(ev.head)), text);
}

test("serializeRequestHead reproduces a parsed head byte for byte", () => {
  roundTripRequest("GET / HTTP/1.1\r\n\r\n");
  roundTripRequest(
    "POST http://Example.com/p?q HTTP/1.0\r\nhost: Example.com\r\nX-Obs: \x80caf\xe9\xff\r\n" +
      "X-Dup: 1\r\nx-dup: 2\r\nCONTENT-LENGTH: 0\r\nX-Empty: \r\n\r\n",
  );
  roundTripRequest(`GET /${"%E9".repeat(1000)} HTTP/1.1\r\nBig: ${"\xfe".repeat(5000)}\r\n\r\n`);
});

test("serializeResponseHead reproduces a parsed head byte for byte", () => {
  roundTripResponse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  roundTripResponse(
    "HTTP/1.1 404 Nicht gefunden \xfc\xe9\r\nSet-Cookie: a\r\nset-cookie: b\r\n\r\n",
  );
  roundTripResponse("HTTP/1.0 204 \r\nServer: x\r\n\r\n");
});

test("serializeResponseHead writes an empty reason as 'code SP'", () => {
  // "HTTP/1.1 200" (no space) parses with reason "" and is written back in the RFC 9112
  // form, which keeps the SP before the (empty) reason-phrase.
  const r = new ResponseReader();
  r.expect("GET");
  r.feed(b("HTTP/1.1 200\r\n\r\n"));
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(s(serializeResponseHead(ev.head)), "HTTP/1.1 200 \r\n\r\n");
});

test("serializers write built heads with ': ' and CRLF", () => {
  const head = {
    method: "PUT",
    target: "/a",
    version: "HTTP/1.1",
    headers: HeaderList.from([["Host", "h"], ["X", ""]]),
  };
  assert.equal(s(serializeRequestHead(head)), "PUT /a HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n");
  assert.equal(
    s(serializeResponseHead({
      version: "HTTP/1.1",
      status: 500,
      reason: "Oops",
      headers: new HeaderList(),
    })),
    "HTTP/1.1 500 Oops\r\n\r\n",
  );
});

test("serializers write values with chars above U+00FF as UTF-8", () => {
  const head = {
    version: "HTTP/1.1",
    status: 200,
    reason: "OK",
    headers: HeaderList.from([["X-Name", "\u20ac5"]]),
  };
  const bytes = serializeResponseHead(head);
  assert.deepEqual(
    [...bytes.subarray(25, 29)],
    [0xe2, 0x82, 0xac, 0x35],
  );
  assert.equal(s(bytes.subarray(0, 25)), "HTTP/1.1 200 OK\r\nX-Name: ");
  assert.equal(s(bytes.subarray(29)), "\r\n\r\n");
});

function serializeThrows(headers: [string, string][], message: RegExp): void {
  const head = {
    method: "GET",
    target: "/",
    version: "HTTP/1.1",
    headers: HeaderList.from(headers),
  };
  assert.throws(() => serializeRequestHead(head), (e: unknown) => {
    assert.ok(e instanceof HttpError);
    assert.equal(e.status, 500);
    assert.match(e.message, message);
    assertOneLine(e.message);
    return true;
  });
  const rhead = {
    version: "HTTP/1.1",
    status: 200,
    reason: "OK",
    headers: HeaderList.from(headers),
  };
  assert.throws(() => serializeResponseHead(rhead), HttpError);
  assert.throws(() => serializeFields(HeaderList.from(headers)), HttpError);
}

test("serializers refuse CR, LF or NUL in values", () => {
  serializeThrows([["X-Bad", "a\r\nInjected: 1"]], /X-Bad has a value containing CR, LF or NUL/);
  serializeThrows([["Ok", "fine"], ["X", "a\rb"]], /CR, LF or NUL/);
  serializeThrows([["X", "a\nb"]], /CR, LF or NUL/);
  serializeThrows([["X", "a\x00b"]], /CR, LF or NUL/);
  serializeThrows([["X", "\u20ac\n"]], /CR, LF or NUL/);
});

test("serializers refuse invalid header names", () => {
  serializeThrows([["Bad Name", "x"]], /header name "Bad Name" is invalid/);
  serializeThrows([["", "x"]], /header name "" is invalid/);
  serializeThrows([["X:Y", "x"]], /is invalid/);
  serializeThrows([["X\r\nY", "x"]], /is invalid/);
  serializeThrows([["\u20ac", "x"]], /is invalid/);
});

test("serializeFields writes a trailer section or the bare final CRLF", () => {
  assert.equal(s(serializeFields(null)), "\r\n");
  assert.equal(s(serializeFields(new HeaderList())), "\r\n");
  assert.equal(
    s(serializeFields(HeaderList.from([["Expires", "0"], ["x-sum", "abc"]]))),
    "Expires: 0\r\nx-sum: abc\r\n\r\n",
  );
});

test("serializers refuse CR, LF or NUL in the start line (no response splitting)", () => {
  const bad = (fn: () => unknown) =>
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.status, 500);
      assert.match(e.message, /start line contains CR, LF or NUL/);
      assertOneLine(e.message);
      return true;
    });
  const headers = new HeaderList();
  bad(() =>
    serializeResponseHead({ version: "HTTP/1.1", status: 200, reason: "OK\r\nX: 1", headers })
  );
  bad(() => serializeResponseHead({ version: "HTTP/1.1", status: 200, reason: "O\x00K", headers }));
  bad(() =>
    serializeRequestHead({ method: "GET", target: "/\r\nX: 1", version: "HTTP/1.1", headers })
  );
  bad(() => serializeRequestHead({ method: "G\nT", target: "/", version: "HTTP/1.1", headers }));
  bad(() => serializeRequestHead({ method: "GET", target: "/", version: "HTTP/1.1\r", headers }));
  // Other bytes are written as given.
  assert.equal(
    s(serializeResponseHead({ version: "HTTP/1.1", status: 200, reason: "\xe9\t!", headers })),
    "HTTP/1.1 200 \xe9\t!\r\n\r\n",
  );
});
