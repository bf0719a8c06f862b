import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BodyWriter,
  ChunkedReader,
  concatBytes,
  ContentLengthReader,
  DEFAULT_LIMITS,
  HeaderList,
  MAX_CHUNK_LINE,
  ReceiveBuffer,
  RequestReader,
  serializeRequestHead,
  serializeResponseHead,
} from "../../src/http1/mod.ts";
import {
  b,
  checkError,
  checkIO,
  data,
  end,
  feedAll,
  joined,
  normalize,
  reqHead,
  requestDriver,
  resHead,
  responseDriver,
  s,
} from "./helpers.ts";

const req = () => requestDriver();
const res = () => responseDriver(["GET"]);

const CHUNKED_HEAD = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
const chunkedHead = reqHead("POST", "/up", ["Transfer-Encoding", "chunked"]);

// ---- Content-Length ----

test("Content-Length body: exact length, nothing more is consumed", () => {
  checkIO(req, "PUT /f HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", [
    reqHead("PUT", "/f", ["Content-Length", "3"]),
    data("abc"),
    end(),
  ]);
});

test("Content-Length body: binary bytes including CR, LF and NUL", () => {
  const body = "\x00\r\n\r\n\xff\x80GET / HTTP/1.1\r\n\r\n";
  checkIO(req, `POST / HTTP/1.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`, [
    reqHead("POST", "/", ["Content-Length", String(body.length)]),
    data(body),
    end(),
  ]);
});

test("Content-Length body: a large body arrives as views into the fed bytes", () => {
  const body = "x".repeat(100_000);
  const input = b(`POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n${body}`);
  const d = requestDriver();
  const events = feedAll(d, [input], false);
  assert.equal(events.length, 3);
  const ev = events[1];
  assert.ok(ev.type === "data");
  assert.equal(ev.data.length, 100_000);
  assert.equal(ev.data.buffer, input.buffer, "a view, not a copy");
  checkIO(req, input, [reqHead("POST", "/", ["Content-Length", "100000"]), data(body), end()]);
});

test("Content-Length body: response", () => {
  checkIO(res, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", [
    resHead(200, "OK", ["Content-Length", "5"]),
    data("hello"),
    end(),
  ]);
});

test("close-delimited response: a final transfer coding other than chunked runs until EOF", () => {
  // RFC 9112 section 6.3, also for codings the proxy does not know.
  for (const te of ["identity", "gzip", "chunked, xchunked", "x-custom"]) {
    checkIO(
      res,
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\nmore`,
      [
        resHead(200, "OK", ["Transfer-Encoding", te]),
        data("5\r\nhello\r\n0\r\n\r\nmore"),
        end(),
      ],
      { eof: true },
    );
  }
  // A request that tries the same is refused: its length could not be known.
  checkError(
    req,
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    400,
    /"identity" is not a supported coding/,
  );
  checkError(
    req,
    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    400,
    /does not end with chunked/,
  );
});

test("EOF in the middle of a Content-Length body is an error", () => {
  checkError(
    req,
    "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
    400,
    /^connection closed after 3 of 10 body bytes$/,
    { eof: true },
  );
  checkError(
    res,
    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    502,
    /connection closed after 0 of 10 body bytes/,
    { eof: true },
  );
});

test("ContentLengthReader on its own", () => {
  const buf = new ReceiveBuffer();
  const r = new ContentLengthReader(4, 400);
  assert.equal(r.next(buf), null);
  buf.push(b("ab"));
  assert.equal(s(r.next(buf) as Uint8Array), "ab");
  buf.push(b("cdEXTRA"));
  assert.equal(s(r.next(buf) as Uint8Array), "cd");
  assert.deepEqual(r.next(buf), { trailers: null });
  assert.equal(buf.length, 5);
  assert.deepEqual(r.eof(), { trailers: null });
});

// ---- chunked ----

test("chunked body: several chunks", () => {
  checkIO(req, CHUNKED_HEAD + "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", [
    chunkedHead,
    data("hello world"),
    end(),
  ]);
});

test("chunked body: hex sizes in either case, with leading zeros", () => {
  const big = "z".repeat(0x1a);
  checkIO(req, CHUNKED_HEAD + `1A\r\n${big}\r\n001a\r\n${big}\r\n000\r\n\r\n`, [
    chunkedHead,
    data(big + big),
    end(),
  ]);
});

test("chunked body: chunk extensions are accepted and dropped", () => {
  checkIO(
    req,
    CHUNKED_HEAD +
      '5;name=value\r\nhello\r\n6;a;b="q; \\"x"\r\n world\r\n3;x\r\n!!!\r\n0;last\r\n\r\n',
    [chunkedHead, data("hello world!!!"), end()],
  );
  // obs-text is allowed in a quoted value; only control characters are refused there.
  checkIO(req, CHUNKED_HEAD + '1;a="\xe9\xff\t"\r\nx\r\n0\r\n\r\n', [
    chunkedHead,
    data("x"),
    end(),
  ]);
});

test("chunked request: a bare ';' or whitespace in a chunk line is refused (400)", () => {
  const bad = (line: string, message: RegExp) =>
    checkError(req, CHUNKED_HEAD + line + "\r\nhello\r\n0\r\n\r\n", 400, message);
  bad("5;", /chunk extension has no name \(a bare ";"\)/);
  bad("5;;a", /chunk extension has no name/);
  bad("5;a;", /chunk extension has no name/);
  bad("5;=b", /chunk extension has no name/);
  bad("5 ", /chunk size is followed by whitespace/);
  bad("5\t", /chunk size is followed by whitespace/);
  bad("5 ;a", /chunk size is followed by whitespace/);
  bad("5; a", /chunk extension contains whitespace/);
  bad("5;a =b", /chunk extension contains whitespace/);
  bad("5;a= b", /chunk extension contains whitespace/);
  bad("5;a=b ", /chunk extension contains whitespace/);
  bad('5;a="b" ', /chunk extension contains whitespace/);
  bad("5;a=", /chunk extension value is invalid/);
  bad("5;a=b=c", /chunk extension value is invalid/);
  bad('5;a="b"c', /bytes after a quoted string/);
  bad("5;\xe9=\xff", /chunk extension has no name/);
  bad("5;a\xe9", /chunk extension name contains an invalid character/);
});

test("chunked response: a bare ';' or whitespace in a chunk line is read as browsers read it", () => {
  const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const events = [resHead(200, "OK", ["Transfer-Encoding", "chunked"]), data("hello"), end()];
  for (
    const line of [
      "5;",
      "5 ",
      "5\t \t",
      "5 ;a",
      "5; a",
      "5 ; a = b ; c",
      '5;a="q; \\"x" ;',
      "5;;;",
      "5;\xe9=\xff",
      "5;a b c",
    ]
  ) {
    checkIO(res, head + line + "\r\nhello\r\n0\r\n\r\n", events);
  }
  // What no browser reads either stays refused.
  const bad = (line: string, message: RegExp) =>
    checkError(res, head + line + "\r\nhello\r\n0\r\n\r\n", 502, message);
  bad(" 5", /chunk size is not a hexadecimal number/);
  bad("5 x", /chunk size is not a hexadecimal number/);
  bad("5;a\x00", /chunk extension contains a control character/);
  bad('5;a="b', /quoted string that does not close/);
});

test("chunk lines that can no longer become valid are refused before their line end arrives", () => {
  // No LF follows, and no EOF: the reader must not wait for either.
  const reqCases: Array<[string, RegExp]> = [
    ['5;a="b\r', /quoted string that does not close/],
    ['5;a="b\\\r', /quoted string that does not close/],
    ["5;a b", /chunk extension contains whitespace/],
    ["5 ", /chunk size is followed by whitespace/],
    ["5;;", /chunk extension has no name/],
    ["5x", /chunk size is not a hexadecimal number/],
    ["5;a\x01", /control character/],
    ["5\rx", /CR not followed by LF/],
    ["5;a=b\r;", /CR not followed by LF/],
    ["5\r\nhello\r\n0\r\nX: a\rb", /trailer line contains a CR not followed by LF/],
    ["0\r\nX: a\r\nY: b\r:", /trailer line contains a CR not followed by LF/],
  ];
  for (const [line, message] of reqCases) checkError(req, CHUNKED_HEAD + line, 400, message);
  const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const resCases: Array<[string, RegExp]> = [
    ['5;a="b\r', /quoted string that does not close/],
    ['5;a="b\n', /quoted string that does not close/],
    ["5x", /chunk size is not a hexadecimal number/],
    ["5 \x01", /chunk size is not a hexadecimal number/],
    ["5;\x7f", /control character/],
    ["5\rx", /CR not followed by LF/],
    ["5\nhello\n0\nX: a\rb", /trailer line contains a CR not followed by LF/],
  ];
  for (const [line, message] of resCases) checkError(res, head + line, 502, message);
});

test("chunked body: trailers come back in the end event", () => {
  checkIO(
    req,
    CHUNKED_HEAD + "3\r\nabc\r\n0\r\nExpires: never\r\nx-checksum: 1234\r\nX-Checksum: 5\r\n\r\n",
    [chunkedHead, data("abc"), end(["Expires", "never", "x-checksum", "1234", "X-Checksum", "5"])],
  );
});

test("chunked body: empty body, with and without trailers", () => {
  checkIO(req, CHUNKED_HEAD + "0\r\n\r\n", [chunkedHead, end()]);
  checkIO(req, CHUNKED_HEAD + "0\r\nA: b\r\n\r\n", [chunkedHead, end(["A", "b"])]);
});

test("chunked body: response", () => {
  checkIO(
    res,
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
    [resHead(200, "OK", ["Transfer-Encoding", "chunked"]), data("Wikipedia"), end()],
  );
});

test("chunked body: the largest safe chunk size is accepted", () => {
  const d = requestDriver();
  const events = normalize(
    feedAll(d, [b(CHUNKED_HEAD + "1FFFFFFFFFFFFF\r\nabc")], false),
  );
  assert.deepEqual(events, [chunkedHead, data("abc")]);
});

test("chunked body: invalid chunk sizes are refused", () => {
  const bad = (line: string, message: RegExp) =>
    checkError(req, CHUNKED_HEAD + line + "\r\nxxxxxxxxxxxxxxxxxxxx\r\n0\r\n\r\n", 400, message);
  bad("", /chunk size is not a hexadecimal number/);
  bad("g", /chunk size is not a hexadecimal number/);
  bad("0x5", /chunk size is not a hexadecimal number/);
  bad("-1", /chunk size is not a hexadecimal number/);
  bad("+1", /chunk size is not a hexadecimal number/);
  bad(" 5", /chunk size is not a hexadecimal number/);
  bad("5 x", /chunk size is followed by whitespace/);
  bad("5x", /chunk size is not a hexadecimal number/);
  bad("5;a\x00b", /chunk extension contains a control character/);
  bad("5;a\x7fb", /chunk extension contains a control character/);
  bad("5;a\rb", /chunk-size line contains a CR not followed by LF/);
  bad("20000000000000", /chunk size is too large/); // 2^53
  bad("FFFFFFFFFFFFFFFFFFFFFFFF", /chunk size is too large/);
  checkError(
    res,
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    502,
    /chunk size is not a hexadecimal number/,
  );
});

test("chunked body: a chunk-size line with a bare LF is refused", () => {
  checkError(
    req,
    CHUNKED_HEAD + "5\nhello\r\n0\r\n\r\n",
    400,
    /chunk-size line ends with a bare LF/,
  );
  checkError(req, CHUNKED_HEAD + "\n", 400, /bare LF/);
});

test("chunked response: LF-only or mixed line ends are read as browsers read them", () => {
  const head = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n";
  const expected = [resHead(200, "OK", ["Transfer-Encoding", "chunked"]), data("hello world")];
  checkIO(res, head + "5\nhello\n6\n world\n0\n\n", [...expected, end()]);
  checkIO(res, head + "5\r\nhello\n6;x=y\n world\r\n0\nT: 1\r\nU: 2\n\r\n", [
    ...expected,
    end(["T", "1", "U", "2"]),
  ]);
  checkIO(res, head + "5\nhello\n6\n world\n0\r\nT: 1\n\n", [...expected, end(["T", "1"])]);
  // Requests stay strict: a bare LF anywhere in the chunked framing is refused.
  checkError(req, CHUNKED_HEAD + "5\r\nhello\n0\r\n\r\n", 400, /not followed by CRLF/);
  checkError(req, CHUNKED_HEAD + "0\r\nT: 1\n\r\n", 400, /bare LF/);
});

test("chunked body: chunk-size lines longer than 4096 bytes are refused", () => {
  assert.equal(MAX_CHUNK_LINE, 4096);
  // 4096 bytes including CRLF is the longest accepted line.
  const ext = (n: number) => "5;" + "e".repeat(n - 2);
  checkIO(req, CHUNKED_HEAD + ext(4094) + "\r\nhello\r\n0\r\n\r\n", [
    chunkedHead,
    data("hello"),
    end(),
  ]);
  checkError(
    req,
    CHUNKED_HEAD + ext(4095) + "\r\nhello\r\n0\r\n\r\n",
    400,
    /chunk-size line is longer than 4096 bytes/,
  );
  // Leading zeros do not get a pass either, and an endless line fails without waiting for LF.
  checkError(req, CHUNKED_HEAD + "0".repeat(5000), 400, /longer than 4096 bytes/);
});

test("chunked body: missing CRLF after chunk data is refused", () => {
  checkError(req, CHUNKED_HEAD + "5\r\nhelloX\r\n0\r\n\r\n", 400, /not followed by CRLF/);
  checkError(req, CHUNKED_HEAD + "5\r\nhello\rX0\r\n\r\n", 400, /not followed by CRLF/);
  checkError(req, CHUNKED_HEAD + "5\r\nhello\n0\r\n\r\n", 400, /not followed by CRLF/);
  checkError(req, CHUNKED_HEAD + "3\r\nhello\r\n0\r\n\r\n", 400, /not followed by CRLF/);
  checkError(
    res,
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
    502,
    /chunk data is not followed by CRLF/,
  );
});

test("chunked body: malformed trailers are refused", () => {
  checkError(req, CHUNKED_HEAD + "0\r\nX : y\r\n\r\n", 400, /^trailer header has whitespace/);
  checkError(req, CHUNKED_HEAD + "0\r\nX: a\r\n b\r\n\r\n", 400, /obsolete line folding/);
  checkError(req, CHUNKED_HEAD + "0\r\nX: a\x00\r\n\r\n", 400, /value contains NUL/);
  checkError(req, CHUNKED_HEAD + "0\r\nX: a\n\r\n", 400, /bare LF/);
  checkError(req, CHUNKED_HEAD + "0\r\n\n", 400, /bare LF/);
});

test("chunked body: trailer limits", () => {
  const small = () => requestDriver({ maxHeadBytes: 64, maxHeaderCount: 2 });
  checkIO(small, CHUNKED_HEAD + "0\r\nA: 1\r\nB: 2\r\n\r\n", [
    chunkedHead,
    end(["A", "1", "B", "2"]),
  ]);
  checkError(small, CHUNKED_HEAD + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, /more than 2 header/);
  checkError(
    small,
    CHUNKED_HEAD + "0\r\nX: " + "a".repeat(80) + "\r\n\r\n",
    400,
    /trailer section is larger than 64 bytes/,
  );
});

test("EOF in the middle of a chunked body is an error", () => {
  for (
    const partial of [
      "",
      "5",
      "5\r\n",
      "5\r\nhel",
      "5\r\nhello",
      "5\r\nhello\r",
      "5\r\nhello\r\n0\r\n",
      "0\r\nA: b\r\n",
    ]
  ) {
    checkError(
      req,
      CHUNKED_HEAD + partial,
      400,
      /^connection closed in the middle of a chunked body$/,
      { eof: true },
    );
  }
  checkError(
    res,
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
    502,
    /connection closed in the middle of a chunked body/,
    { eof: true },
  );
});

test("ChunkedReader on its own leaves the bytes after the body alone", () => {
  const buf = new ReceiveBuffer();
  const r = new ChunkedReader(502, DEFAULT_LIMITS);
  buf.push(b("3\r\nabc\r\n0\r\n\r\nNEXT"));
  assert.equal(s(r.next(buf) as Uint8Array), "abc");
  assert.deepEqual(r.next(buf), { trailers: null });
  assert.equal(s(buf.takeAll()), "NEXT");
  assert.deepEqual(r.next(buf), { trailers: null }, "stays done");
  assert.deepEqual(r.eof(), { trailers: null });
});

// ---- BodyWriter ----

test("BodyWriter re-chunks each piece of data and ends with 0 CRLF + trailers + CRLF", () => {
  const w = new BodyWriter({ kind: "chunked" });
  assert.equal(w.chunked, true);
  const out: Uint8Array[] = [];
  w.data(b("hello"), out);
  w.data(new Uint8Array(0), out); // an empty piece would end the body: skipped
  w.data(b("x".repeat(300)), out);
  w.end(null, out);
  assert.equal(joined(out), "5\r\nhello\r\n12c\r\n" + "x".repeat(300) + "\r\n0\r\n\r\n");

  const out2: Uint8Array[] = [];
  w.data(b("a"), out2);
  w.end(HeaderList.from([["Expires", "0"], ["X-Sum", "ab"]]), out2);
  assert.equal(joined(out2), "1\r\na\r\n0\r\nExpires: 0\r\nX-Sum: ab\r\n\r\n");

  const out3: Uint8Array[] = [];
  w.end(new HeaderList(), out3);
  assert.equal(joined(out3), "0\r\n\r\n");
});

test("BodyWriter passes data through unchanged for other framings", () => {
  for (const kind of ["length", "close", "none"] as const) {
    const w = new BodyWriter(kind === "length" ? { kind, length: 5 } : { kind });
    assert.equal(w.chunked, false);
    const out: Uint8Array[] = [];
    const piece = b("hello");
    w.data(piece, out);
    w.end(HeaderList.from([["Ignored", "1"]]), out);
    assert.equal(out.length, 1);
    assert.equal(out[0], piece, "the same array, not a copy");
  }
});

test("a chunked message parsed and re-serialized parses to the same events", () => {
  const inputs = [
    CHUNKED_HEAD + "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\nX-Two: 2\r\n\r\n",
    CHUNKED_HEAD + "0\r\n\r\n",
    "PUT /%E9 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" +
    "1\r\n\x00\r\n2\r\n\r\n\r\n0\r\nT: \xff\r\n\r\n",
  ];
  for (const input of inputs) {
    const events = feedAll(requestDriver(), [b(input)], false);
    const out: Uint8Array[] = [];
    let writer: BodyWriter | null = null;
    const reader = new RequestReader();
    for (const ev of events) {
      if (ev.type === "head") {
        out.push(serializeRequestHead(ev.head as Parameters<typeof serializeRequestHead>[0]));
        writer = new BodyWriter({ kind: "chunked" });
      } else if (ev.type === "data") writer!.data(ev.data, out);
      else if (ev.type === "end") writer!.end(ev.trailers, out);
    }
    reader.feed(concatBytes(out));
    const again = feedAll({ reader, after() {} }, [], false);
    assert.deepEqual(normalize(again), normalize(events));
    // And the re-serialized message also reads the same byte by byte.
    checkIO(req, concatBytes(out), normalize(events));
  }
});

test("a chunked response re-serialized from events is byte-identical when chunks match", () => {
  const input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "3\r\nabc\r\n0\r\nA: 1\r\n\r\n";
  const d = responseDriver(["GET"]);
  const events = feedAll(d, [b(input)], false);
  const out: Uint8Array[] = [];
  const w = new BodyWriter({ kind: "chunked" });
  for (const ev of events) {
    if (ev.type === "head") {
      out.push(serializeResponseHead(ev.head as Parameters<typeof serializeResponseHead>[0]));
    } else if (ev.type === "data") w.data(ev.data, out);
    else if (ev.type === "end") w.end(ev.trailers, out);
  }
  assert.equal(joined(out), input);
});
