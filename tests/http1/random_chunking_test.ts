import { test } from "node:test";
import assert from "node:assert/strict";
import {
  b,
  CLOSED,
  data,
  type Driver,
  end,
  errorOf,
  feedAll,
  mulberry32,
  type Norm,
  normalize,
  reqHead,
  requestDriver,
  resHead,
  responseDriver,
  splitAt,
} from "./helpers.ts";

interface Case {
  name: string;
  make: () => Driver;
  input: string;
  eof: boolean;
  expected: Norm[];
}

const big = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(i & 0xff)).join("");

const CASES: Case[] = [
  {
    name: "pipelined requests with every framing",
    make: () => requestDriver(),
    input: "\r\nGET /a HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n" +
      `POST /b HTTP/1.1\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;ext\r\nhello\r\na\r\n0123456789\r\n0\r\nTrailer-One: 1\r\ntrailer-two: 2\r\n\r\n" +
      "OPTIONS * HTTP/1.0\r\n\r\n",
    eof: true,
    expected: [
      reqHead("GET", "/a", ["Host", "x", "Accept", "*/*"]),
      end(),
      reqHead("POST", "/b", ["Content-Length", String(big.length)]),
      data(big),
      end(),
      reqHead("PUT", "/c", ["Transfer-Encoding", "chunked"]),
      data("hello0123456789"),
      end(["Trailer-One", "1", "trailer-two", "2"]),
      reqHead("OPTIONS", "*", [], "HTTP/1.0"),
      end(),
      CLOSED,
    ],
  },
  {
    name: "interim responses, a chunked final response and a HEAD response",
    make: () => responseDriver(["POST", "HEAD"]),
    input: "HTTP/1.1 100 Continue\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: \xe9\r\n\r\n" +
      "1\r\na\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
    eof: false,
    expected: [
      resHead(100, "Continue"),
      end(),
      resHead(200, "OK", ["Transfer-Encoding", "chunked", "X-A", "\xe9"]),
      data("a0123456789abcdef"),
      end(),
      resHead(200, "OK", ["Content-Length", "10"]),
      end(),
    ],
  },
  {
    name: "LF-only and mixed responses, chunk lines read as browsers do",
    make: () => responseDriver(["GET", "GET"]),
    input: "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nX-A: \xe9\r\n\n" +
      "1 \na\r\n10;\n0123456789abcdef\n0\nT: 1\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 3\n\nabc",
    eof: false,
    expected: [
      resHead(200, "OK", ["Transfer-Encoding", "chunked", "X-A", "\xe9"]),
      data("a0123456789abcdef"),
      end(["T", "1"]),
      resHead(200, "OK", ["Content-Length", "3"]),
      data("abc"),
      end(),
    ],
  },
  {
    name: "close-delimited response",
    make: () => responseDriver(["GET"]),
    input: "HTTP/1.0 200 OK\r\nServer: s\r\n\r\n" + big,
    eof: true,
    expected: [resHead(200, "OK", ["Server", "s"], "HTTP/1.0"), data(big), end()],
  },
  {
    name: "Content-Length response followed by a 101 switch",
    make: () => responseDriver(["GET", "GET"]),
    input: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
    eof: false,
    expected: [
      resHead(200, "OK", ["Content-Length", "3"]),
      data("abc"),
      end(),
      resHead(101, "Switching Protocols", ["Upgrade", "x"]),
      end(),
    ],
  },
];

/** Random cut points: usually a few, sometimes very many. */
function randomCuts(rand: () => number, length: number): number[] {
  const count = rand() < 0.2 ? Math.floor(rand() * length) : Math.floor(rand() * 12);
  const cuts: number[] = [];
  for (let i = 0; i < count; i++) cuts.push(Math.floor(rand() * (length + 1)));
  return cuts;
}

for (const c of CASES) {
  test(`random chunking: ${c.name}`, () => {
    const bytes = b(c.input);
    const whole = normalize(feedAll(c.make(), [bytes], c.eof));
    assert.deepEqual(whole, c.expected);
    const rand = mulberry32(0x5eed + c.name.length);
    for (let round = 0; round < 300; round++) {
      const cuts = randomCuts(rand, bytes.length);
      const events = normalize(feedAll(c.make(), splitAt(bytes, cuts), c.eof));
      assert.deepEqual(events, c.expected, `cuts ${JSON.stringify(cuts.sort((x, y) => x - y))}`);
    }
  });
}

test("random chunking: errors are the same however the input is split", () => {
  const bad = [
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    "GET / HTTP/1.1\r\nHost: a\n\r\n",
    'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n0\r\n\r\n',
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\rb\r\n\r\n",
    "GET /caf\xe9 HTTP/1.1\r\n\r\n",
  ];
  const rand = mulberry32(99);
  for (const input of bad) {
    const bytes = b(input);
    const first = errorOf(requestDriver(), [bytes], false);
    for (let round = 0; round < 100; round++) {
      const got = errorOf(requestDriver(), splitAt(bytes, randomCuts(rand, bytes.length)), false);
      assert.equal(got.error.status, first.error.status);
      assert.equal(got.error.message, first.error.message);
      assert.deepEqual(got.events, first.events);
    }
  }
});

test("random chunking: random valid chunked bodies round-trip", () => {
  const rand = mulberry32(2024);
  for (let round = 0; round < 50; round++) {
    let body = "";
    let wire = "";
    const chunks = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < chunks; i++) {
      const n = 1 + Math.floor(rand() * 40);
      let piece = "";
      for (let j = 0; j < n; j++) piece += String.fromCharCode(Math.floor(rand() * 256));
      body += piece;
      const size = n.toString(16);
      wire += (rand() < 0.5 ? size.toUpperCase() : size) + (rand() < 0.3 ? ";x=y" : "") +
        "\r\n" + piece + "\r\n";
    }
    const input = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + wire + "0\r\n\r\n";
    const bytes = b(input);
    const expected = [
      reqHead("POST", "/", ["Transfer-Encoding", "chunked"]),
      data(body),
      end(),
    ];
    for (let k = 0; k < 5; k++) {
      const events = normalize(
        feedAll(requestDriver(), splitAt(bytes, randomCuts(rand, bytes.length)), false),
      );
      assert.deepEqual(events, expected);
    }
  }
});
