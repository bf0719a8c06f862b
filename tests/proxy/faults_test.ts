/**
 * What the proxy does when something goes wrong: unreachable origins, broken responses, broken
 * requests, requests that are not proxy requests, clients that leave, and timeouts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { head, settle, sleep, textResponse, withProxy } from "./helpers.ts";

// ---- origins that cannot be reached ----

test("origin refused: 502 naming host:port and the reason; the connection stays usable", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(head("GET http://nothere.test:81/x HTTP/1.1", "Host: nothere.test:81"));
    const res = await client.response();
    assert.equal(
      res.raw,
      textResponse(
        "502 Bad Gateway",
        "mitm.ts could not connect to nothere.test:81: connection refused. " +
          "Check the host name and that the server is up.",
        false,
      ),
    );
    // A bodiless request leaves the client connection in a known state: it can go on.
    const origin = await h.origin("nothere.test", 81);
    await client.write(head("GET http://nothere.test:81/y HTTP/1.1", "Host: nothere.test:81"));
    const oc = await origin.accept();
    assert.equal((await oc.request()).startLine, "GET /y HTTP/1.1");
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 2") + "up");
    assert.equal((await client.response()).body, "up");
  });
});

test("origin refused for a request with a body: 502 with Connection: close, then EOF", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(
      head("POST http://nothere.test/ HTTP/1.1", "Host: nothere.test", "Content-Length: 3") +
        "abc",
    );
    assert.equal(
      await client.readToEof(),
      textResponse(
        "502 Bad Gateway",
        "mitm.ts could not connect to nothere.test: connection refused. " +
          "Check the host name and that the server is up.",
        true,
      ),
    );
  });
});

test("DNS failure: 502 mentioning DNS", async () => {
  await withProxy({}, async (h) => {
    h.network.unresolvable.add("nxdomain.test");
    const client = await h.client();
    await client.write(head("GET http://nxdomain.test/ HTTP/1.1", "Host: nxdomain.test"));
    const res = await client.response();
    assert.equal(res.status, 502);
    assert.equal(
      res.body,
      "mitm.ts could not connect to nxdomain.test: DNS lookup failed. " +
        "Check the host name and that the server is up.\n",
    );
  });
});

// ---- origins that misbehave ----

test("origin closes without responding: 502, then EOF", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    oc.close();
    assert.equal(
      await client.readToEof(),
      textResponse(
        "502 Bad Gateway",
        "mitm.ts got a bad response from origin.test: " +
          "origin.test closed the connection without responding.",
        true,
      ),
    );
  });
});

test("origin sends garbage: 502 whose body names the problem", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write("FOO\r\n\r\n");
    assert.equal(
      await client.readToEof(),
      textResponse(
        "502 Bad Gateway",
        "mitm.ts got a bad response from origin.test: status line does not start with HTTP/1.x.",
        true,
      ),
    );
    await oc.expectEof(); // the origin connection is dropped, not pooled
  });
});

test("origin sends a response with both Content-Length and Transfer-Encoding: 502", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(
      head("HTTP/1.1 200 OK", "Content-Length: 3", "Transfer-Encoding: chunked") + "0\r\n\r\n",
    );
    const res = await client.response();
    assert.equal(res.status, 502);
    assert.match(res.body, /response has both Content-Length and Transfer-Encoding/);
    await client.expectEof();
  });
});

test("origin closes in the middle of the response head: 502", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write("HTTP/1.1 200 OK\r\nContent-Le");
    oc.close();
    const res = await client.response();
    assert.equal(res.status, 502);
    assert.match(res.body, /in the middle of the response head/);
    await client.expectEof();
  });
});

test("origin closes mid-body: the client gets what was sent, then EOF", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 10") + "abcd");
    assert.equal(
      await client.readUntil("abcd"),
      head("HTTP/1.1 200 OK", "Content-Length: 10") + "abcd",
    );
    oc.close();
    // No 502 can follow a started response: the only signal left is closing the connection.
    await client.expectEof();
  });
});

test("origin closes mid-chunk: the client gets what was sent, then EOF", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "a\r\n01234");
    oc.closeWrite();
    assert.equal(
      await client.readToEof(),
      head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + "5\r\n01234\r\n",
    );
  });
});

// ---- requests the proxy refuses ----

test("Content-Length with Transfer-Encoding: 400 with the reason, then EOF", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head(
        "POST http://origin.test/ HTTP/1.1",
        "Host: origin.test",
        "Content-Length: 5",
        "Transfer-Encoding: chunked",
      ) + "0\r\n\r\n",
    );
    assert.equal(
      await client.readToEof(),
      textResponse(
        "400 Bad Request",
        "mitm.ts refused the request: request has both Content-Length and Transfer-Encoding.",
        true,
      ),
    );
    assert.equal(origin.conns.length, 0, "nothing was forwarded");
  });
});

test("a malformed chunked request body: 400 and the origin connection is dropped", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head("POST http://origin.test/ HTTP/1.1", "Host: origin.test", "Transfer-Encoding: chunked") +
        "zz\r\n",
    );
    assert.equal(
      await client.readToEof(),
      textResponse(
        "400 Bad Request",
        "mitm.ts refused the request: chunk size is not a hexadecimal number.",
        true,
      ),
    );
    // A body malformed from its first bytes is refused before dialling; should an origin
    // connection exist, none is left waiting.
    await settle();
    for (const oc of origin.conns) await oc.readToEof();
  });
});

test("a request head larger than max_head_bytes: 431", async () => {
  await withProxy({ max_head_bytes: 1024 }, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head("GET http://origin.test/ HTTP/1.1", "Host: origin.test", "X-Big: " + "a".repeat(2000)),
    );
    assert.equal(
      await client.readToEof(),
      textResponse(
        "431 Request Header Fields Too Large",
        "mitm.ts refused the request: request head is larger than 1024 bytes.",
        true,
      ),
    );
    assert.equal(origin.conns.length, 0);
  });
});

test("an HTTP/2.0 request line: 505", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/2.0", "Host: origin.test"));
    const res = await client.response();
    assert.equal(res.startLine, "HTTP/1.1 505 HTTP Version Not Supported");
    assert.match(res.body, /HTTP\/2\.0 is not supported/);
    await client.expectEof();
  });
});

test("an https:// URL in absolute-form goes to port 443 over TLS: refused there -> 502", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(head("GET https://origin.test/ HTTP/1.1", "Host: origin.test"));
    const res = await client.response();
    assert.equal(res.startLine, "HTTP/1.1 502 Bad Gateway");
    assert.match(res.body, /could not connect to origin\.test: connection refused/);
  });
});

test("a URL scheme other than http and https: 501", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(head("GET ftp://origin.test:21/ HTTP/1.1", "Host: origin.test"));
    const res = await client.response();
    assert.equal(res.startLine, "HTTP/1.1 501 Not Implemented");
    assert.match(res.body, /ftp:\/\//);
    await client.expectEof();
  });
});

// ---- requests that are not proxy requests ----

const notAProxy = (url: string) =>
  [
    "This is mitm.ts, an HTTP proxy, not a web server.",
    "",
    "Send requests through it instead of to it, for example:",
    `  curl -x ${url} http://example.com/`,
    `  export HTTP_PROXY=${url} HTTPS_PROXY=${url}`,
    "or set it as the HTTP proxy in your browser or system settings.",
  ].join("\n");

test("origin-form request to the proxy: 400 explaining how to use it", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(head("GET / HTTP/1.1", "Host: 127.0.0.1"));
    assert.equal(h.proxy.url, `http://127.0.0.1:${h.proxy.address.port}`);
    assert.equal(
      await client.readToEof(),
      textResponse("400 Bad Request", notAProxy(h.proxy.url), true),
    );
  });
});

test("absolute-form request addressed to the proxy itself: the same 400, no loop", async () => {
  await withProxy({}, async (h) => {
    const port = h.proxy.address.port;
    for (const host of ["127.0.0.1", "localhost"]) {
      const client = await h.client();
      await client.write(head(`GET http://${host}:${port}/ HTTP/1.1`, `Host: ${host}:${port}`));
      assert.equal(
        await client.readToEof(),
        textResponse("400 Bad Request", notAProxy(h.proxy.url), true),
      );
      client.close();
    }
    await settle();
    assert.equal(h.proxy.connectionCount, 0, "the proxy never connected to itself");
  });
});

// ---- clients that leave ----

test("client leaves while the origin prepares its response: the origin connection is closed", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/slow HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    client.close();
    assert.equal(await oc.conn.read(), null, "the origin sees EOF");
    await settle();
    assert.equal(h.proxy.connectionCount, 0);
  });
});

test("client leaves in the middle of a request body: the origin connection is closed", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(
      head("POST http://origin.test/ HTTP/1.1", "Host: origin.test", "Content-Length: 100") +
        "partial",
    );
    const oc = await origin.accept();
    await oc.readUntil("partial");
    client.close();
    await oc.expectEof();
    await settle();
    assert.equal(h.proxy.connectionCount, 0);
  });
});

// ---- timeouts ----

test("header_timeout: half a head and a stall get 408 and the connection is closed", async () => {
  await withProxy({ header_timeout: 0.2, idle_timeout: 5 }, async (h) => {
    const client = await h.client();
    await client.write("GET http://origin.test/ HTTP/1.1\r\nHost: orig");
    const started = Date.now();
    assert.equal(
      await client.readToEof(),
      textResponse(
        "408 Request Timeout",
        "mitm.ts: request head not complete after 0.2 s; closing the connection.",
        true,
      ),
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 150 && waited < 1500, `408 after ${waited} ms`);
  });
});

test("idle_timeout: an idle keep-alive client is closed", async () => {
  await withProxy({ idle_timeout: 0.2, header_timeout: 5 }, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 2") + "ok");
    assert.equal((await client.response()).body, "ok");
    const started = Date.now();
    await client.expectEof();
    const waited = Date.now() - started;
    assert.ok(waited >= 150 && waited < 1500, `closed after ${waited} ms`);
    await settle();
    assert.equal(h.proxy.connectionCount, 0);
  });
});

test("idle_timeout does not cut a slow response", async () => {
  await withProxy({ idle_timeout: 0.1, header_timeout: 0.1 }, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await sleep(300);
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 4") + "slow");
    assert.equal((await client.response()).body, "slow");
  });
});

test("origin_idle_timeout: an idle pooled origin connection is closed", async () => {
  await withProxy({ origin_idle_timeout: 0.2 }, async (h) => {
    const origin = await h.origin();
    const client = await h.client();
    await client.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 2") + "ok");
    assert.equal((await client.response()).body, "ok");
    const started = Date.now();
    await oc.expectEof();
    const waited = Date.now() - started;
    assert.ok(waited >= 150 && waited < 1500, `closed after ${waited} ms`);
  });
});
