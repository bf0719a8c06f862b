import { test } from "node:test";
import assert from "node:assert/strict";
import {
  canonicalizeFraming,
  type Framing,
  hasConnectionOption,
  HeaderList,
  HttpError,
  keepsAlive,
  requestFraming,
  type RequestHead,
  RequestReader,
  responseFraming,
  type ResponseHead,
} from "../../src/http1/mod.ts";
import {
  assertOneLine,
  checkError,
  checkIO,
  data,
  end,
  reqHead,
  requestDriver,
  resHead,
  responseDriver,
} from "./helpers.ts";

function rq(headers: string[], version = "HTTP/1.1"): RequestHead {
  return { method: "POST", target: "/", version, headers: new HeaderList(headers) };
}
function rs(status: number, headers: string[], version = "HTTP/1.1"): ResponseHead {
  return { version, status, reason: "", headers: new HeaderList(headers) };
}

function throwsHttp(fn: () => unknown, status: number, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HttpError, String(e));
    assert.equal(e.status, status);
    assert.match(e.message, message);
    assertOneLine(e.message);
    return true;
  });
}

const req = () => requestDriver();
const res = (method = "GET") => () => responseDriver([method]);

// ---- requestFraming ----

test("requestFraming: no body without Content-Length or Transfer-Encoding", () => {
  assert.deepEqual(requestFraming(rq([])), { kind: "none" });
  assert.deepEqual(requestFraming(rq(["Content-Length", "0"])), { kind: "none" });
});

test("requestFraming: Content-Length", () => {
  assert.deepEqual(requestFraming(rq(["Content-Length", "42"])), { kind: "length", length: 42 });
  assert.deepEqual(requestFraming(rq(["content-length", "007"])), { kind: "length", length: 7 });
  assert.deepEqual(requestFraming(rq(["Content-Length", "999999999999999"])), {
    kind: "length",
    length: 999999999999999,
  });
});

test("requestFraming: identical duplicate Content-Length values are accepted", () => {
  const five: Framing = { kind: "length", length: 5 };
  assert.deepEqual(requestFraming(rq(["Content-Length", "5, 5"])), five);
  assert.deepEqual(requestFraming(rq(["Content-Length", "5,5,5"])), five);
  assert.deepEqual(requestFraming(rq(["Content-Length", "5", "content-length", "5"])), five);
  assert.deepEqual(requestFraming(rq(["Content-Length", "5", "Content-Length", "05"])), five);
});

test("requestFraming: differing Content-Length values are refused", () => {
  throwsHttp(() => requestFraming(rq(["Content-Length", "5, 6"])), 400, /differing Content-Length/);
  throwsHttp(
    () => requestFraming(rq(["Content-Length", "5", "Content-Length", "6"])),
    400,
    /request has differing Content-Length values/,
  );
});

test("requestFraming: Content-Length with sign, spaces, letters or too many digits is refused", () => {
  for (
    const v of [
      "+5",
      "-5",
      "5 5",
      "5a",
      "0x5",
      "1e3",
      "",
      "5,",
      ",5",
      "5;",
      "1.0",
      "\xbd",
      "1234567890123456",
      "\v5",
      "5\f",
      "\xa05",
    ]
  ) {
    throwsHttp(
      () => requestFraming(rq(["Content-Length", v])),
      400,
      /^request Content-Length ".*" is invalid$/,
    );
  }
});

test("requestFraming: chunked", () => {
  const chunked: Framing = { kind: "chunked" };
  assert.deepEqual(requestFraming(rq(["Transfer-Encoding", "chunked"])), chunked);
  assert.deepEqual(requestFraming(rq(["Transfer-Encoding", "Chunked"])), chunked);
  assert.deepEqual(requestFraming(rq(["Transfer-Encoding", "gzip, chunked"])), chunked);
  assert.deepEqual(
    requestFraming(rq(["Transfer-Encoding", "gzip", "transfer-encoding", "chunked"])),
    chunked,
  );
});

test("requestFraming: Content-Length together with Transfer-Encoding is refused", () => {
  throwsHttp(
    () => requestFraming(rq(["Content-Length", "5", "Transfer-Encoding", "chunked"])),
    400,
    /both Content-Length and Transfer-Encoding/,
  );
  throwsHttp(
    () => requestFraming(rq(["Transfer-Encoding", "chunked", "Content-Length", "0"])),
    400,
    /both Content-Length and Transfer-Encoding/,
  );
});

test("requestFraming: Transfer-Encoding not ending with chunked is refused", () => {
  for (const te of ["gzip", "chunked, gzip", "deflate,gzip"]) {
    throwsHttp(
      () => requestFraming(rq(["Transfer-Encoding", te])),
      400,
      /request Transfer-Encoding does not end with chunked/,
    );
  }
});

test("requestFraming: unknown or obfuscated transfer codings are refused, not guessed at", () => {
  for (const te of ["identity", "chunked, identity", "xchunked", "chunked;q=1", "\vchunked"]) {
    throwsHttp(
      () => requestFraming(rq(["Transfer-Encoding", te])),
      400,
      /request Transfer-Encoding ".*" is not a supported coding/,
    );
  }
  throwsHttp(
    () => requestFraming(rq(["Transfer-Encoding", ""])),
    400,
    /Transfer-Encoding is empty/,
  );
  // Space and tab are OWS and trimmed; case does not matter.
  for (const te of [" chunked", "\tchunked\t", "CHUNKED", "gzip ,\tchunked"]) {
    assert.deepEqual(requestFraming(rq(["Transfer-Encoding", te])), { kind: "chunked" });
  }
});

test("requestFraming: chunked applied twice is refused", () => {
  throwsHttp(
    () => requestFraming(rq(["Transfer-Encoding", "chunked, chunked"])),
    400,
    /chunked coding twice/,
  );
  throwsHttp(
    () => requestFraming(rq(["Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked"])),
    400,
    /chunked coding twice/,
  );
});

test("requestFraming: HTTP/1.0 request with Transfer-Encoding is refused", () => {
  throwsHttp(
    () => requestFraming(rq(["Transfer-Encoding", "chunked"], "HTTP/1.0")),
    400,
    /HTTP\/1\.0 request uses Transfer-Encoding/,
  );
});

// ---- responseFraming ----

test("responseFraming: bodiless statuses and HEAD", () => {
  const withBody = ["Content-Length", "10", "Transfer-Encoding", "chunked"]; // ignored
  for (const status of [100, 102, 103, 199, 204, 304]) {
    assert.deepEqual(responseFraming(rs(status, withBody), "GET"), { kind: "none" }, `${status}`);
  }
  assert.deepEqual(responseFraming(rs(200, withBody), "HEAD"), { kind: "none" });
  assert.deepEqual(responseFraming(rs(404, ["Content-Length", "10"]), "HEAD"), { kind: "none" });
});

test("responseFraming: 101 and 2xx to CONNECT switch protocols", () => {
  assert.deepEqual(responseFraming(rs(101, []), "GET"), { kind: "switch" });
  assert.deepEqual(responseFraming(rs(200, []), "CONNECT"), { kind: "switch" });
  assert.deepEqual(responseFraming(rs(299, ["Content-Length", "5"]), "CONNECT"), {
    kind: "switch",
  });
  assert.deepEqual(responseFraming(rs(407, ["Content-Length", "5"]), "CONNECT"), {
    kind: "length",
    length: 5,
  });
  assert.deepEqual(responseFraming(rs(100, []), "CONNECT"), { kind: "none" });
});

test("responseFraming: Content-Length, chunked and close-delimited", () => {
  assert.deepEqual(responseFraming(rs(200, ["Content-Length", "3"]), "GET"), {
    kind: "length",
    length: 3,
  });
  assert.deepEqual(responseFraming(rs(200, ["Content-Length", "0"]), "GET"), { kind: "none" });
  assert.deepEqual(responseFraming(rs(200, ["Transfer-Encoding", "chunked"]), "GET"), {
    kind: "chunked",
  });
  assert.deepEqual(responseFraming(rs(200, []), "GET"), { kind: "close" });
  assert.deepEqual(responseFraming(rs(200, [], "HTTP/1.0"), "POST"), { kind: "close" });
});

test("responseFraming: Transfer-Encoding not ending with chunked means close-delimited", () => {
  // RFC 9112 section 6.3: whatever the final coding is, known or not, the body runs until the
  // origin closes the connection.
  for (
    const te of [
      "gzip",
      "chunked, gzip",
      "identity",
      "chunked, identity",
      "xchunked",
      "\fchunked",
      "\xa0chunked",
      "chunked;q=1",
      '"chunked"',
    ]
  ) {
    assert.deepEqual(responseFraming(rs(200, ["Transfer-Encoding", te]), "GET"), {
      kind: "close",
    }, JSON.stringify(te));
  }
});

test("responseFraming: a list ending in chunked must name only known codings, chunked once", () => {
  for (const te of ["identity, chunked", "xchunked, chunked", "\fgzip, chunked"]) {
    throwsHttp(
      () => responseFraming(rs(200, ["Transfer-Encoding", te]), "GET"),
      502,
      /response Transfer-Encoding ".*" is not a supported coding/,
    );
  }
  throwsHttp(
    () => responseFraming(rs(200, ["Transfer-Encoding", " , "]), "GET"),
    502,
    /response Transfer-Encoding is empty/,
  );
});

test("responseFraming: refusals are 502", () => {
  throwsHttp(
    () => responseFraming(rs(200, ["Content-Length", "1", "Transfer-Encoding", "chunked"]), "GET"),
    502,
    /response has both Content-Length and Transfer-Encoding/,
  );
  throwsHttp(
    () => responseFraming(rs(200, ["Transfer-Encoding", "chunked, chunked"]), "GET"),
    502,
    /response applies the chunked coding twice/,
  );
  throwsHttp(
    () => responseFraming(rs(200, ["Content-Length", "1, 2"]), "GET"),
    502,
    /response has differing Content-Length values/,
  );
  throwsHttp(
    () => responseFraming(rs(200, ["Content-Length", "-1"]), "GET"),
    502,
    /response Content-Length "-1" is invalid/,
  );
});

// ---- keep-alive helpers ----

test("keepsAlive: HTTP/1.1 persists unless Connection: close", () => {
  assert.equal(keepsAlive("HTTP/1.1", new HeaderList()), true);
  assert.equal(keepsAlive("HTTP/1.1", new HeaderList(["Connection", "close"])), false);
  assert.equal(keepsAlive("HTTP/1.1", new HeaderList(["connection", "Upgrade, Close"])), false);
  assert.equal(
    keepsAlive("HTTP/1.1", new HeaderList(["Connection", "keep-alive", "Connection", "close"])),
    false,
  );
  assert.equal(keepsAlive("HTTP/1.1", new HeaderList(["Connection", "closed"])), true);
});

test("keepsAlive: HTTP/1.0 persists only with keep-alive", () => {
  assert.equal(keepsAlive("HTTP/1.0", new HeaderList()), false);
  assert.equal(keepsAlive("HTTP/1.0", new HeaderList(["Connection", "Keep-Alive"])), true);
  assert.equal(keepsAlive("HTTP/1.0", new HeaderList(["Connection", "keep-alive, close"])), false);
});

test("hasConnectionOption looks at every Connection field", () => {
  const h = new HeaderList(["Connection", "keep-alive", "CONNECTION", " Upgrade "]);
  assert.equal(hasConnectionOption(h, "upgrade"), true);
  assert.equal(hasConnectionOption(h, "keep-alive"), true);
  assert.equal(hasConnectionOption(h, "close"), false);
});

// ---- framing through the readers (RFC 9112 section 6) ----

test("reader: request with Content-Length body", () => {
  checkIO(req, "POST /p HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", [
    reqHead("POST", "/p", ["Content-Length", "11"]),
    data("hello world"),
    end(),
  ]);
});

test("reader: the framing getter reports the current message's framing", () => {
  const d = requestDriver();
  const r = d.reader;
  assert.equal(r.framing, null);
  r.feed(new TextEncoder().encode("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"));
  r.next();
  assert.deepEqual(r.framing, { kind: "length", length: 2 });
});

test("reader: identical duplicate Content-Length headers frame the body", () => {
  checkIO(req, "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nabcde", [
    reqHead("POST", "/", ["Content-Length", "5", "Content-Length", "5"]),
    data("abcde"),
    end(),
  ]);
  checkIO(req, "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nabcde", [
    reqHead("POST", "/", ["Content-Length", "5, 5"]),
    data("abcde"),
    end(),
  ]);
});

test("reader: framing refusals surface as 400 for requests", () => {
  checkError(
    req,
    "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    400,
    /both Content-Length and Transfer-Encoding/,
  );
  checkError(
    req,
    "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
    400,
    /differing Content-Length/,
  );
  checkError(req, "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400, /"\+5" is invalid/);
  checkError(req, "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400, /"5 5" is invalid/);
  checkError(req, "POST / HTTP/1.1\r\nContent-Length: five\r\n\r\n", 400, /"five" is invalid/);
  checkError(
    req,
    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    400,
    /does not end with chunked/,
  );
  checkError(
    req,
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
    400,
    /chunked coding twice/,
  );
  checkError(
    req,
    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    400,
    /HTTP\/1\.0 request uses Transfer-Encoding/,
  );
});

test("reader: framing refusals surface as 502 for responses", () => {
  checkError(
    res(),
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    502,
    /both Content-Length and Transfer-Encoding/,
  );
  checkError(
    res(),
    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    502,
    /differing Content-Length/,
  );
  checkError(
    res(),
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
    502,
    /chunked coding twice/,
  );
});

test("reader: response with Transfer-Encoding not ending in chunked is read until close", () => {
  checkIO(
    res(),
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b0\r\n\r\nstill body",
    [
      resHead(200, "OK", ["Transfer-Encoding", "gzip"]),
      data("\x1f\x8b0\r\n\r\nstill body"),
      end(),
    ],
    { eof: true },
  );
});

test("reader: close-delimited response needs feedEof", () => {
  const input = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this\r\nis body";
  checkIO(
    res(),
    input,
    [resHead(200, "OK", ["Server", "old"], "HTTP/1.0"), data("all of this\r\nis body"), end()],
    { eof: true },
  );
  // Without EOF the body never ends.
  const d = responseDriver(["GET"]);
  d.reader.feed(new TextEncoder().encode(input));
  assert.equal(d.reader.next()?.type, "head");
  assert.equal(d.reader.next()?.type, "data");
  assert.equal(d.reader.next(), null);
  d.reader.feedEof();
  assert.deepEqual(d.reader.next(), { type: "end", trailers: null });
});

test("reader: close-delimited response with an empty body", () => {
  checkIO(res(), "HTTP/1.1 200 OK\r\n\r\n", [resHead(200, "OK"), end()], { eof: true });
});

test("reader: no body for HEAD responses even with Content-Length", () => {
  checkIO(res("HEAD"), "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", [
    resHead(200, "OK", ["Content-Length", "1234"]),
    end(),
  ]);
  checkIO(res("HEAD"), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", [
    resHead(200, "OK", ["Transfer-Encoding", "chunked"]),
    end(),
  ]);
});

test("reader: no body for 204 and 304", () => {
  checkIO(res(), "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", [
    resHead(204, "No Content", ["Content-Length", "10"]),
    end(),
  ]);
  checkIO(res(), "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", [
    resHead(304, "Not Modified", ["Transfer-Encoding", "chunked"]),
    end(),
  ]);
});

test("reader: no body for requests without framing headers", () => {
  checkIO(req, "POST / HTTP/1.1\r\nHost: a\r\n\r\n", [reqHead("POST", "/", ["Host", "a"]), end()]);
  checkIO(req, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", [
    reqHead("POST", "/", ["Content-Length", "0"]),
    end(),
  ]);
});

// ---- canonical framing fields for forwarding ----

test("canonicalizeFraming: Content-Length and Transfer-Encoding in their canonical form", () => {
  const canon = (raw: string[]) => {
    const h = new HeaderList(raw.slice());
    canonicalizeFraming(h);
    return h.raw;
  };
  assert.deepEqual(canon(["Content-Length", "0005"]), ["Content-Length", "5"]);
  assert.deepEqual(canon(["content-length", "00"]), ["content-length", "0"]);
  assert.deepEqual(canon(["Content-Length", " 5 , 05"]), ["Content-Length", "5"]);
  assert.deepEqual(
    canon(["Content-Length", "5", "X", "1", "CONTENT-LENGTH", "5"]),
    ["Content-Length", "5", "X", "1"],
  );
  assert.deepEqual(canon(["Transfer-Encoding", ",chunked"]), ["Transfer-Encoding", "chunked"]);
  assert.deepEqual(canon(["Transfer-Encoding", " \tCHUNKED ,"]), [
    "Transfer-Encoding",
    "chunked",
  ]);
  assert.deepEqual(
    canon(["Transfer-Encoding", "GZip", "A", "b", "transfer-encoding", ", chunked"]),
    ["Transfer-Encoding", "gzip, chunked", "A", "b"],
  );
  // Already canonical: untouched (the same strings).
  assert.deepEqual(canon(["Content-Length", "12", "Transfer-Encoding", "gzip, chunked"]), [
    "Content-Length",
    "12",
    "Transfer-Encoding",
    "gzip, chunked",
  ]);
  // What the parser would refuse (only an addon can set it) is left as it is.
  assert.deepEqual(canon(["Content-Length", "5, 6"]), ["Content-Length", "5, 6"]);
  assert.deepEqual(canon(["Content-Length", "abc"]), ["Content-Length", "abc"]);
});

test("canonicalizeFraming: what the reader parsed goes on canonical, the parsed head unchanged", () => {
  for (
    const [input, forwarded] of [
      ["POST / HTTP/1.1\r\nContent-Length: 0005\r\n\r\nhello", ["Content-Length", "5"]],
      [
        "POST / HTTP/1.1\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n",
        ["Transfer-Encoding", "chunked"],
      ],
    ] as const
  ) {
    const r = new RequestReader();
    r.feed(new TextEncoder().encode(input));
    const ev = r.next();
    assert.ok(ev !== null && ev.type === "head");
    const before = ev.head.headers.raw.slice();
    const copy = ev.head.headers.clone();
    canonicalizeFraming(copy);
    assert.deepEqual(copy.raw, forwarded);
    assert.deepEqual(ev.head.headers.raw, before, "the parsed head keeps what was sent");
  }
});
