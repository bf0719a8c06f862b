/**
 * HTTPS interception end to end on the in-memory network (no sockets): a client CONNECTs through
 * the proxy and runs TLS over its MemoryConn trusting the proxy's test CA; the proxy terminates
 * that TLS with a leaf from its CA and opens its own TLS connection to an in-memory https origin
 * whose certificate comes from a second CA. node:tls runs over the MemoryConns through the
 * runtime's stream adapter (src/runtime/shared/conn_duplex.ts, under node/tls.ts) on Deno and Bun
 * alike.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { CertificateAuthority, type Leaf } from "../../src/ca/mod.ts";
import { x509 } from "../../src/ca/x509.ts";
import { connectTls, startTlsServer, type TlsClientSession } from "../../src/runtime/mod.ts";
import type { Conn, Listener } from "../../src/runtime/types.ts";
import { tempDir } from "../fixtures/temp_dir.ts";
import { testCa } from "../fixtures/ca.ts";
import { type Harness, head, type Message, Peer, WAIT_MS, withProxy } from "./helpers.ts";

const ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n";

interface OriginPki {
  ca: CertificateAuthority;
  /** A file holding the origin CA's certificate, for ssl_verify_upstream_trusted_ca. */
  caFile: string;
  leaf: Leaf;
}

let pki: Promise<OriginPki> | null = null;
/** The origin's CA (not the proxy's) and its leaf for origin.test, made once. */
function originPki(): Promise<OriginPki> {
  return pki ??= (async () => {
    const { ca } = await CertificateAuthority.create();
    const leaf = await ca.issue(["origin.test"]);
    const caFile = path.join(tempDir("mitm-origin-ca-").dir, "origin-ca.pem");
    fs.writeFileSync(caFile, ca.certPem);
    return { ca, caFile, leaf };
  })();
}

/** An https origin on the in-memory network: TLS with `leaf`, then one response per request. */
class TlsOrigin {
  /** Requests received, in order. */
  readonly requests: Message[] = [];
  /** Handshake failures, as the server saw them. */
  readonly failures: string[] = [];
  readonly #conns: Conn[] = [];
  #listener!: Listener;

  static async start(h: Harness, leaf: Leaf, host = "origin.test", port = 443) {
    const o = new TlsOrigin();
    o.#listener = await h.network.listen({ host, port }, (conn) => void o.#serve(conn, leaf));
    return o;
  }

  async #serve(conn: Conn, leaf: Leaf): Promise<void> {
    this.#conns.push(conn);
    let peer: Peer;
    try {
      const session = await startTlsServer(conn, new Uint8Array(0), {
        identity: leaf,
        alpn: ["http/1.1"],
        timeoutMs: WAIT_MS,
      });
      this.#conns.push(session.conn);
      peer = new Peer(session.conn, "tls origin");
    } catch (e) {
      this.failures.push((e as Error).message);
      return;
    }
    try {
      for (;;) {
        const req = await peer.readRequest(10 * WAIT_MS);
        if (req === null) break;
        this.requests.push(req);
        const body = `hello from origin.test: ${req.startLine.split(" ")[1]}`;
        await peer.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      }
    } catch {
      // The proxy went away; the test looks at what was received.
    }
    peer.close();
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.close();
    await this.#listener.close();
  }
}

/** CONNECTs `authority` through the proxy, then runs TLS over the tunnel. */
async function tlsThroughProxy(
  h: Harness,
  options: { servername?: string | null; trust: string[]; verify?: boolean },
  authority = "origin.test:443",
): Promise<{ tls: TlsClientSession; peer: Peer }> {
  const client = await h.client();
  await client.write(head(`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`));
  assert.equal(await client.readExactly(ESTABLISHED.length), ESTABLISHED);
  assert.equal(client.buffered, "");
  const tls = await connectTls({
    transport: client.conn,
    // With servername null, node:tls sends `host` as SNI unless it is an IP address.
    host: authority.slice(0, authority.lastIndexOf(":")),
    servername: options.servername === undefined ? "origin.test" : options.servername,
    alpn: ["http/1.1"],
    verify: options.verify ?? true,
    extraCa: options.trust,
    timeoutMs: WAIT_MS,
  });
  return { tls, peer: new Peer(tls.conn, "tls client") };
}

async function proxyCaPem(): Promise<string> {
  return (await testCa()).ca.certPem;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** True when `certDer` carries a signature by the CA whose certificate is `caPem`. */
function signedBy(certDer: Uint8Array, caPem: string): Promise<boolean> {
  const cert = new x509.X509Certificate(new Uint8Array(certDer));
  return cert.verify({ publicKey: new x509.X509Certificate(caPem).publicKey, signatureOnly: true });
}

test("intercepted HTTPS: the client trusts the proxy CA, the proxy trusts the origin CA file", async () => {
  const { caFile, leaf } = await originPki();
  await withProxy({ ssl_verify_upstream_trusted_ca: caFile }, async (h) => {
    const origin = await TlsOrigin.start(h, leaf);
    try {
      const { tls, peer } = await tlsThroughProxy(h, { trust: [await proxyCaPem()] });
      // The client got a leaf from the proxy's CA for origin.test, not the origin's certificate.
      assert.equal(tls.verifyError, null);
      assert.equal(tls.alpn, "http/1.1");
      assert.equal(tls.certificate?.commonName, "origin.test");
      assert.deepEqual(tls.certificate?.altNames, ["origin.test"]);
      assert.equal(await signedBy(tls.certificate!.der, await proxyCaPem()), true);
      assert.equal(await signedBy(tls.certificate!.der, (await originPki()).ca.certPem), false);

      await peer.write(head("GET /first?x=1 HTTP/1.1", "Host: origin.test", "Accept: */*"));
      const res = await peer.response();
      assert.equal(res.status, 200);
      assert.equal(res.body, "hello from origin.test: /first?x=1");
      // Same TLS connection, second request.
      await peer.write(head("GET /second HTTP/1.1", "Host: origin.test"));
      assert.equal((await peer.response()).body, "hello from origin.test: /second");

      assert.deepEqual(origin.requests.map((r) => r.startLine), [
        "GET /first?x=1 HTTP/1.1",
        "GET /second HTTP/1.1",
      ]);
      assert.ok(/\r\nhost: origin\.test\r\n/i.test(origin.requests[0].head));
      assert.deepEqual(origin.failures, []);
      assert.equal(h.proxy.ca.leaves.issued, 1);
      peer.close();
    } finally {
      await origin.close();
    }
  });
});

test("origin certificate not trusted: the first request gets 502 saying certificate verify failed", async () => {
  const { leaf } = await originPki();
  await withProxy({}, async (h) => {
    const origin = await TlsOrigin.start(h, leaf);
    try {
      // The client's own handshake (with the proxy) still succeeds.
      const { tls, peer } = await tlsThroughProxy(h, { trust: [await proxyCaPem()] });
      assert.equal(tls.verifyError, null);
      await peer.write(head("GET / HTTP/1.1", "Host: origin.test"));
      const res = await peer.response();
      assert.equal(res.status, 502);
      assert.match(res.body, /certificate verify failed/);
      assert.match(res.body, /origin\.test/);
      assert.match(res.body, /ssl_verify_upstream_trusted_ca|--ssl-insecure/);
      // Nothing reached the origin.
      assert.deepEqual(origin.requests, []);
      peer.close();
    } finally {
      await origin.close();
    }
  });
});

test("origin certificate not trusted but ssl_insecure: the request goes through", async () => {
  const { leaf } = await originPki();
  await withProxy({ ssl_insecure: true }, async (h) => {
    const origin = await TlsOrigin.start(h, leaf);
    try {
      const { peer } = await tlsThroughProxy(h, { trust: [await proxyCaPem()] });
      await peer.write(head("GET /insecure HTTP/1.1", "Host: origin.test"));
      const res = await peer.response();
      assert.equal(res.status, 200);
      assert.equal(res.body, "hello from origin.test: /insecure");
      assert.equal(origin.requests.length, 1);
      peer.close();
    } finally {
      await origin.close();
    }
  });
});

test("origin certificate for another name, CA trusted: 502 naming the host name mismatch", async () => {
  const { ca, caFile } = await originPki();
  const wrong = await ca.issue(["elsewhere.test"]);
  await withProxy({ ssl_verify_upstream_trusted_ca: caFile }, async (h) => {
    const origin = await TlsOrigin.start(h, wrong);
    try {
      const { peer } = await tlsThroughProxy(h, { trust: [await proxyCaPem()] });
      await peer.write(head("GET / HTTP/1.1", "Host: origin.test"));
      const res = await peer.response();
      assert.equal(res.status, 502);
      assert.match(res.body, /certificate verify failed: certificate does not match the host name/);
      assert.deepEqual(origin.requests, []);
      peer.close();
    } finally {
      await origin.close();
    }
  });
});

test("client without SNI: the proxy's leaf names the CONNECT host", async () => {
  const { caFile, leaf } = await originPki();
  await withProxy({ ssl_verify_upstream_trusted_ca: caFile }, async (h) => {
    const origin = await TlsOrigin.start(h, leaf);
    try {
      // Not verified by connectTls: without a servername it checks the name against
      // "localhost" on both runtimes (see the skipped IP-address test below); checked here.
      const { tls, peer } = await tlsThroughProxy(h, {
        servername: null,
        trust: [await proxyCaPem()],
        verify: false,
      });
      assert.equal(tls.certificate?.commonName, "origin.test");
      assert.deepEqual(tls.certificate?.altNames, ["origin.test"]);
      assert.equal(await signedBy(tls.certificate!.der, await proxyCaPem()), true);
      await peer.write(head("GET /nosni HTTP/1.1", "Host: origin.test"));
      assert.equal((await peer.response()).body, "hello from origin.test: /nosni");
      peer.close();
    } finally {
      await origin.close();
    }
  });
});

test("ignore_hosts matching: TLS passes through untouched, the client sees the origin's certificate", async () => {
  const { ca, caFile, leaf } = await originPki();
  for (const ignore of ["^origin\\.test:443$", "origin"]) {
    await withProxy(
      { ssl_verify_upstream_trusted_ca: caFile, ignore_hosts: [ignore] },
      async (h) => {
        const origin = await TlsOrigin.start(h, leaf);
        try {
          const { tls, peer } = await tlsThroughProxy(h, { trust: [ca.certPem] });
          assert.equal(tls.verifyError, null);
          assert.equal(sameBytes(tls.certificate!.der, leaf.certDer), true);
          await peer.write(head("GET /passthrough HTTP/1.1", "Host: origin.test"));
          assert.equal((await peer.response()).body, "hello from origin.test: /passthrough");
          assert.equal(h.proxy.ca.leaves.issued, 0);
          peer.close();
        } finally {
          await origin.close();
        }
      },
    );
  }
});

test("allow_hosts: an SNI that does not match passes through; one that matches is intercepted", async () => {
  const { ca, caFile, leaf } = await originPki();
  // CONNECT to an address that says nothing; the SNI decides.
  await withProxy(
    { ssl_verify_upstream_trusted_ca: caFile, allow_hosts: ["^intercept-me"] },
    async (h) => {
      const origin = await TlsOrigin.start(h, leaf, "10.0.0.7", 443);
      try {
        const { tls, peer } = await tlsThroughProxy(h, { trust: [ca.certPem] }, "10.0.0.7:443");
        assert.equal(sameBytes(tls.certificate!.der, leaf.certDer), true);
        await peer.write(head("GET /not-allowed HTTP/1.1", "Host: origin.test"));
        assert.equal((await peer.response()).body, "hello from origin.test: /not-allowed");
        assert.equal(h.proxy.ca.leaves.issued, 0);
        peer.close();
      } finally {
        await origin.close();
      }
    },
  );
  await withProxy(
    { ssl_verify_upstream_trusted_ca: caFile, allow_hosts: ["^origin\\.test"] },
    async (h) => {
      const origin = await TlsOrigin.start(h, leaf, "10.0.0.7", 443);
      try {
        const { tls, peer } = await tlsThroughProxy(
          h,
          { trust: [await proxyCaPem()] },
          "10.0.0.7:443",
        );
        assert.equal(await signedBy(tls.certificate!.der, await proxyCaPem()), true);
        await peer.write(head("GET /allowed HTTP/1.1", "Host: origin.test"));
        assert.equal((await peer.response()).body, "hello from origin.test: /allowed");
        assert.equal(h.proxy.ca.leaves.issued, 1);
        peer.close();
      } finally {
        await origin.close();
      }
    },
  );
});

test("an origin addressed by IP (no SNI) whose certificate names that IP passes verification", {
  timeout: 20_000,
}, async () => {
  const { ca, caFile } = await originPki();
  const ipLeaf = await ca.issue(["10.0.0.9"]);
  await withProxy({ ssl_verify_upstream_trusted_ca: caFile }, async (h) => {
    const origin = await TlsOrigin.start(h, ipLeaf, "10.0.0.9", 443);
    try {
      const { peer } = await tlsThroughProxy(
        h,
        { servername: null, trust: [await proxyCaPem()], verify: false },
        "10.0.0.9:443",
      );
      await peer.write(head("GET /by-ip HTTP/1.1", "Host: 10.0.0.9"));
      const res = await peer.response();
      assert.equal(res.body, "hello from origin.test: /by-ip");
      assert.equal(res.status, 200);
      peer.close();
    } finally {
      await origin.close();
    }
  });
});
