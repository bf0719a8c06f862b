/**
 * What else travels through CONNECT tunnels: plain HTTP (proxied like any request), other
 * protocols (relayed raw, whoever speaks first), and TLS key logging for the intercepted sessions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import https from "node:https";
import type net from "node:net";
import tls from "node:tls";
import { join } from "node:path";
import process from "node:process";
import { startProxy } from "../../mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { testCa } from "../fixtures/ca.ts";
import { rawServer, readUntil, run, startProxyProcess } from "./helpers.ts";
import {
  connectThrough,
  curlVia,
  eventually,
  httpOrigin,
  httpsOrigin,
  makeOriginCert,
  type OriginCert,
  tempDir,
  withProxy,
} from "./https_helpers.ts";

test("plain HTTP inside a CONNECT tunnel is proxied", { timeout: 60_000 }, async () => {
  const origin = await httpOrigin();
  try {
    await withProxy({}, async (proxy) => {
      // curl -p: CONNECT first, then plain HTTP/1.1 through the tunnel.
      const r = await curlVia(proxy.url, [
        "-v",
        "-p",
        `http://127.0.0.1:${origin.port}/via-curl`,
        `http://127.0.0.1:${origin.port}/again`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "plain origin: GET /via-curlplain origin: GET /again");
      assert.equal(r.stderr.match(/> CONNECT /g)?.length, 1, r.stderr);

      // By hand: two requests on one tunnel, the second closing it.
      const s = await connectThrough(proxy.address.port, `127.0.0.1:${origin.port}`);
      try {
        s.write(`GET /raw1 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
        const first = await readUntil(s, (b) => b.includes("plain origin: GET /raw1"));
        assert.match(first.toString(), /^HTTP\/1\.1 200 OK\r\n/);
        s.write(
          `GET /raw2 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: close\r\n\r\n`,
        );
        const second = await readUntil(s, () => false);
        assert.match(second.toString(), /^HTTP\/1\.1 200 OK\r\n[\s\S]*plain origin: GET \/raw2$/);
      } finally {
        s.destroy();
      }
    });
  } finally {
    await origin.close();
  }
});

test("a protocol that is neither HTTP nor TLS is relayed raw, whoever speaks first", {
  timeout: 60_000,
}, async () => {
  // An echo server, and one that greets first (like SMTP) and then echoes.
  const echo = await rawServer((s) => s.on("data", (d) => s.write(d)));
  const greeter = await rawServer((s) => {
    s.write("220 greeter.test ready\r\n");
    s.on("data", (d) => s.write(d));
  });
  try {
    await withProxy({}, async (proxy) => {
      const s = await connectThrough(proxy.address.port, `127.0.0.1:${echo.port}`);
      try {
        const bytes = Buffer.from([0x00, 0x01, 0x02, 0xff, ...Buffer.from("binary\r\n\r\n")]);
        s.write(bytes);
        const back = await readUntil(s, (b) => b.length >= bytes.length);
        assert.deepEqual([...back], [...bytes]);
        s.write("lower-case words are not a request line\r\n");
        const more = await readUntil(s, (b) => b.includes("line\r\n"));
        assert.equal(more.toString(), "lower-case words are not a request line\r\n");
      } finally {
        s.destroy();
      }

      const g = await connectThrough(proxy.address.port, `127.0.0.1:${greeter.port}`);
      try {
        // The client says nothing: after a moment the proxy relays the server's greeting.
        const banner = await readUntil(g, (b) => b.includes("\r\n"));
        assert.equal(banner.toString(), "220 greeter.test ready\r\n");
        g.write("EHLO client.test\r\n");
        const reply = await readUntil(g, (b) => b.includes("\r\n"));
        assert.equal(reply.toString(), "EHLO client.test\r\n");
      } finally {
        g.destroy();
      }
    });
  } finally {
    await echo.close();
    await greeter.close();
  }
});

/** An https origin whose "Upgrade: echo" requests switch to echoing bytes back. */
async function upgradeOrigin(cert: OriginCert) {
  const sockets: net.Socket[] = [];
  let finReceived = 0;
  let closeOnFin = true;
  const server = https.createServer({
    cert: cert.certPem,
    key: cert.keyPem,
    allowHalfOpen: true,
  }, (_req, res) => {
    res.end("not an upgrade");
  });
  server.on("upgrade", (_req, socket: net.Socket) => {
    sockets.push(socket);
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n",
    );
    socket.on("data", (d) => socket.write(d));
    // The client's FIN, passed on by the proxy: close too, or stay half-open (keep sending).
    socket.on("end", () => {
      finReceived++;
      if (closeOnFin) socket.end();
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    finReceived: () => finReceived,
    stayHalfOpen: () => (closeOnFin = false),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** CONNECT, TLS trusting the test CA, then "Upgrade: echo"; resolves once "101" arrived. */
async function upgradedSession(proxyPort: number, originPort: number) {
  const ca = await testCa();
  const raw = await connectThrough(proxyPort, `localhost:${originPort}`);
  const socket = tls.connect({ socket: raw, servername: "localhost", ca: ca.ca.certPem });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  socket.write(
    "GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n",
  );
  const head = await readUntil(socket as never, (b) => b.includes("\r\n\r\n"));
  assert.match(head.toString(), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  return { raw, socket };
}

test(
  "an upgraded connection inside an intercepted tunnel relays both ways and ends with the client",
  {
    timeout: 60_000,
  },
  async () => {
    const tmp = tempDir();
    const cert = await makeOriginCert(tmp.dir, ["localhost"]);
    const origin = await upgradeOrigin(cert);
    try {
      await withProxy({ ssl_verify_upstream_trusted_ca: cert.caFile }, async (proxy) => {
        const { raw, socket } = await upgradedSession(proxy.address.port, origin.port);
        socket.write("ping through TLS");
        const echo = await readUntil(socket as never, (b) => b.includes("ping through TLS"));
        assert.equal(echo.toString(), "ping through TLS");
        // The client goes away: the proxy passes its FIN on and, once the origin has closed
        // too, forgets the connection.
        socket.destroy();
        raw.destroy();
        assert.ok(await eventually(() => origin.finReceived() === 1), "the origin got the FIN");
        assert.ok(
          await eventually(() => proxy.connectionCount === 0),
          `${proxy.connectionCount} connection(s) still open`,
        );
        assert.ok(await eventually(() => origin.sockets.every((s) => s.destroyed)));
      });

      // A proxy shutting down ends upgraded sessions that are still open, and does not hang, even
      // with an origin that stays half-open after the FIN it is sent.
      origin.stayHalfOpen();
      const proxy = await startProxy(
        { listen_port: 0, ssl_verify_upstream_trusted_ca: cert.caFile },
        { ca: await testCa() },
      );
      const { raw, socket } = await upgradedSession(proxy.address.port, origin.port);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const closed = await Promise.race([
          proxy.close().then(() => "closed"),
          new Promise((r) => (timer = setTimeout(() => r("still open after 10 s"), 10_000))),
        ]);
        assert.equal(closed, "closed");
      } finally {
        clearTimeout(timer);
        socket.destroy();
        raw.destroy();
      }
    } finally {
      await origin.close();
      tmp.remove();
    }
  },
);

const noKeylog = runtime.name === "deno"
  ? "Deno's node:tls emits no 'keylog' events, so the proxy cannot log TLS secrets there (it warns instead; see the next test)"
  : false;
if (noKeylog) console.log(`skipping the key-log file test: ${noKeylog}`);

/** The client randoms of the CLIENT_TRAFFIC_SECRET_0 lines in an NSS key-log file. */
function trafficSecretRandoms(file: string): Set<string> {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  return new Set(
    [...text.matchAll(/^CLIENT_TRAFFIC_SECRET_0 ([0-9a-f]{64}) [0-9a-f]+$/gm)].map((m) => m[1]),
  );
}

test(
  "keylog_file and SSLKEYLOGFILE get NSS key-log lines for both sides of an intercepted session",
  {
    timeout: 90_000,
    skip: noKeylog,
  },
  async () => {
    const tmp = tempDir();
    const cert = await makeOriginCert(tmp.dir, ["localhost"]);
    const origin = await httpsOrigin(cert);
    const ca = await testCa();
    const trust = ["--set", `ssl_verify_upstream_trusted_ca=${cert.caFile}`];
    try {
      for (const how of ["--set", "SSLKEYLOGFILE"]) {
        const proxyFile = join(tmp.dir, `proxy-${how}.keys`);
        const curlFile = join(tmp.dir, `curl-${how}.keys`);
        const proxy = how === "--set"
          ? await startProxyProcess([...trust, "--set", `keylog_file=${proxyFile}`])
          : await startProxyProcess(trust, { env: { SSLKEYLOGFILE: proxyFile } });
        try {
          // curl logs its own secrets too: its client random identifies the client-side session.
          const r = await run("curl", [
            "-sS",
            "--noproxy",
            "",
            "-x",
            proxy.url,
            "--cacert",
            ca.certPemFile,
            "--tlsv1.3",
            `https://localhost:${origin.port}/keylog`,
          ], { env: { ...process.env, SSLKEYLOGFILE: curlFile } });
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /GET \/keylog/);
        } finally {
          await proxy.stop();
        }
        const text = readFileSync(proxyFile, "utf8");
        for (
          const label of [
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0",
          ]
        ) {
          assert.match(
            text,
            new RegExp(`^${label} [0-9a-f]{64} [0-9a-f]+$`, "m"),
            `${how}: ${label}`,
          );
        }
        const proxyRandoms = trafficSecretRandoms(proxyFile);
        const curlRandoms = trafficSecretRandoms(curlFile);
        assert.equal(curlRandoms.size, 1, `curl wrote its key log (${curlFile})`);
        const [curlRandom] = curlRandoms;
        // Client side: the session curl made with the proxy.
        assert.ok(proxyRandoms.has(curlRandom), `${how}: the client-side session is logged`);
        // Origin side: the proxy's own session with the origin, a client random curl never used.
        assert.ok(
          [...proxyRandoms].some((r) => r !== curlRandom),
          `${how}: the origin-side session is logged:\n${text}`,
        );
      }
    } finally {
      await origin.close();
      tmp.remove();
    }
  },
);

test("on Deno, asking for a key log prints a warning that it is unavailable", {
  timeout: 60_000,
  skip: runtime.name === "deno" ? false : "the warning is for Deno only (Bun writes the key log)",
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const ca = await testCa();
  const file = join(tmp.dir, "keys.log");
  const proxy = await startProxyProcess([
    "--set",
    `keylog_file=${file}`,
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
  ]);
  try {
    assert.match(proxy.output(), /key logging is not available on Deno/);
    assert.ok(proxy.output().includes(file), "the warning names the file");
    // Interception works all the same.
    const r = await curlVia(proxy.url, [
      "--cacert",
      ca.certPemFile,
      `https://localhost:${origin.port}/no-keylog`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /GET \/no-keylog/);
  } finally {
    await proxy.stop();
    await origin.close();
    tmp.remove();
  }
});
