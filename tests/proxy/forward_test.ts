/**
 * Forwarding http:// requests: what the origin receives, what the client gets back, bodies,
 * keep-alive, pipelining, the origin pool, HTTP/1.0 and close-delimited responses.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { head, settle, withProxy } from "./helpers.ts";

// ---- heads ----

test("absolute-form GET reaches the origin in origin-form without hop-by-hop fields", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("origin.test", 80);
    const client = await h.client();
    await client.write(head(
      "GET http://origin.test/path?q HTTP/1.1",
      "Host: origin.test",
      "User-Agent: test/1.0",
      "Connection: keep-alive, X-Conn-Only",
      "X-Conn-Only: drop me",
      "Keep-Alive: timeout=5",
      "Proxy-Connection: keep-alive",
      "Proxy-Authorization: Basic dXNlcjpwYXNz",
      "TE: trailers",
      "accept: */*",
      "X-Mixed-CASE: Value  with  spaces",
      "Cookie: a=1",
      "Cookie: b=2",
    ));
    const oc = await origin.accept();
    const req = await oc.request();
    assert.equal(
      req.raw,
      head(
        "GET /path?q HTTP/1.1",
        "Host: origin.test",
        "User-Agent: test/1.0",
        "accept: */*",
        "X-Mixed-CASE: Value  with  spaces",
        "Cookie: a=1",
        "Cookie: b=2",
      ),
    );

    await oc.write(
      head(
        "HTTP/1.1 200 Fine Thanks",
        "Date: Mon, 01 Jan 2024 00:00:00 GMT",
        "Connection: keep-alive, X-Hop",
        "Keep-Alive: timeout=30",
        "X-Hop: gone",
        "content-type: text/plain",
        "Set-Cookie: a=1",
        "Set-Cookie: b=2",
        "Content-Length: 5",
      ) + "hello",
    );
    const res = await client.response();
    assert.equal(
      res.raw,
      head(
        "HTTP/1.1 200 Fine Thanks",
        "Date: Mon, 01 Jan 2024 00:00:00 GMT",
        "content-type: text/plain",
        "Set-Cookie: a=1",
        "Set-Cookie: b=2",
        "Content-Length: 5",
      ) + "hello",
    );
    // Keep-alive: nothing else arrives and the connection stays open.
    await settle();
    assert.equal(client.buffered, "");
    assert.equal(client.conn.isClosed, false);
  });
});

test("Host is replaced by the target authority when it differs, in place", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("origin.test", 8081);
    const client = await h.client();
    await client.write(head(
      "GET http://Origin.Test:8081/a HTTP/1.1",
      "Accept: x",
      "host: elsewhere.test",
      "X-After: 1",
    ));
    const oc = await origin.accept();
    const req = await oc.request();
    assert.equal(
      req.raw,
      head("GET /a HTTP/1.1", "Accept: x", "host: origin.test:8081", "X-After: 1"),
    );
    await oc.write(head("HTTP/1.1 204 No Content"));
    assert.equal((await client.response()).raw, head("HTTP/1.1 204 No Content"));
  });
});

test("Host is added first when the client sent none", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("origin.test", 8081);
    const client = await h.client();
    await client.write(head("GET http://origin.test:8081 HTTP/1.1", "Accept: x", "X-Y: z"));
    const oc = await origin.accept();
    assert.equal(
      (await oc.request()).raw,
      head("GET / HTTP/1.1", "Host: origin.test:8081", "Accept: x", "X-Y: z"),
    );
    await oc.write(head("HTTP/1.1 204 No Content"));
    assert.equal((await client.response()).status, 204);
  });
});

test("a Host equal to the authority (ignoring case) is kept as sent", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("origin.test", 80);
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "X-A: 1", "Host: ORIGIN.test"));
    const oc = await origin.accept();
    assert.equal((await oc.request()).raw, head("GET / HTTP/1.1", "X-A: 1", "Host: ORIGIN.test"));
    await oc.write(head("HTTP/1.1 204 No Content"));
    assert.equal((await client.response()).status, 204);
  });
});

// ---- bodies ----

test("a Content-Length request body is forwarded intact, even when it arrives in pieces", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head(
        "POST http://origin.test/upload HTTP/1.1",
        "Host: origin.test",
        "Content-Type: application/octet-stream",
        "Content-Length: 16",
      ) + "0123",
    );
    const oc = await origin.accept();
    // The head and the first bytes are forwarded before the rest of the body exists.
    const first = await oc.readUntil("\r\n\r\n");
    assert.equal(
      first,
      head(
        "POST /upload HTTP/1.1",
        "Host: origin.test",
        "Content-Type: application/octet-stream",
        "Content-Length: 16",
      ),
    );
    assert.equal(await oc.readExactly(4), "0123");
    await client.write("4567\x00\xff\r\n");
    await client.write("cdef");
    assert.equal(await oc.readExactly(12), "4567\x00\xff\r\ncdef");
    await oc.write(head("HTTP/1.1 201 Created", "Content-Length: 2") + "ok");
    const res = await client.response("POST");
    assert.equal(res.raw, head("HTTP/1.1 201 Created", "Content-Length: 2") + "ok");
  });
});

test("a chunked request body is re-chunked, extensions dropped, trailers forwarded", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head(
        "POST http://origin.test/c HTTP/1.1",
        "Host: origin.test",
        "Transfer-Encoding: chunked",
        "Trailer: X-Checksum",
      ) +
        "5;name=value\r\nhello\r\n" +
        "00006\r\n world\r\n" +
        "0\r\nX-Checksum: abc\r\nX-Other: 2\r\n\r\n",
    );
    const oc = await origin.accept();
    const req = await oc.request();
    assert.equal(
      req.raw,
      head(
        "POST /c HTTP/1.1",
        "Host: origin.test",
        "Transfer-Encoding: chunked",
        "Trailer: X-Checksum",
      ) +
        "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 2\r\n\r\n",
    );
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 0"));
    assert.equal((await client.response("POST")).raw, head("HTTP/1.1 200 OK", "Content-Length: 0"));
  });
});

test("a chunked request body sent byte by byte arrives whole, with its trailers", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    const body = "3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n";
    await client.write(
      head("PUT http://origin.test/p HTTP/1.1", "Host: origin.test", "Transfer-Encoding: chunked"),
    );
    const oc = await origin.accept();
    for (const c of body) await client.write(c);
    const req = await oc.request();
    assert.equal(req.startLine, "PUT /p HTTP/1.1");
    assert.equal(req.body, "abc0123456789abcdef");
    assert.deepEqual(req.trailers, ["X-T", "1"]);
    await oc.write(head("HTTP/1.1 204 No Content"));
    assert.equal((await client.response("PUT")).status, 204);
    // The connection is still usable afterwards.
    await client.write(head("GET http://origin.test/again HTTP/1.1", "Host: origin.test"));
    assert.equal((await oc.request()).startLine, "GET /again HTTP/1.1");
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "!");
    assert.equal((await client.response()).body, "!");
  });
});

test("a chunked response with trailers reaches the client with its trailers", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/t HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    const resHead = head(
      "HTTP/1.1 200 OK",
      "Content-Type: text/plain",
      "Transfer-Encoding: chunked",
      "Trailer: X-Sum",
    );
    await oc.write(resHead + "4\r\nwiki\r\n");
    // The first chunk is forwarded before the body ends.
    assert.equal(await client.readUntil("wiki\r\n"), resHead + "4\r\nwiki\r\n");
    await oc.write("5;ext=1\r\npedia\r\n0\r\nX-Sum: 9\r\n\r\n");
    assert.equal(await client.readUntil("\r\n\r\n"), "5\r\npedia\r\n0\r\nX-Sum: 9\r\n\r\n");
    await settle();
    assert.equal(client.buffered, "");
    assert.equal(client.conn.isClosed, false);
  });
});

test("a response to HEAD with a Content-Length has no body and the connection continues", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("HEAD http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    assert.equal((await oc.request()).startLine, "HEAD / HTTP/1.1");
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 1000"));
    assert.equal(
      (await client.response("HEAD")).raw,
      head("HTTP/1.1 200 OK", "Content-Length: 1000"),
    );
    await client.write(head("GET http://origin.test/2 HTTP/1.1", "Host: origin.test"));
    assert.equal((await oc.request()).startLine, "GET /2 HTTP/1.1");
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 2") + "ok");
    assert.equal((await client.response()).body, "ok");
    assert.equal(origin.conns.length, 1);
  });
});

// ---- keep-alive, pipelining, pooling ----

test("keep-alive: two requests on one client connection share one origin connection", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    const oc = (async () => {
      const c = await origin.accept();
      for (const n of ["1", "2"]) {
        const req = await c.request();
        assert.equal(req.startLine, `GET /${n} HTTP/1.1`);
        await c.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + n);
      }
    })();
    for (const n of ["1", "2"]) {
      await client.write(head(`GET http://origin.test/${n} HTTP/1.1`, "Host: origin.test"));
      const res = await client.response();
      assert.equal(res.raw, head("HTTP/1.1 200 OK", "Content-Length: 1") + n);
    }
    await oc;
    assert.equal(origin.conns.length, 1, "the pooled origin connection was reused");
  });
});

test("pipelined requests are answered in order", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head("GET http://origin.test/first HTTP/1.1", "Host: origin.test") +
        head("POST http://origin.test/second HTTP/1.1", "Host: origin.test", "Content-Length: 3") +
        "abc" +
        head("GET http://origin.test/third HTTP/1.1", "Host: origin.test"),
    );
    const oc = await origin.accept();
    const r1 = await oc.request();
    assert.equal(r1.startLine, "GET /first HTTP/1.1");
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 5") + "first");
    const r2 = await oc.request();
    assert.equal(
      r2.raw,
      head("POST /second HTTP/1.1", "Host: origin.test", "Content-Length: 3") + "abc",
    );
    await oc.write(
      head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "6\r\nsecond\r\n0\r\n\r\n",
    );
    const r3 = await oc.request();
    assert.equal(r3.startLine, "GET /third HTTP/1.1");
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 5") + "third");
    assert.equal((await client.response()).body, "first");
    assert.equal((await client.response("POST")).body, "second");
    assert.equal((await client.response()).body, "third");
    assert.equal(origin.conns.length, 1);
  });
});

test("requests to different ports of one host use different origin connections", async () => {
  await withProxy({}, async (h) => {
    const a = await h.origin("origin.test", 80);
    const b = await h.origin("origin.test", 81);
    const client = await h.client();
    for (
      const [origin, url] of [[a, "http://origin.test/"], [b, "http://origin.test:81/"]] as const
    ) {
      await client.write(head(`GET ${url} HTTP/1.1`, "Host: origin.test"));
      const oc = await origin.accept();
      await oc.request();
      await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "x");
      assert.equal((await client.response()).body, "x");
    }
    assert.equal(a.conns.length, 1);
    assert.equal(b.conns.length, 1);
  });
});

test("origin_pool_size 0: every request opens a new origin connection", async () => {
  await withProxy({ origin_pool_size: 0 }, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    for (const n of [1, 2]) {
      await client.write(head(`GET http://origin.test/${n} HTTP/1.1`, "Host: origin.test"));
      const oc = await origin.accept();
      await oc.request();
      await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + n);
      assert.equal((await client.response()).body, String(n));
      await oc.expectEof(); // the proxy closed it instead of pooling it
    }
    assert.equal(origin.conns.length, 2);
  });
});

test("an origin that closes a pooled connection while idle: the next request uses a fresh one", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/1 HTTP/1.1", "Host: origin.test"));
    const first = await origin.accept();
    await first.request();
    await first.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "1");
    assert.equal((await client.response()).body, "1");
    await settle(); // the connection is now idle in the pool
    first.close();
    await settle();
    await client.write(head("GET http://origin.test/2 HTTP/1.1", "Host: origin.test"));
    const second = await origin.accept();
    assert.equal((await second.request()).startLine, "GET /2 HTTP/1.1");
    await second.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "2");
    assert.equal((await client.response()).raw, head("HTTP/1.1 200 OK", "Content-Length: 1") + "2");
  });
});

test("a pooled connection the origin closes on the next request: bodiless requests are retried", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/1 HTTP/1.1", "Host: origin.test"));
    const first = await origin.accept();
    await first.request();
    await first.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "1");
    assert.equal((await client.response()).body, "1");

    await client.write(head("GET http://origin.test/2 HTTP/1.1", "Host: origin.test", "X-N: 2"));
    // The request reaches the stale connection, which the origin closes without answering...
    assert.equal((await first.request()).startLine, "GET /2 HTTP/1.1");
    first.close();
    // ...so it is sent again, identically, on a fresh connection.
    const second = await origin.accept();
    assert.equal(
      (await second.request()).raw,
      head("GET /2 HTTP/1.1", "Host: origin.test", "X-N: 2"),
    );
    await second.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "2");
    assert.equal((await client.response()).raw, head("HTTP/1.1 200 OK", "Content-Length: 1") + "2");
    assert.equal(origin.conns.length, 2);
  });
});

test("a pooled connection the origin closes on a request with a body: 502, no retry", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/1 HTTP/1.1", "Host: origin.test"));
    const first = await origin.accept();
    await first.request();
    await first.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "1");
    assert.equal((await client.response()).body, "1");

    await client.write(
      head("POST http://origin.test/2 HTTP/1.1", "Host: origin.test", "Content-Length: 2") + "hi",
    );
    assert.equal((await first.request()).body, "hi");
    first.close();
    const res = await client.response("POST");
    assert.equal(res.status, 502);
    assert.match(res.body, /origin\.test closed the connection without responding/);
    await client.expectEof();
    assert.equal(origin.conns.length, 1, "a request with a body is not sent twice");
  });
});

// ---- connection management ----

test("HTTP/1.0 client: the response says Connection: close and the connection closes", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head("GET http://origin.test/old HTTP/1.0", "Connection: keep-alive", "Accept: */*"),
    );
    const oc = await origin.accept();
    assert.equal(
      (await oc.request()).raw,
      head("GET /old HTTP/1.0", "Host: origin.test", "Accept: */*"),
    );
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 3") + "old");
    assert.equal(
      await client.readToEof(),
      head("HTTP/1.1 200 OK", "Content-Length: 3", "Connection: close") + "old",
    );
  });
});

test("Connection: close from an HTTP/1.1 client: Connection: close back, then EOF", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head("GET http://origin.test/ HTTP/1.1", "Host: origin.test", "Connection: close"),
    );
    const oc = await origin.accept();
    assert.equal((await oc.request()).raw, head("GET / HTTP/1.1", "Host: origin.test"));
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 2") + "ok");
    assert.equal(
      await client.readToEof(),
      head("HTTP/1.1 200 OK", "Content-Length: 2", "Connection: close") + "ok",
    );
  });
});

test("a close-delimited response reaches the client whole, with Connection: close, then EOF", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/stream HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(head("HTTP/1.1 200 OK", "Content-Type: text/plain") + "part one, ");
    await oc.write("part two");
    oc.closeWrite();
    assert.equal(
      await client.readToEof(),
      head("HTTP/1.1 200 OK", "Content-Type: text/plain", "Connection: close") +
        "part one, part two",
    );
  });
});

test("an origin's Connection: close ends its connection but not the client's", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/1 HTTP/1.1", "Host: origin.test"));
    const first = await origin.accept();
    await first.request();
    await first.write(
      head("HTTP/1.1 200 OK", "Connection: close", "Content-Length: 1") + "1",
    );
    assert.equal((await client.response()).raw, head("HTTP/1.1 200 OK", "Content-Length: 1") + "1");
    await first.expectEof(); // the proxy closed the origin connection instead of pooling it
    await client.write(head("GET http://origin.test/2 HTTP/1.1", "Host: origin.test"));
    const second = await origin.accept();
    await second.request();
    await second.write(head("HTTP/1.1 200 OK", "Content-Length: 1") + "2");
    assert.equal((await client.response()).body, "2");
  });
});

// ---- interim and early responses ----

test("Expect: 100-continue: the 100 reaches the client, then the final response", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head(
      "POST http://origin.test/form HTTP/1.1",
      "Host: origin.test",
      "Expect: 100-continue",
      "Content-Length: 5",
    ));
    const oc = await origin.accept();
    assert.equal(
      await oc.readUntil("\r\n\r\n"),
      head("POST /form HTTP/1.1", "Host: origin.test", "Expect: 100-continue", "Content-Length: 5"),
    );
    await oc.write("HTTP/1.1 100 Continue\r\n\r\n");
    const interim = await client.response("POST");
    assert.equal(interim.raw, "HTTP/1.1 100 Continue\r\n\r\n");
    await client.write("hello");
    assert.equal(await oc.readExactly(5), "hello");
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 4") + "done");
    assert.equal(
      (await client.response("POST")).raw,
      head("HTTP/1.1 200 OK", "Content-Length: 4") + "done",
    );
    await settle();
    assert.equal(client.conn.isClosed, false);
  });
});

test("an HTTP/1.0 client does not get interim responses", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.0"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
        head("HTTP/1.1 200 OK", "Content-Length: 2") + "ok",
    );
    assert.equal(
      await client.readToEof(),
      head("HTTP/1.1 200 OK", "Content-Length: 2", "Connection: close") + "ok",
    );
  });
});

test("an early response (413 before the body is read) reaches the client, then EOF", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head(
        "POST http://origin.test/big HTTP/1.1",
        "Host: origin.test",
        "Content-Length: 10000000",
      ) + "x".repeat(1000),
    );
    const oc = await origin.accept();
    await oc.readUntil("\r\n\r\n");
    await oc.write(
      head("HTTP/1.1 413 Content Too Large", "Content-Length: 8", "Connection: close") +
        "too big\n",
    );
    oc.closeWrite();
    const res = await client.response("POST");
    assert.equal(res.status, 413);
    assert.equal(res.body, "too big\n");
    assert.equal(res.raw.slice(res.head.length), "too big\n");
    // The upload is unfinished, so this connection cannot carry another request: said up front.
    assert.match(res.head, /\r\nConnection: close\r\n/);
    await client.expectEof();
    // The proxy closes gracefully: it keeps reading (and dropping) what the client still sends
    // for a moment, so that a client still uploading sees the response rather than a reset.
    assert.equal(client.conn.isClosed, false, "closed abruptly");
    await client.write("y".repeat(1000));
    await settle();
    assert.equal(client.conn.isClosed, false, "closed abruptly");
  });
});
