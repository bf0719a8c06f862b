/** startProxy and close(): addresses, connection counting, and shutting down with work in flight. */
import { testCa } from "../fixtures/ca.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { MemoryNetwork } from "../fakes/memory_network.ts";
import { startProxy } from "../../src/proxy/server.ts";
import { head, settle, WAIT_MS, within, withProxy } from "./helpers.ts";

test("startProxy reports the bound address and URL", async () => {
  const network = new MemoryNetwork();
  const proxy = await startProxy({ listen_host: "127.0.0.1", listen_port: 8080 }, {
    network,
    ca: await testCa(),
  });
  try {
    assert.deepEqual(proxy.address, { host: "127.0.0.1", port: 8080 });
    assert.equal(proxy.url, "http://127.0.0.1:8080");
    assert.equal(proxy.options.listen_port, 8080);
    assert.equal(proxy.connectionCount, 0);
  } finally {
    await proxy.close();
  }
});

test("startProxy refuses unknown or out-of-range options", async () => {
  const network = new MemoryNetwork();
  await assert.rejects(
    startProxy({ idle_timeout: 0 }, { network }),
    /idle_timeout must be at least/,
  );
  await assert.rejects(
    startProxy({ nope: 1 } as unknown as Record<string, never>, { network }),
    /unknown option "nope"/,
  );
});

test("connectionCount follows client connections", async () => {
  await withProxy({}, async (h) => {
    const a = await h.client();
    const b = await h.client();
    await settle();
    assert.equal(h.proxy.connectionCount, 2);
    a.close();
    await settle();
    assert.equal(h.proxy.connectionCount, 1);
    b.closeWrite(); // a clean EOF between requests ends the session too
    await b.expectEof();
    await settle();
    assert.equal(h.proxy.connectionCount, 0);
  });
});

test("close() ends idle clients, pooled origin connections and waiting exchanges", async () => {
  await withProxy({}, async (h) => {
    const origin = await h.origin();
    // An idle keep-alive client whose origin connection sits in the pool.
    const idle = await h.client();
    await idle.write(head("GET http://origin.test/ HTTP/1.1", "Host: origin.test"));
    const pooled = await origin.accept();
    await pooled.request();
    await pooled.write(head("HTTP/1.1 200 OK", "Content-Length: 0"));
    assert.equal((await idle.response()).status, 200);
    // A client whose request the origin has not answered yet.
    const slowOrigin = await h.origin("slow.test");
    const waiting = await h.client();
    await waiting.write(head("GET http://slow.test/ HTTP/1.1", "Host: slow.test"));
    const slow = await slowOrigin.accept();
    await slow.request();
    // A client in the middle of sending a head.
    const partial = await h.client();
    await partial.write("GET http://origin.test/ HTTP/1.1\r\n");
    await settle();
    assert.equal(h.proxy.connectionCount, 3);

    await within(h.proxy.close(), WAIT_MS, "proxy.close()");
    assert.equal(h.proxy.connectionCount, 0);
    for (const peer of [idle, waiting, partial, pooled, slow]) await peer.expectEof();
    // The listener is gone.
    await assert.rejects(
      h.network.connect({ host: h.proxy.address.host, port: h.proxy.address.port }),
      /connection refused/,
    );
    await h.proxy.close(); // idempotent
  });
});

test("close() ends an upgraded connection even when both sides are silent", async () => {
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
    await oc.write(
      head("HTTP/1.1 101 Switching Protocols", "Connection: upgrade", "Upgrade: websocket"),
    );
    assert.equal((await client.response()).status, 101);
    await within(h.proxy.close(), WAIT_MS, "proxy.close()");
    await client.expectEof();
    await oc.expectEof();
  });
});
