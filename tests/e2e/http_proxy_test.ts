/**
 * The explicit HTTP proxy through real clients: curl and raw sockets against origins started here
 * on 127.0.0.1, with the proxy running in-process on the runtime's real network.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { startProxy } from "../../mod.ts";
import { tempDir } from "../fixtures/temp_dir.ts";
import { testCa } from "../fixtures/ca.ts";
import type { ProxyServer } from "../../mod.ts";
import {
  connect,
  curl,
  headLength,
  listenLocal,
  type LocalServer,
  rawExchange,
  rawServer,
  readUntil,
} from "./helpers.ts";

async function withProxy(fn: (proxy: ProxyServer) => Promise<void>): Promise<void> {
  const proxy = await startProxy({ listen_port: 0 }, { ca: await testCa() });
  try {
    await fn(proxy);
  } finally {
    await proxy.close();
  }
}

/** A raw origin that records each request head and answers every request with `response`. */
async function recordingOrigin(response: string) {
  const heads: string[] = [];
  const server = await rawServer((s) => {
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let n = headLength(buf); n > 0; n = headLength(buf)) {
        heads.push(buf.subarray(0, n).toString("latin1"));
        buf = buf.subarray(n);
        s.write(response);
      }
    });
  });
  return { ...server, heads };
}

const HOP_BY_HOP = /^(connection|keep-alive|proxy-connection|te|x-drop):/i;

test("GET: headers keep order and case, hop-by-hop fields are dropped, response is byte-exact", async () => {
  const response = "HTTP/1.1 200 OK\r\nX-Mixed-CASE: a\r\nset-cookie: a=1\r\n" +
    "Set-Cookie: b=2\r\nConnection: keep-alive, X-Gone\r\nX-Gone: 1\r\n" +
    "Keep-Alive: timeout=5\r\nContent-Length: 5\r\n\r\nhello";
  const origin = await recordingOrigin(response);
  const url = `http://127.0.0.1:${origin.port}/path/%7Eq?x=1&y=%20`;
  const headers = [
    "-H",
    "X-Custom-Header: V",
    "-H",
    "x-lower: v",
    "-H",
    "Connection: X-Drop",
    "-H",
    "X-Drop: 1",
    "-H",
    "TE: trailers",
    "-H",
    "Keep-Alive: 300",
    "-H",
    "X-Repeat: 1",
    "-H",
    "X-Repeat: 2",
  ];
  try {
    // What curl sends straight to the origin is the reference for what the proxy must forward.
    const direct = await curl(["-i", ...headers, url]);
    assert.equal(direct.code, 0, direct.stderr);
    await withProxy(async (proxy) => {
      const proxied = await curl(["-i", "-x", proxy.url, ...headers, url]);
      assert.equal(proxied.code, 0, proxied.stderr);
      const [directHead, proxiedHead] = origin.heads;
      const expected = directHead.split("\r\n").filter((l) => !HOP_BY_HOP.test(l)).join("\r\n");
      assert.equal(proxiedHead, expected);
      assert.match(proxiedHead, /^GET \/path\/%7Eq\?x=1&y=%20 HTTP\/1\.1\r\n/);
      assert.match(proxiedHead, /X-Repeat: 1\r\nX-Repeat: 2\r\n/);
      const expectedResponse = direct.stdout.split("\r\n")
        .filter((l) => !/^(connection|keep-alive|x-gone):/i.test(l)).join("\r\n");
      assert.equal(proxied.stdout, expectedResponse);
    });
  } finally {
    await origin.close();
  }
});

test("Host is replaced by the request-target's authority", async () => {
  const origin = await recordingOrigin("HTTP/1.1 204 No Content\r\n\r\n");
  try {
    await withProxy(async (proxy) => {
      const r = await curl([
        "-x",
        proxy.url,
        "-H",
        "Host: elsewhere.example",
        `http://127.0.0.1:${origin.port}/`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(origin.heads[0], new RegExp(`\r\nHost: 127\\.0\\.0\\.1:${origin.port}\r\n`));
      assert.doesNotMatch(origin.heads[0], /elsewhere/);
    });
  } finally {
    await origin.close();
  }
});

/** A node:http origin that answers with the sha256 and size of the request body. */
function hashingOrigin(): Promise<LocalServer> {
  const server = http.createServer((req, res) => {
    const hash = createHash("sha256");
    let size = 0;
    req.on("data", (d: Buffer) => {
      hash.update(d);
      size += d.length;
    });
    req.on("end", () => {
      const te = req.headers["transfer-encoding"] ?? "none";
      res.end(`${size} ${hash.digest("hex")} te=${te}`);
    });
  });
  return listenLocal(server);
}

function tempFile(bytes: Uint8Array): string {
  const path = join(tempDir("mitm-e2e-").dir, "body.bin");
  writeFileSync(path, bytes);
  return path;
}

test("request bodies pass intact: Content-Length, chunked, and Expect: 100-continue", async () => {
  const origin = await hashingOrigin();
  const body = randomBytes(3 * 1024 * 1024 + 7);
  const file = tempFile(body);
  const digest = createHash("sha256").update(body).digest("hex");
  const url = `http://127.0.0.1:${origin.port}/upload`;
  try {
    await withProxy(async (proxy) => {
      const plain = await curl(["-x", proxy.url, "--data-binary", `@${file}`, url]);
      assert.equal(plain.stdout, `${body.length} ${digest} te=none`, plain.stderr);

      const chunked = await curl([
        "-x",
        proxy.url,
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        `@${file}`,
        url,
      ]);
      assert.equal(chunked.stdout, `${body.length} ${digest} te=chunked`, chunked.stderr);

      // node:http answers "100 Continue" itself; curl -v shows it only if the proxy passed it on.
      const expect = await curl([
        "-v",
        "-x",
        proxy.url,
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        `@${file}`,
        url,
      ]);
      assert.equal(expect.stdout, `${body.length} ${digest} te=none`, expect.stderr);
      assert.match(expect.stderr, /< HTTP\/1\.1 100 Continue/);
    });
  } finally {
    await origin.close();
  }
});

test("chunked response trailers reach the client", async () => {
  const origin = await recordingOrigin(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n",
  );
  try {
    await withProxy(async (proxy) => {
      const r = await curl(["--raw", "-i", "-x", proxy.url, `http://127.0.0.1:${origin.port}/t`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n$/,
      );
    });
  } finally {
    await origin.close();
  }
});

test("keep-alive: curl reuses its proxy connection and the proxy reuses its origin connection", async () => {
  const origin = await recordingOrigin("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  try {
    await withProxy(async (proxy) => {
      const base = `http://127.0.0.1:${origin.port}`;
      const r = await curl([
        "-x",
        proxy.url,
        `${base}/1`,
        `${base}/2`,
        `${base}/3`,
        "-w",
        "%{num_connects} ",
      ]);
      assert.equal(r.stdout, "ok1 ok0 ok0 ");
      assert.equal(origin.heads.length, 3);
      assert.equal(origin.sockets.length, 1, "origin should see one reused connection");
    });
  } finally {
    await origin.close();
  }
});

test("pipelined requests are answered in order on one connection", async () => {
  const origin = await rawServer((s) => {
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let n = headLength(buf); n > 0; n = headLength(buf)) {
        const path = /^GET (\S+)/.exec(buf.toString("latin1"))![1];
        buf = buf.subarray(n);
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
      }
    });
  });
  try {
    await withProxy(async (proxy) => {
      const s = await connect(proxy.address.port);
      const req = (p: string) =>
        `GET http://127.0.0.1:${origin.port}${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
      s.write(req("/first") + req("/second") + req("/third"));
      const out = await readUntil(s, (b) => b.toString().endsWith("/third"));
      s.destroy();
      const bodies = [...out.toString().matchAll(/\r\n\r\n(\/(?:first|second|third))/g)]
        .map((m) => m[1]);
      assert.deepEqual(bodies, ["/first", "/second", "/third"]);
    });
  } finally {
    await origin.close();
  }
});

test("origin failures become 502 responses naming the failure", async () => {
  // A port that was just free: nothing listens there.
  const closed = await rawServer(() => {});
  const deadPort = closed.port;
  await closed.close();
  const garbage = await rawServer((s) => s.on("data", () => s.end("SPDY/9 nonsense\r\n\r\n")));
  const silent = await rawServer((s) => s.on("data", () => s.end()));
  try {
    await withProxy(async (proxy) => {
      const refused = await curl(["-i", "-x", proxy.url, `http://127.0.0.1:${deadPort}/`]);
      assert.match(refused.stdout, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      assert.match(refused.stdout, new RegExp(`127\\.0\\.0\\.1:${deadPort}: connection refused`));

      // HEAD gets the 502 head alone (a response to HEAD has no body), not an empty reply.
      const head = await curl(["-sS", "-I", "-x", proxy.url, `http://127.0.0.1:${deadPort}/`]);
      assert.match(head.stdout, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
      assert.match(head.stdout, /\r\nContent-Length: \d+\r\n/);

      const dns = await curl(["-i", "-x", proxy.url, "http://no-such-host.invalid/"]);
      assert.match(dns.stdout, /^HTTP\/1\.1 502 /);
      assert.match(dns.stdout, /no-such-host\.invalid: DNS lookup failed/);

      const bad = await curl(["-i", "-x", proxy.url, `http://127.0.0.1:${garbage.port}/`]);
      assert.match(bad.stdout, /^HTTP\/1\.1 502 /);
      assert.match(bad.stdout, /bad response from 127\.0\.0\.1:\d+: status line does not start/);

      const none = await curl(["-i", "-x", proxy.url, `http://127.0.0.1:${silent.port}/`]);
      assert.match(none.stdout, /^HTTP\/1\.1 502 /);
      assert.match(none.stdout, /closed the connection without responding/);
    });
  } finally {
    await garbage.close();
    await silent.close();
  }
});

test("an origin that dies mid-body closes the client connection instead of hanging", async () => {
  const origin = await rawServer((s) =>
    s.on("data", () => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
      setTimeout(() => s.destroy(), 50);
    })
  );
  try {
    await withProxy(async (proxy) => {
      const r = await curl(
        ["-x", proxy.url, `http://127.0.0.1:${origin.port}/`, "-o", "/dev/null"],
        20_000,
      );
      assert.equal(r.signal, null, "curl must not hang");
      assert.equal(r.code, 18, `curl should report a partial transfer: ${r.stderr}`);
    });
  } finally {
    await origin.close();
  }
});

test("a client that leaves makes the proxy close its origin connection", async () => {
  let originClosed!: () => void;
  const closedSeen = new Promise<void>((r) => (originClosed = r));
  const origin = await rawServer((s) => {
    s.resume(); // without a reader, "end" would never be emitted
    s.on("end", () => originClosed());
    s.on("close", () => originClosed());
  });
  try {
    await withProxy(async (proxy) => {
      const s = await connect(proxy.address.port);
      s.write(`GET http://127.0.0.1:${origin.port}/slow HTTP/1.1\r\nHost: x\r\n\r\n`);
      await new Promise((r) => setTimeout(r, 200));
      s.destroy();
      let timer;
      await Promise.race([
        closedSeen,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("origin connection stayed open")), 5000);
        }),
      ]);
      clearTimeout(timer);
    });
  } finally {
    await origin.close();
  }
});

test("a request to the proxy itself gets a page explaining how to use it", async () => {
  await withProxy(async (proxy) => {
    const direct = await curl(["-i", `${proxy.url}/`]);
    assert.match(direct.stdout, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(direct.stdout, /This is mitm\.ts, an HTTP proxy/);
    assert.match(direct.stdout, new RegExp(`curl -x ${proxy.url.replace(/\./g, "\\.")}`));
    // Addressed to itself through itself: answered, not looped.
    const self = await curl(["-i", "-x", proxy.url, `${proxy.url}/`]);
    assert.match(self.stdout, /^HTTP\/1\.1 400 /);
  });
});

test("malformed requests get 400/431/505 with a reason and the connection closed", async () => {
  const origin = await recordingOrigin("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  const url = `http://127.0.0.1:${origin.port}/`;
  const cases: Array<[string, string, RegExp]> = [
    [
      `POST ${url} HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`,
      "400",
      /both Content-Length and Transfer-Encoding/,
    ],
    [
      `POST ${url} HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
      "400",
      /differing Content-Length/,
    ],
    [`GET ${url} HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n`, "400", /obsolete line folding/],
    [`GET ${url} HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n`, "400", /NUL/],
    [`GET ${url} HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n`, "400", /CR/],
    [`GET ${url} HTTP/1.1\nHost: a\n\n`, "400", /bare LF/],
    [
      `POST ${url} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      "400",
      /chunk size is not a hexadecimal number/,
    ],
    [
      `POST ${url} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n`,
      "400",
      /does not end with chunked/,
    ],
    [`GET /\r\n\r\n`, "400", /HTTP\/0\.9/],
    [`GET ${url} HTTP/2.0\r\nHost: a\r\n\r\n`, "505", /HTTP\/2\.0 is not supported/],
    [`GET http://user:pw@127.0.0.1/ HTTP/1.1\r\nHost: a\r\n\r\n`, "400", /userinfo/],
    [
      `GET ${url} HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`,
      "431",
      /larger than 65536 bytes/,
    ],
  ];
  try {
    await withProxy(async (proxy) => {
      for (const [request, status, reason] of cases) {
        const answer = await rawExchange(proxy.address.port, request);
        assert.match(
          answer,
          new RegExp(`^HTTP/1\\.1 ${status} `),
          `for ${JSON.stringify(request.slice(0, 80))}`,
        );
        assert.match(answer, /\r\nConnection: close\r\n/);
        assert.match(answer, reason);
        // The body is one line saying what happened.
        const body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
        assert.equal(body.trimEnd().split("\n").length, 1, body);
      }
      assert.equal(origin.heads.length, 0, "no malformed request may reach the origin");
    });
  } finally {
    await origin.close();
  }
});
