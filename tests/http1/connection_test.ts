// The HTTP/1 connection state machine, both roles: every input fed all at once and byte by byte.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  H1Connection,
  type H1Event,
  H1LocalError,
  NEED_DATA,
  PAUSED,
} from "../../src/http1/connection.ts";
import { HeaderList, HttpError } from "../../src/http1/mod.ts";
import { b, byteByByte, joined, s } from "./helpers.ts";

type Norm = string;

/** One line per event, e.g. "request GET /", "data hi", "end", "closed", "need-data". */
function norm(ev: ReturnType<H1Connection["nextEvent"]>): Norm {
  switch (ev.type) {
    case "request":
      return `request ${ev.head.method} ${ev.head.target}`;
    case "informational":
    case "response":
      return `${ev.type} ${ev.head.status}`;
    case "data":
      return `data ${s(ev.data)}`;
    case "end":
      return ev.trailers ? `end ${ev.trailers.raw.join(":")}` : "end";
    default:
      return ev.type;
  }
}

/** Feeds `input` (optionally then EOF) and returns the events up to the first pause. */
function read(conn: H1Connection, chunks: Iterable<Uint8Array>, eof = false): Norm[] {
  const out: Norm[] = [];
  const pull = () => {
    if (out.at(-1) === "closed") return;
    for (;;) {
      const ev = conn.nextEvent();
      if (ev === NEED_DATA) return;
      if (ev === PAUSED) {
        if (out.at(-1) !== "paused") out.push("paused");
        return;
      }
      const n = norm(ev);
      // Byte by byte, body data arrives in pieces: merge adjacent data events.
      const last = out.at(-1);
      if (n.startsWith("data ") && last?.startsWith("data ")) {
        out[out.length - 1] = last + n.slice(5);
      } else out.push(n);
      if (n === "closed") return;
    }
  };
  pull();
  for (const c of chunks) {
    conn.receiveData(c);
    pull();
  }
  if (eof) {
    conn.receiveEof();
    pull();
  }
  return out;
}

/** Runs `check` with the input fed at once and byte by byte. */
function bothWays(
  input: string,
  role: "client" | "server",
  check: (events: Norm[], conn: H1Connection) => void,
  setup?: (c: H1Connection) => void,
  eof = false,
) {
  for (const split of [false, true]) {
    const conn = new H1Connection(role);
    setup?.(conn);
    const bytes = b(input);
    const events = read(conn, split ? byteByByte(bytes) : [bytes], eof);
    check(events, conn);
  }
}

const h = (...raw: string[]) => new HeaderList(raw);
const res = (status: number, headers: HeaderList, reason = "OK"): H1Event => ({
  type: "response",
  head: { version: "HTTP/1.1", status, reason, headers },
});
const req = (method: string, target: string, headers: HeaderList): H1Event => ({
  type: "request",
  head: { method, target, version: "HTTP/1.1", headers },
});
const END: H1Event = { type: "end", trailers: null };
const wire = (conn: H1Connection, ...events: H1Event[]) =>
  joined(events.flatMap((e) => conn.send(e)));

describe("H1Connection, server role", () => {
  test("one request, then paused until the response is done and the next cycle starts", () => {
    const input = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    bothWays(input, "server", (events, conn) => {
      assert.deepEqual(events, ["request GET /a", "end", "paused"]);
      assert.deepEqual(conn.states, { client: "DONE", server: "SEND_RESPONSE" });
      assert.equal(
        wire(conn, res(200, h("Content-Length", "2")), { type: "data", data: b("ok") }, END),
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      );
      assert.deepEqual(conn.states, { client: "DONE", server: "DONE" });
      conn.startNextCycle();
      assert.deepEqual(read(conn, []), ["request GET /b", "end"]);
    });
  });

  test("a body is handed out as it arrives; chunked trailers come with the end", () => {
    const input = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
    bothWays(input, "server", (events) => {
      assert.deepEqual(events, ["request POST /", "data abcde", "end T:1"]);
    });
  });

  test("Connection: close makes both sides MUST_CLOSE after the exchange", () => {
    bothWays("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "server", (_, conn) => {
      wire(conn, res(204, h()), END);
      assert.deepEqual(conn.states, { client: "MUST_CLOSE", server: "MUST_CLOSE" });
      assert.throws(() => conn.startNextCycle(), H1LocalError);
    });
  });

  test("HTTP/1.0 without keep-alive does not persist", () => {
    bothWays("GET / HTTP/1.0\r\n\r\n", "server", (_, conn) => {
      wire(conn, res(200, h("Content-Length", "0")), END);
      assert.equal(conn.ourState, "MUST_CLOSE");
    });
  });

  test("a close-delimited response body ends the connection", () => {
    bothWays("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "server", (_, conn) => {
      wire(conn, res(200, h()), { type: "data", data: b("stream") }, END);
      assert.equal(conn.ourState, "MUST_CLOSE");
    });
  });

  test("Expect: 100-continue is visible until a response is sent", () => {
    const input = "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    bothWays(input, "server", (events, conn) => {
      assert.deepEqual(events, ["request PUT /"]);
      assert.equal(conn.clientIsWaitingFor100Continue, true);
      assert.equal(
        wire(conn, {
          type: "informational",
          head: { version: "HTTP/1.1", status: 100, reason: "Continue", headers: h() },
        }),
        "HTTP/1.1 100 Continue\r\n\r\n",
      );
      assert.equal(conn.clientIsWaitingFor100Continue, false);
      assert.deepEqual(read(conn, [b("hi")]), ["data hi", "end"]);
    });
  });

  test("CONNECT then 200: both sides switch and the rest is the tunnel's", () => {
    bothWays(
      "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01",
      "server",
      (events, conn) => {
        assert.deepEqual(events, ["request CONNECT a:443", "end", "paused"]);
        assert.equal(conn.theirState, "MIGHT_SWITCH_PROTOCOL");
        assert.equal(
          wire(conn, res(200, h(), "Connection established")),
          "HTTP/1.1 200 Connection established\r\n\r\n",
        );
        assert.deepEqual(conn.states, { client: "SWITCHED_PROTOCOL", server: "SWITCHED_PROTOCOL" });
        assert.equal(s(conn.takeTrailingData()), "\x16\x03\x01");
      },
    );
  });

  test("a refused CONNECT leaves an ordinary exchange", () => {
    bothWays("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", "server", (_, conn) => {
      wire(conn, res(407, h("Content-Length", "0")), END);
      assert.deepEqual(conn.states, { client: "DONE", server: "DONE" });
    });
  });

  test("Upgrade: websocket answered 101 switches; a 101 nobody asked for is refused", () => {
    const input =
      "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    bothWays(input, "server", (_, conn) => {
      wire(
        conn,
        res(101, h("Upgrade", "websocket", "Connection", "Upgrade"), "Switching Protocols"),
      );
      assert.equal(conn.ourState, "SWITCHED_PROTOCOL");
    });
    bothWays("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "server", (_, conn) => {
      assert.throws(() => conn.send(res(101, h())), /did not ask to upgrade/);
    });
  });

  test("a clean EOF between requests is 'closed'; in a request it is an error", () => {
    bothWays(
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "server",
      (events, conn) => {
        assert.deepEqual(events, ["request GET /", "end", "closed"]);
        assert.equal(conn.theirState, "CLOSED");
      },
      undefined,
      true,
    );
    const conn = new H1Connection("server");
    assert.throws(
      () => read(conn, [b("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")], true),
      (e) => e instanceof HttpError && e.status === 400,
    );
    assert.equal(conn.theirState, "ERROR");
    assert.throws(() => conn.nextEvent(), HttpError, "the error sticks");
  });

  test("a malformed request is an HttpError(400), and a 400 may still be sent from IDLE", () => {
    const conn = new H1Connection("server");
    assert.throws(
      () =>
        read(conn, [
          b("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ]),
      /both Content-Length and Transfer-Encoding/,
    );
    const fresh = new H1Connection("server");
    assert.equal(
      wire(fresh, res(400, h("Content-Length", "0", "Connection", "close"), "Bad Request"), END),
      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert.equal(fresh.ourState, "MUST_CLOSE");
  });

  test("our own misuse is an H1LocalError: wrong order, body longer or shorter than declared", () => {
    const conn = new H1Connection("server");
    assert.throws(
      () => conn.send({ type: "data", data: b("x") }),
      /cannot send body data in state IDLE/,
    );
    read(conn, [b("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]);
    conn.send(res(200, h("Content-Length", "3")));
    assert.throws(
      () => conn.send({ type: "data", data: b("four") }),
      /longer than its Content-Length/,
    );
    conn.send({ type: "data", data: b("ab") });
    assert.throws(() => conn.send(END), /1 bytes short/);
  });
});

describe("H1Connection, client role", () => {
  test("request out, response in, keep-alive, next cycle", () => {
    const conn = new H1Connection("client");
    assert.equal(
      wire(conn, req("POST", "/p", h("Host", "x", "Transfer-Encoding", "chunked")), {
        type: "data",
        data: b("abc"),
      }, { type: "end", trailers: h("T", "1") }),
      "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    );
    assert.deepEqual(conn.states, { client: "DONE", server: "SEND_RESPONSE" });
    const input = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    for (const split of [false, true]) {
      const c = new H1Connection("client");
      wire(c, req("GET", "/", h("Host", "x")), END);
      const events = read(c, split ? byteByByte(b(input)) : [b(input)]);
      assert.deepEqual(events, [
        "informational 100",
        "informational 103",
        "response 200",
        "data hi",
        "end",
      ]);
      assert.deepEqual(c.states, { client: "DONE", server: "DONE" });
      c.startNextCycle();
      assert.deepEqual(c.states, { client: "IDLE", server: "IDLE" });
    }
  });

  test("a response to HEAD has no body; the next bytes wait for the next request", () => {
    const conn = new H1Connection("client");
    wire(conn, req("HEAD", "/", h("Host", "x")), END);
    const events = read(conn, [
      b("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    assert.deepEqual(events, ["response 200", "end", "paused"]);
    conn.startNextCycle();
    wire(conn, req("GET", "/", h("Host", "x")), END);
    assert.deepEqual(read(conn, []), ["response 204", "end"]);
  });

  test("an origin closing an idle connection is 'closed'; mid-body it is a 502", () => {
    const idle = new H1Connection("client");
    assert.deepEqual(read(idle, [], true), ["closed"]);
    const cut = new H1Connection("client");
    wire(cut, req("GET", "/", h("Host", "x")), END);
    assert.throws(
      () => read(cut, [b("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")], true),
      (e) => e instanceof HttpError && e.status === 502,
    );
  });

  test("an origin closing after the request, before any response, is a 502", () => {
    const silent = new H1Connection("client");
    wire(silent, req("GET", "/", h("Host", "x")), END);
    assert.throws(
      () => read(silent, [], true),
      (e) =>
        e instanceof HttpError && e.status === 502 &&
        e.message === "closed the connection without responding",
    );
  });

  test("a close-delimited response ends at EOF and the connection must close", () => {
    bothWays(
      "HTTP/1.1 200 OK\r\n\r\nall of it",
      "client",
      (events, conn) => {
        assert.deepEqual(events, ["response 200", "data all of it", "end", "closed"]);
        assert.equal(conn.ourState, "MUST_CLOSE");
      },
      (c) => wire(c, req("GET", "/", h("Host", "x")), END),
      true,
    );
  });

  test("CONNECT answered 200 switches; the bytes after the head are the tunnel's", () => {
    bothWays("HTTP/1.1 200 OK\r\n\r\nSSH-2.0", "client", (events, conn) => {
      assert.deepEqual(events, ["response 200", "paused"]);
      assert.equal(conn.ourState, "SWITCHED_PROTOCOL");
      assert.equal(s(conn.takeTrailingData()), "SSH-2.0");
    }, (c) => wire(c, req("CONNECT", "a:22", h("Host", "a:22")), END));
  });

  test("an unasked-for 101 from the origin is a 502", () => {
    const conn = new H1Connection("client");
    wire(conn, req("GET", "/", h("Host", "x")), END);
    assert.throws(
      () => read(conn, [b("HTTP/1.1 101 Switching Protocols\r\n\r\n")]),
      (e) => e instanceof HttpError && e.status === 502,
    );
  });

  test("a second request before the first exchange is over is refused", () => {
    const conn = new H1Connection("client");
    wire(conn, req("GET", "/", h("Host", "x")), END);
    assert.throws(
      () => conn.send(req("GET", "/2", h("Host", "x"))),
      /cannot send a request in state DONE/,
    );
  });
});
