import { test } from "node:test";
import assert from "node:assert/strict";
import { HttpError, RequestReader, ResponseReader } from "../../src/http1/mod.ts";
import {
  b,
  checkError,
  checkIO,
  CLOSED,
  data,
  end,
  feedAll,
  normalize,
  reqHead,
  requestDriver,
  resHead,
  responseDriver,
  s,
} from "./helpers.ts";

const req = () => requestDriver();

// ---- keep-alive pipelining ----

const PIPELINE = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n" +
  "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody" +
  "\r\n" + // a stray CRLF between requests is ignored
  "PUT /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
  "2\r\nhi\r\n0\r\nT: 1\r\n\r\n" +
  "DELETE /four HTTP/1.1\r\nHost: a\r\n\r\n";

const PIPELINE_EVENTS = [
  reqHead("GET", "/one", ["Host", "a"]),
  end(),
  reqHead("POST", "/two", ["Host", "a", "Content-Length", "4"]),
  data("body"),
  end(),
  reqHead("PUT", "/three", ["Host", "a", "Transfer-Encoding", "chunked"]),
  data("hi"),
  end(["T", "1"]),
  reqHead("DELETE", "/four", ["Host", "a"]),
  end(),
];

test("pipelining: several requests in one buffer parse in order", () => {
  checkIO(req, PIPELINE, PIPELINE_EVENTS);
});

test("pipelining: then a clean EOF gives 'closed'", () => {
  checkIO(req, PIPELINE, [...PIPELINE_EVENTS, CLOSED], { eof: true });
});

test("pipelining: the reader stops after each message until asked again", () => {
  const r = new RequestReader();
  r.feed(b(PIPELINE));
  assert.equal(r.next()?.type, "head");
  assert.deepEqual(r.next(), { type: "end", trailers: null });
  // The rest is still buffered; nothing of the second request was consumed yet.
  assert.equal(r.bufferedLength, PIPELINE.length - "GET /one HTTP/1.1\r\nHost: a\r\n\r\n".length);
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(ev.head.target, "/two");
});

test("pipelining: responses to several requests, each announced with expect()", () => {
  const input = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" +
    "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + // HEAD: no body
    "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnop\r\n0\r\n\r\n" +
    "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n";
  checkIO(() => responseDriver(["GET", "HEAD", "GET", "GET"]), input, [
    resHead(200, "OK", ["Content-Length", "2"]),
    data("ok"),
    end(),
    resHead(200, "OK", ["Content-Length", "99"]),
    end(),
    resHead(404, "Not Found", ["Transfer-Encoding", "chunked"]),
    data("nop"),
    end(),
    resHead(304, "Not Modified", ["ETag", "x"]),
    end(),
  ]);
});

// ---- EOF ----

test("EOF: clean close before any message", () => {
  checkIO(req, "", [CLOSED], { eof: true });
  checkIO(req, "\r\n\r\n", [CLOSED], { eof: true });
  checkIO(() => responseDriver(["GET"]), "", [CLOSED], { eof: true });
});

test("EOF: clean close between messages", () => {
  checkIO(req, "GET / HTTP/1.1\r\n\r\n", [reqHead("GET", "/"), end(), CLOSED], { eof: true });
  const r = new RequestReader();
  r.feedEof();
  assert.deepEqual(r.next(), { type: "closed" });
  assert.deepEqual(r.next(), { type: "closed" }, "stays closed");
});

test("EOF: in the middle of a request head is 400", () => {
  for (
    const partial of [
      "G",
      "GET / HTTP/1.1",
      "GET / HTTP/1.1\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\r",
    ]
  ) {
    checkError(req, partial, 400, /^connection closed in the middle of the request head$/, {
      eof: true,
    });
  }
});

test("EOF: in the middle of a response head is 502", () => {
  checkError(
    () => responseDriver(["GET"]),
    "HTTP/1.1 200 OK\r\nContent-Le",
    502,
    /closed the connection in the middle of the response head/,
    { eof: true },
  );
});

test("EOF: a body with known length that is complete ends normally", () => {
  checkIO(req, "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok", [
    reqHead("POST", "/", ["Content-Length", "2"]),
    data("ok"),
    end(),
    CLOSED,
  ], { eof: true });
});

// ---- responses: interim, switching, CONNECT ----

test("100 Continue then the final response to the same request (one expect)", () => {
  checkIO(
    () => responseDriver(["POST"]),
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    [
      resHead(100, "Continue"),
      end(),
      resHead(201, "Created", ["Content-Length", "2"]),
      data("ok"),
      end(),
    ],
  );
});

test("several 1xx responses (103 with headers) before the final one", () => {
  checkIO(
    () => responseDriver(["GET"]),
    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
      "HTTP/1.1 102 Processing\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
    [
      resHead(103, "Early Hints", ["Link", "</a.css>; rel=preload"]),
      end(),
      resHead(102, "Processing"),
      end(),
      resHead(200, "OK", ["Transfer-Encoding", "chunked"]),
      data("x"),
      end(),
    ],
  );
});

test("a response reader reads nothing until expect() is called", () => {
  const r = new ResponseReader();
  r.feed(b("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  assert.equal(r.next(), null);
  r.feedEof();
  assert.equal(r.next(), null, "not even EOF is reported without an outstanding request");
  r.expect("GET");
  assert.equal(r.next()?.type, "head");
  assert.deepEqual(r.next(), { type: "end", trailers: null });
  assert.equal(r.next(), null);
});

test("100 Continue does not use up expect(); the final response does", () => {
  const r = new ResponseReader();
  r.expect("PUT");
  r.feed(b("HTTP/1.1 100 Continue\r\n\r\n"));
  assert.equal(r.next()?.type, "head");
  assert.equal(r.next()?.type, "end");
  assert.equal(r.next(), null);
  r.feed(b("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"));
  const ev = r.next();
  assert.ok(ev !== null && ev.type === "head");
  assert.equal(ev.head.status, 204);
  assert.equal(r.next()?.type, "end");
  assert.equal(r.next(), null, "the second response waits for the next expect()");
  assert.equal(r.bufferedLength, "HTTP/1.1 200 OK\r\n\r\n".length);
});

test("101 Switching Protocols: no body, switched, the rest via takeBuffered()", () => {
  const head =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  checkIO(() => responseDriver(["GET"]), head, [
    resHead(101, "Switching Protocols", ["Upgrade", "websocket", "Connection", "Upgrade"]),
    end(),
  ]);
  const r = new ResponseReader();
  r.expect("GET");
  const frame = "\x81\x05hello\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
  r.feed(b(head + frame));
  assert.equal(r.next()?.type, "head");
  assert.deepEqual(r.framing, { kind: "switch" });
  assert.equal(r.next()?.type, "end");
  assert.equal(r.switched, true);
  assert.equal(r.next(), null);
  r.expect("GET");
  assert.equal(r.next(), null, "no more HTTP after a switch");
  assert.equal(r.bufferedLength, frame.length);
  assert.equal(s(r.takeBuffered()), frame);
  assert.equal(r.bufferedLength, 0);
});

test("2xx to CONNECT: framing 'switch', switched, tunnel bytes via takeBuffered()", () => {
  const head = "HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\n";
  checkIO(() => responseDriver(["CONNECT"]), head, [
    resHead(200, "Connection Established", ["Content-Length", "5"]),
    end(),
  ]);
  const r = new ResponseReader();
  r.expect("CONNECT");
  assert.equal(r.switched, false);
  const tls = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
  r.feed(b(head + tls));
  assert.equal(r.next()?.type, "head");
  assert.deepEqual(r.framing, { kind: "switch" });
  assert.deepEqual(r.next(), { type: "end", trailers: null });
  assert.equal(r.switched, true);
  assert.equal(s(r.takeBuffered()), tls);
});

test("a non-2xx answer to CONNECT has a body and does not switch", () => {
  checkIO(
    () => responseDriver(["CONNECT"]),
    "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny",
    [
      resHead(407, "Proxy Authentication Required", ["Content-Length", "4"]),
      data("deny"),
      end(),
    ],
  );
  const r = new ResponseReader();
  r.expect("CONNECT");
  feedAll({ reader: r, after() {} }, [b("HTTP/1.1 407 No\r\nContent-Length: 0\r\n\r\n")], false);
  assert.equal(r.switched, false);
});

test("a CONNECT request is read as a head with no body; the tunnel bytes stay buffered", () => {
  const r = new RequestReader();
  r.feed(b("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01"));
  const events = normalize(feedAll({ reader: r, after() {} }, [], false));
  assert.deepEqual(events, [
    reqHead("CONNECT", "example.com:443", ["Host", "example.com:443"]),
    end(),
  ]);
  assert.equal(s(r.takeBuffered()), "\x16\x03\x01");
});

// ---- error behaviour ----

test("errors are HttpError instances with a status and a one-line message", () => {
  const r = new RequestReader();
  r.feed(b("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"));
  assert.throws(() => r.next(), (e: unknown) => {
    assert.ok(e instanceof HttpError);
    assert.ok(e instanceof Error);
    assert.equal(e.name, "HttpError");
    assert.equal(e.status, 400);
    assert.equal(e.message, "request header has whitespace before the colon");
    return true;
  });
});

test("a request head split right after CR waits for the LF", () => {
  const r = new RequestReader();
  r.feed(b("GET / HTTP/1.1\r"));
  assert.equal(r.next(), null);
  r.feed(b("\n\r"));
  assert.equal(r.next(), null);
  r.feed(b("\n"));
  assert.equal(r.next()?.type, "head");
});
