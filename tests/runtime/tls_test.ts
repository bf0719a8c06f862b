/**
 * startTlsServer and connectTls over the runtime's own sockets (on Bun: Bun's TLS engine upgrading
 * the socket in place; on Deno: node:tls over a stream adapter), against node:tls peers on
 * loopback: a ClientHello read partly before the handshake (the rest still in flight, or already
 * queued), a stalled and an abandoned handshake, closing through the accepted connection, and
 * origin verification reported in words.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { type Conn, connectTls, NetError, network, startTlsServer } from "../../src/runtime/mod.ts";
import { makeOriginCert, type OriginCert, tempDir } from "../e2e/https_helpers.ts";

const tmp = tempDir("mitm-tls-");
let cert: OriginCert;
before(async () => {
  cert = await makeOriginCert(tmp.dir, ["localhost"]);
});
after(() => tmp.remove());

/** A listener on the runtime's network that hands out accepted Conns in order. */
async function acceptor() {
  const accepted: Conn[] = [];
  const waiters: ((c: Conn) => void)[] = [];
  const listener = await network.listen({ host: "127.0.0.1", port: 0 }, (conn) => {
    const waiter = waiters.shift();
    if (waiter) waiter(conn);
    else accepted.push(conn);
  });
  return {
    port: listener.address.port,
    next: () =>
      accepted.length > 0
        ? Promise.resolve(accepted.shift()!)
        : new Promise<Conn>((r) => waiters.push(r)),
    close: () => listener.close(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A node:tls client whose first flight is sent as two TCP writes 50 ms apart (the first 5 bytes,
 * then the rest), so that the server can read the ClientHello in parts.
 */
async function splitHelloClient(port: number): Promise<tls.TLSSocket> {
  const raw = net.connect(port, "127.0.0.1");
  raw.setNoDelay(true);
  await new Promise<void>((r) => raw.once("connect", () => r()));
  let first = true;
  const wrapper = new Duplex({
    write(chunk: Uint8Array, _enc, done) {
      if (!first) return raw.write(chunk, () => done());
      first = false;
      raw.write(chunk.subarray(0, 5));
      setTimeout(() => raw.write(chunk.subarray(5), () => done()), 50);
    },
    read() {},
    final(done) {
      raw.end();
      done();
    },
  });
  raw.on("data", (d) => wrapper.push(d));
  raw.on("end", () => wrapper.push(null));
  raw.on("close", () => wrapper.destroy());
  const client = tls.connect({
    socket: wrapper as never,
    servername: "localhost",
    ca: cert.caPem,
    ALPNProtocols: ["http/1.1"],
  });
  client.on("error", () => {});
  client.once("close", () => raw.destroy());
  return client;
}

for (const when of ["still in flight", "already queued"] as const) {
  test(`a server handshake completes when the ClientHello's rest is ${when}`, async () => {
    const server = await acceptor();
    try {
      const client = await splitHelloClient(server.port);
      const conn = await server.next();
      if (when === "already queued") await sleep(200); // both parts arrived before the read
      const first = await conn.read();
      assert.ok(first !== null);
      const session = await startTlsServer(conn, first, {
        identity: { certPem: cert.certPem, keyPem: cert.keyPem },
        alpn: ["http/1.1", "http/1.0"],
        timeoutMs: 5000,
      });
      assert.equal(session.alpn, "http/1.1");
      assert.match(session.version ?? "", /^TLSv1\.[23]$/);
      // The session's ends are the TCP connection's (the client's port, our listening port).
      assert.deepEqual(session.conn.remote, conn.remote);
      assert.deepEqual(session.conn.local, { host: "127.0.0.1", port: server.port });
      assert.equal(session.conn.remote.host, "127.0.0.1");
      assert.ok(session.conn.remote.port > 0 && session.conn.remote.port !== server.port);
      client.write("ping");
      assert.equal(await readText(session.conn, "ping"), "ping");
      await session.conn.write(new TextEncoder().encode("pong"));
      const reply = await new Promise<string>((r) => client.once("data", (d) => r(String(d))));
      assert.equal(reply, "pong");
      // The client leaves: the session reads the end (a half-closed peer, like TCP), then closes.
      client.destroy();
      assert.equal(await session.conn.read(), null);
      session.conn.close();
      await session.conn.closed;
    } finally {
      await server.close();
    }
  });
}

test("a stalled handshake is given up after timeoutMs and the connection closed", async () => {
  const server = await acceptor();
  try {
    const raw = net.connect(server.port, "127.0.0.1");
    const clientClosed = new Promise<void>((r) => raw.once("close", () => r()));
    raw.on("error", () => {});
    raw.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00])); // a record header, then nothing
    const conn = await server.next();
    const first = await conn.read();
    const started = Date.now();
    await assert.rejects(
      startTlsServer(conn, first!, {
        identity: { certPem: cert.certPem, keyPem: cert.keyPem },
        alpn: ["http/1.1"],
        timeoutMs: 300,
      }),
      (e: unknown) => e instanceof NetError && e.code === "timeout",
    );
    assert.ok(Date.now() - started < 3000, "gave up promptly");
    await clientClosed;
  } finally {
    await server.close();
  }
});

test("a client leaving mid-handshake rejects the handshake instead of leaving it pending", async () => {
  const server = await acceptor();
  try {
    const raw = net.connect(server.port, "127.0.0.1");
    raw.on("error", () => {});
    raw.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00]));
    const conn = await server.next();
    const first = await conn.read();
    const handshake = startTlsServer(conn, first!, {
      identity: { certPem: cert.certPem, keyPem: cert.keyPem },
      alpn: ["http/1.1"],
      timeoutMs: 30_000,
    });
    await sleep(50);
    raw.destroy();
    await assert.rejects(handshake, (e: unknown) => e instanceof NetError);
  } finally {
    await server.close();
  }
});

test("closing the accepted connection also closes the TLS session on it", async () => {
  const server = await acceptor();
  try {
    const client = await splitHelloClient(server.port);
    const clientClosed = new Promise<void>((r) => client.once("close", () => r()));
    const conn = await server.next();
    const session = await startTlsServer(conn, (await conn.read())!, {
      identity: { certPem: cert.certPem, keyPem: cert.keyPem },
      alpn: ["http/1.1"],
      timeoutMs: 5000,
    });
    conn.close(); // what the proxy does to every client connection when it shuts down
    await session.conn.closed;
    await clientClosed;
  } finally {
    await server.close();
  }
});

/** A node:tls origin with `cert` that answers "pong" to anything. */
async function tlsOrigin() {
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on("error", () => {});
    s.on("data", () => s.write("pong"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test("connectTls reports a certificate for another name in words, and enforces it when asked", async () => {
  const origin = await tlsOrigin();
  try {
    const options = (verify: boolean, extraCa?: string[]) =>
      network.connect({ host: "127.0.0.1", port: origin.port }).then((transport) =>
        connectTls({
          transport,
          host: "other.test",
          servername: "other.test",
          alpn: ["http/1.1"],
          verify,
          extraCa,
          timeoutMs: 5000,
        })
      );
    // Trusted chain, wrong name: reported, and the session still works when not enforced.
    const session = await options(false, [cert.caPem]);
    assert.equal(session.verifyError, "certificate does not match the host name");
    assert.deepEqual(session.certificate?.altNames, ["localhost"]);
    await session.conn.write(new TextEncoder().encode("ping"));
    assert.equal(await readText(session.conn, "pong"), "pong");
    session.conn.close();
    await assert.rejects(
      options(true, [cert.caPem]),
      (e: unknown) =>
        e instanceof NetError && e.code === "tls-verify" &&
        e.message === "certificate verify failed: certificate does not match the host name",
    );
    // Untrusted chain: the chain's problem comes first.
    const untrusted = await options(false);
    assert.ok(untrusted.verifyError !== null);
    assert.doesNotMatch(untrusted.verifyError!, /host name/);
    untrusted.conn.close();
  } finally {
    await origin.close();
  }
});

async function readText(conn: Conn, until: string): Promise<string> {
  let text = "";
  while (!text.includes(until)) {
    const chunk = await conn.read();
    if (chunk === null) break;
    text += new TextDecoder().decode(chunk);
  }
  return text;
}

test("a TLS session whose reader stops holds back the peer instead of buffering what it sends", {
  timeout: 30_000,
}, async () => {
  const server = await acceptor();
  try {
    const client = tls.connect({
      host: "127.0.0.1",
      port: server.port,
      servername: "localhost",
      ca: cert.caPem,
    });
    client.on("error", () => {});
    const connected = new Promise<void>((r) => client.once("secureConnect", () => r()));
    const conn = await server.next();
    const session = await startTlsServer(conn, (await conn.read())!, {
      identity: { certPem: cert.certPem, keyPem: cert.keyPem },
      alpn: ["http/1.1"],
      timeoutMs: 5000,
    });
    await connected;
    // The client offers 128 MiB at once; the server reads nothing for a second.
    const total = 128 * 1024 * 1024;
    const piece = new Uint8Array(1024 * 1024);
    for (let i = 0; i < total / piece.length; i++) client.write(piece);
    await sleep(1000);
    // What left the client's buffers went to the kernel and the proxy side: with backpressure
    // that is socket buffers plus the bounded queues, far from all of it.
    const taken = total - client.writableLength;
    assert.ok(taken < 48 * 1024 * 1024, `the server side took ${taken} bytes without reading`);
    // Reading then gets every byte.
    let received = 0;
    while (received < total) {
      const chunk = await session.conn.read();
      assert.ok(chunk !== null, `ended after ${received} bytes`);
      received += chunk.length;
    }
    assert.equal(received, total);
    client.destroy();
    session.conn.close();
  } finally {
    await server.close();
  }
});

test("an origin that speaks none of the offered ALPN protocols: no_application_protocol, by name", async () => {
  // An h2-only node:http2 origin answers an http/1.1-only offer with that fatal alert (RFC 7301
  // section 3.2); each runtime's TLS words it its own way, the proxy core looks for the RFC name.
  const origin = http2.createSecureServer({
    cert: cert.certPem,
    key: cert.keyPem,
    allowHTTP1: false,
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const port = (origin.address() as net.AddressInfo).port;
  try {
    const dial = () => network.connect({ host: "127.0.0.1", port });
    const common = { host: "localhost", servername: "localhost", verify: false, timeoutMs: 5000 };
    await assert.rejects(
      connectTls({ ...common, transport: await dial(), alpn: ["http/1.1"] }),
      (e: unknown) => {
        assert.ok(e instanceof NetError);
        assert.equal(e.code, "tls");
        assert.match(e.message, /^TLS handshake failed: alert no_application_protocol \(/);
        return true;
      },
    );
    // Offering h2 too, it agrees.
    const session = await connectTls({
      ...common,
      transport: await dial(),
      alpn: ["http/1.1", "h2"],
    });
    assert.equal(session.alpn, "h2");
    session.conn.close();
  } finally {
    await new Promise<void>((r) => origin.close(() => r()));
  }
});
