/**
 * reverse mode through real curl: http and https origins, plain and TLS clients (told apart by
 * the first bytes), Host rewritten to the origin's unless keep_host_header is set.
 */
import { test } from "node:test";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import assert from "node:assert/strict";
import { curl } from "./helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir, testCaFile } from "./https_helpers.ts";
import { echoOrigin, withModes } from "./modes_helpers.ts";

function curlDirect(args: string[]) {
  return curl(["--noproxy", "*", "--max-time", "20", ...args], 30_000);
}

test("reverse to an http origin: plain and TLS clients, Host rewritten, flows recorded", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin();
  const caFile = await testCaFile();
  try {
    await withModes({ mode: [`reverse:http://127.0.0.1:${origin.port}@0`] }, async (p) => {
      const port = p.port("reverse");
      const plain = await curlDirect([`http://127.0.0.1:${port}/plain?q=1`]);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stdout, `GET /plain?q=1 host=127.0.0.1:${origin.port} auth=-`);

      // TLS to the proxy (leaf named by the SNI, from our CA), plain HTTP to the origin.
      const tls = await curlDirect(["-v", "--cacert", caFile, `https://localhost:${port}/tls`]);
      assert.equal(tls.code, 0, tls.stderr);
      assert.equal(tls.stdout, `GET /tls host=127.0.0.1:${origin.port} auth=-`);
      assert.match(tls.stderr, /issuer: CN=mitm\.ts CA/);
      assert.match(tls.stderr, /subject: CN=localhost/);

      const flows = await p.flowsDone(2);
      assert.deepEqual(
        flows.map((f) => `${f.request.scheme}://${f.request.host}:${f.request.port}`),
        [`http://127.0.0.1:${origin.port}`, `http://127.0.0.1:${origin.port}`],
      );
    });
  } finally {
    await origin.close();
  }
});

test("reverse with keep_host_header: the origin sees the Host the client sent", {
  timeout: 30_000,
}, async () => {
  const origin = await echoOrigin();
  try {
    await withModes(
      { mode: [`reverse:http://127.0.0.1:${origin.port}@0`], keep_host_header: true },
      async (p) => {
        const port = p.port("reverse");
        const r = await curlDirect([`http://127.0.0.1:${port}/kept`]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `GET /kept host=127.0.0.1:${port} auth=-`);
      },
    );
  } finally {
    await origin.close();
  }
});

test("reverse to an https origin: plain and TLS clients; the origin's certificate is verified", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert);
  const caFile = await testCaFile();
  try {
    await withModes(
      {
        mode: [`reverse:https://localhost:${origin.port}@0`],
        ssl_verify_upstream_trusted_ca: cert.caFile,
      },
      async (p) => {
        const port = p.port("reverse");
        const plain = await curlDirect([`http://127.0.0.1:${port}/a`]);
        assert.equal(plain.code, 0, plain.stderr);
        assert.equal(
          plain.stdout,
          `hello from the origin: GET /a (Host: localhost:${origin.port})`,
        );

        // No SNI from curl for an IP: the leaf is named after the origin's host.
        const tls = await curlDirect([
          "-v",
          "--cacert",
          caFile,
          "--resolve",
          `reverse.test:${port}:127.0.0.1`,
          `https://reverse.test:${port}/b`,
        ]);
        assert.equal(tls.code, 0, tls.stderr);
        assert.equal(tls.stdout, `hello from the origin: GET /b (Host: localhost:${origin.port})`);
        assert.match(tls.stderr, /issuer: CN=mitm\.ts CA/);
        assert.deepEqual(origin.requests, ["GET /a", "GET /b"]);
        const flows = await p.flowsDone(2);
        assert.ok(flows.every((f) => f.request.scheme === "https" && f.response?.status === 200));
      },
    );
    // Without trusting the origin's CA the request gets a 502 saying why.
    await withModes({ mode: [`reverse:https://localhost:${origin.port}@0`] }, async (p) => {
      const r = await curlDirect(["-i", `http://127.0.0.1:${p.port("reverse")}/c`]);
      assert.match(r.stdout, /^HTTP\/1\.1 502 /);
      assert.match(r.stdout, /certificate/);
    });
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test("reverse to an https origin: a 4 MB upload from a plain client arrives whole", {
  timeout: 60_000,
}, async () => {
  // On Deno an upload from a plain client to a TLS origin used to end after about 112 KiB: waiting
  // for the origin's TLS socket to flush was an empty write, which Deno's node:tls fails.
  const tmp = tempDir();
  const cert = await makeOriginCert(tmp.dir, ["localhost"]);
  const origin = await httpsOrigin(cert, (req, res) => {
    const hash = createHash("sha256");
    let n = 0;
    req.on("data", (c: Uint8Array) => {
      n += c.length;
      hash.update(c);
    });
    req.on("end", () => res.end(`${n} ${hash.digest("hex")}`));
  });
  const body = randomBytes(4 << 20);
  const file = path.join(tmp.dir, "upload.bin");
  fs.writeFileSync(file, body);
  try {
    await withModes(
      {
        mode: [`reverse:https://localhost:${origin.port}@0`],
        ssl_verify_upstream_trusted_ca: cert.caFile,
      },
      async (p) => {
        const url = `http://127.0.0.1:${p.port("reverse")}/up`;
        for (let i = 0; i < 2; i++) {
          const r = await curlDirect(["--http1.1", "-H", "Expect:", "-T", file, url]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(
            r.stdout,
            `${body.length} ${createHash("sha256").update(body).digest("hex")}`,
          );
        }
      },
    );
  } finally {
    await origin.close();
    tmp.remove();
  }
});

test(
  "reverse: an origin that drops an upload half way: 502, and the client leaving is no new request",
  {
    timeout: 60_000,
  },
  async () => {
    // The client, told 502 while still uploading, closes: that error is for the stream that is
    // over, not a request to answer again (it was, and answering a closing connection was an
    // internal error on the client's connection).
    const server = http.createServer((req) => {
      let n = 0;
      req.on("data", (c: Uint8Array) => {
        n += c.length;
        if (n > 100_000) req.socket.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const originPort = (server.address() as net.AddressInfo).port;
    const tmp = tempDir();
    const file = path.join(tmp.dir, "upload.bin");
    fs.writeFileSync(file, randomBytes(8 << 20));
    try {
      await withModes({ mode: [`reverse:http://127.0.0.1:${originPort}@0`] }, async (p) => {
        const url = `http://127.0.0.1:${p.port("reverse")}/up`;
        const r = await curlDirect(["-sS", "-i", "--http1.1", "-H", "Expect:", "-T", file, url]);
        assert.match(r.stdout, /^HTTP\/1\.1 502 /);
        assert.match(r.stdout, /closed the connection without responding/);
        const flows = await p.flowsDone(1);
        assert.match(flows[0].error?.message ?? "", /closed the connection without responding/);
        // Give the client's close time to reach the proxy, then look for what it caused.
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(p.log.filter((l) => /internal error/.test(l)).join("\n"), "");
      });
    } finally {
      server.close();
      tmp.remove();
    }
  },
);

test("reverse: CONNECT is refused with 400, a proxy-style request still goes to the origin", {
  timeout: 30_000,
}, async () => {
  const origin = await echoOrigin();
  try {
    await withModes({ mode: [`reverse:http://127.0.0.1:${origin.port}@0`] }, async (p) => {
      const proxyUrl = `http://127.0.0.1:${p.port("reverse")}`;
      const tunnel = await curl([
        "--noproxy",
        "",
        "-x",
        proxyUrl,
        "-p",
        "-i",
        "--max-time",
        "10",
        "http://elsewhere.test/",
      ]);
      assert.notEqual(tunnel.code, 0);
      assert.match(tunnel.stderr + tunnel.stdout, /400/);
      const absolute = await curl(["--noproxy", "", "-x", proxyUrl, "http://elsewhere.test/x"]);
      assert.equal(absolute.stdout, `GET /x host=127.0.0.1:${origin.port} auth=-`);
    });
  } finally {
    await origin.close();
  }
});
