/** CONNECT tunnels and Upgrade (101 Switching Protocols): raw bytes relayed both ways. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { head, type Peer, settle, textResponse, withProxy } from "./helpers.ts";

/** Echoes every chunk back until EOF, then half-closes. */
async function echo(peer: Peer): Promise<void> {
  for (;;) {
    const chunk = await peer.readSome();
    if (chunk === null) break;
    await peer.write(chunk);
  }
  peer.closeWrite();
}

const ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n";

test("CONNECT: 200 Connection Established, then bytes relayed raw both ways", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("secure.test", 443);
    const client = await h.client();
    await client.write(head("CONNECT secure.test:443 HTTP/1.1", "Host: secure.test:443"));
    assert.equal(await client.readExactly(ESTABLISHED.length), ESTABLISHED);
    const oc = await origin.accept();
    const echoing = echo(oc);

    // Bytes that are not HTTP at all pass untouched.
    const binary = "\x16\x03\x01\x00\x05\r\n\r\n\x00\xff";
    await client.write(binary);
    assert.equal(await client.readExactly(binary.length), binary);
    await client.write("GET / HTTP/1.1\r\n\r\n");
    assert.equal(await client.readExactly(18), "GET / HTTP/1.1\r\n\r\n");

    // A FIN is passed on as a FIN, in both directions.
    client.closeWrite();
    await echoing;
    await client.expectEof();
    await settle();
    assert.equal(h.proxy.connectionCount, 0);
  });
});

test("CONNECT: bytes sent right behind the request go into the tunnel", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("secure.test", 8443);
    const client = await h.client();
    await client.write(head("CONNECT secure.test:8443 HTTP/1.1", "Host: secure.test") + "early");
    const oc = await origin.accept();
    assert.equal(await oc.readExactly(5), "early");
    assert.equal(await client.readExactly(ESTABLISHED.length), ESTABLISHED);
    await oc.write("from origin");
    assert.equal(await client.readExactly(11), "from origin");
    oc.closeWrite();
    await client.expectEof();
    client.closeWrite();
    await oc.expectEof();
  });
});

test("CONNECT to a refused port: 502 naming host:port, then EOF", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(head("CONNECT secure.test:444 HTTP/1.1", "Host: secure.test:444"));
    assert.equal(
      await client.readToEof(),
      textResponse(
        "502 Bad Gateway",
        "mitm.ts could not connect to secure.test:444: connection refused. " +
          "Check the host name and that the server is up.",
        true,
      ),
    );
  });
});

test("CONNECT to an unresolvable host: 502 mentioning DNS", async () => {
  await withProxy({}, async (h) => {
    h.network.unresolvable.add("nowhere.test");
    const client = await h.client();
    await client.write(head("CONNECT nowhere.test:443 HTTP/1.1", "Host: nowhere.test:443"));
    const res = await client.response("CONNECT");
    assert.equal(res.status, 502);
    assert.match(res.body, /nowhere\.test:443: DNS lookup failed/);
    await client.expectEof();
  });
});

test("CONNECT without a port: 400", async () => {
  await withProxy({}, async (h) => {
    const client = await h.client();
    await client.write(head("CONNECT secure.test HTTP/1.1", "Host: secure.test"));
    const res = await client.response("CONNECT");
    assert.equal(res.status, 400);
    assert.match(res.body, /host:port/);
    await client.expectEof();
  });
});

test("proxy.close() ends an open CONNECT tunnel", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("secure.test", 443);
    const client = await h.client();
    await client.write(head("CONNECT secure.test:443 HTTP/1.1", "Host: secure.test:443"));
    assert.equal(await client.readExactly(ESTABLISHED.length), ESTABLISHED);
    const oc = await origin.accept();
    await client.write("x");
    assert.equal(await oc.readExactly(1), "x");
    // Neither side says anything more; closing the proxy must not wait for them.
    await h.proxy.close();
    await client.expectEof();
    await oc.expectEof();
  });
});

// ---- Upgrade ----

test("Upgrade: the handshake crosses with Connection: upgrade, then bytes are relayed", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("ws.test", 80);
    const client = await h.client();
    await client.write(head(
      "GET http://ws.test/chat HTTP/1.1",
      "Host: ws.test",
      "Connection: Upgrade",
      "Upgrade: websocket",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Version: 13",
      "Proxy-Connection: keep-alive",
    ));
    const oc = await origin.accept();
    assert.equal(
      (await oc.request()).raw,
      head(
        "GET /chat HTTP/1.1",
        "Host: ws.test",
        "Upgrade: websocket",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        "Connection: upgrade",
      ),
    );
    // The origin's first frame travels in the same write as the 101.
    await oc.write(
      head(
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
      ) + "\x81\x02hi",
    );
    assert.equal(
      await client.readUntil("\r\n\r\n"),
      head(
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "Connection: upgrade",
      ),
    );
    assert.equal(await client.readExactly(4), "\x81\x02hi");
    await client.write("\x81\x85\x00\x00\x00\x00hello");
    assert.equal(await oc.readExactly(11), "\x81\x85\x00\x00\x00\x00hello");

    client.closeWrite();
    await oc.expectEof();
    oc.closeWrite();
    await client.expectEof();
    await settle();
    assert.equal(h.proxy.connectionCount, 0);
  });
});

test("Upgrade refused by the origin (200): an ordinary response, the connection continues", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("ws.test", 80);
    const client = await h.client();
    await client.write(head(
      "GET http://ws.test/ HTTP/1.1",
      "Host: ws.test",
      "Connection: upgrade",
      "Upgrade: websocket",
    ));
    const oc = await origin.accept();
    await oc.request();
    await oc.write(head("HTTP/1.1 200 OK", "Content-Length: 2") + "no");
    assert.equal(
      (await client.response()).raw,
      head("HTTP/1.1 200 OK", "Content-Length: 2") + "no",
    );
    await client.write(head("GET http://ws.test/2 HTTP/1.1", "Host: ws.test"));
    assert.equal((await oc.request()).raw, head("GET /2 HTTP/1.1", "Host: ws.test"));
  });
});

test("Upgrade listed in Connection without an Upgrade field is dropped like any hop-by-hop", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin("ws.test", 80);
    const client = await h.client();
    await client.write(
      head("GET http://ws.test/ HTTP/1.1", "Host: ws.test", "Connection: upgrade"),
    );
    const oc = await origin.accept();
    assert.equal((await oc.request()).raw, head("GET / HTTP/1.1", "Host: ws.test"));
    await oc.write(head("HTTP/1.1 204 No Content"));
    assert.equal((await client.response()).status, 204);
  });
});

test("plain HTTP in a tunnel: proxied unless --allow-hosts/--ignore-hosts exclude the host", async () => {
  const cases: Array<[Record<string, string[]>, boolean]> = [
    [{}, true],
    [{ allow_hosts: ["^good\\.test"] }, false],
    [{ ignore_hosts: ["^plain\\.test"] }, false],
  ];
  for (const [options, proxied] of cases) {
    await withProxy(options, async (h) => {
      const origin = await h.origin("plain.test", 80);
      const client = await h.client();
      await client.write(head("CONNECT plain.test:80 HTTP/1.1", "Host: plain.test:80"));
      assert.equal(await client.readExactly(ESTABLISHED.length), ESTABLISHED);
      await client.write(
        head("GET / HTTP/1.1", "Host: plain.test", "Proxy-Connection: keep-alive"),
      );
      const oc = await origin.accept();
      const req = await oc.request();
      // The proxy drops the hop-by-hop Proxy-Connection; an untouched relay keeps it.
      assert.equal(/Proxy-Connection/.test(req.head), !proxied, JSON.stringify(options));
      await oc.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      assert.equal((await client.response()).status, 200);
      client.close();
    });
  }
});
