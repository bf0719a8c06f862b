/**
 * Copy as curl / HTTPie / fetch / raw: each snippet is actually run (sh + curl, sh + http, node and
 * deno, a socket) against an origin that records what it got, which must be the request recorded.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawnSync } from "node:child_process";
import { toCurl, toFetch, toHttpie, toRawHttp } from "../../src/export/mod.ts";
import { ExportError } from "../../src/export/mod.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { run } from "../e2e/helpers.ts";
import { directEnv, makeRequest, type Received, recordingOrigin, runShell } from "./helpers.ts";

const enc = new TextEncoder();
/** Every byte value, so quoting of each is exercised. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const TRICKY_TEXT = "@not-a-file 'single' \"double\" $HOME `id` $(id) \\n \\ 100% é ✓\r\nline2\n";
const TRICKY_HEADERS: [string, string][] = [
  ["X-Quote", `it's "quoted" $HOME \`id\` $(id) \\ ; & | < > * ? [a] {b} ~ # !`],
  ["X-Repeat", "one"],
  ["X-Repeat", "two"],
  ["X-Empty", ""],
  ["X-Percent", "100% %s %d"],
  ["Content-Type", "application/octet-stream"],
];

function flowFor(
  port: number,
  method: string,
  body: Uint8Array | null,
  extra: [string, string][] = [],
) {
  return makeRequest({
    method,
    url: `http://127.0.0.1:${port}/path/[x]?q='a%20b'&r=$HOME&s=%41`,
    headers: [["Host", `127.0.0.1:${port}`], ...TRICKY_HEADERS, ...extra, [
      "Content-Length",
      "999",
    ]],
    body,
  });
}

/** The fields the recorded request had (Content-Length aside) arrived, in order, unchanged. */
function assertSame(got: Received, flow: Flow, { normalisedUrl = false } = {}) {
  const req = flow.request;
  assert.equal(got.method, req.method);
  // fetch (WHATWG URL) and HTTPie (requests) re-escape the target; its meaning must not change.
  if (normalisedUrl) assert.equal(decodeURIComponent(got.url), decodeURIComponent(req.path));
  else assert.equal(got.url, req.path);
  const want = TRICKY_HEADERS;
  const gotHeaders = got.headers.filter(([n]) =>
    want.some(([w]) => w.toLowerCase() === n.toLowerCase())
  );
  if (normalisedUrl) {
    // These clients order fields by name and fetch joins a repeated name's values with ", ":
    // the same message per RFC 9110 section 5.3 (names are case-insensitive).
    const byName = (h: [string, string][]) => {
      const joined = new Map<string, string>();
      for (const [n, v] of h) {
        const k = n.toLowerCase();
        joined.set(k, joined.has(k) ? `${joined.get(k)}, ${v}` : v);
      }
      return [...joined].sort((a, b) => a[0] < b[0] ? -1 : 1);
    };
    assert.deepEqual(byName(gotHeaders), byName(want));
  } else assert.deepEqual(gotHeaders, want);
  assert.deepEqual(got.body, req.body ?? new Uint8Array(0));
}

async function withOrigin(fn: (port: number, received: Received[]) => Promise<void>) {
  const origin = await recordingOrigin();
  try {
    await fn(origin.port, origin.received);
  } finally {
    await origin.close();
  }
}

const cases: [string, string, Uint8Array | null][] = [
  ["binary body (every byte value)", "PUT", ALL_BYTES],
  ["text body with quotes, $, backticks, % and a leading @", "POST", enc.encode(TRICKY_TEXT)],
  ["no body", "DELETE", null],
];

describe("copy as curl, run by sh", () => {
  for (const [name, method, body] of cases) {
    test(name, async () => {
      await withOrigin(async (port, received) => {
        const flow = flowFor(port, method, body);
        const script = toCurl(flow.request);
        const r = await runShell(script + " -sS");
        assert.equal(r.code, 0, `${script}\n${r.stderr}`);
        assert.equal(r.stdout, "received");
        assertSame(received[0], flow);
        if (body && body.length === 256) assert.match(script, /^printf '/);
      });
    });
  }
});

const haveHttpie = spawnSync("http", ["--version"]).status === 0;

describe(
  "copy as HTTPie, run by sh",
  { skip: !haveHttpie && "http (HTTPie) is not installed" },
  () => {
    for (const [name, method, body] of cases) {
      test(name, async () => {
        await withOrigin(async (port, received) => {
          const flow = flowFor(port, method, body);
          const script = toHttpie(flow.request);
          const r = await runShell(script.replace(/^http /m, "http --print=b "));
          assert.equal(r.code, 0, `${script}\n${r.stderr}`);
          assertSame(received[0], flow, { normalisedUrl: true });
        });
      });
    }
  },
);

describe("copy as fetch, run by node and deno", () => {
  const runners: [string, (code: string) => Promise<{ code: number | null; stderr: string }>][] = [
    ["node", (code) => run("node", ["--input-type=module", "-e", code], { env: directEnv() })],
    [
      "deno",
      (code) => run("node_modules/.bin/deno", ["eval", "--ext=js", code], { env: directEnv() }),
    ],
  ];
  for (const [runtime, exec] of runners) {
    for (const [name, method, body] of cases) {
      test(`${runtime}: ${name}`, async () => {
        await withOrigin(async (port, received) => {
          // é as Latin-1 is allowed in a fetch header value (a ByteString).
          const flow = flowFor(port, method, body);
          const snippet = toFetch(flow.request);
          const r = await exec(
            `const r = ${snippet.replace(/^await /, "await ")}\nawait r.text();`,
          );
          assert.equal(r.code, 0, `${snippet}\n${r.stderr}`);
          assertSame(received[0], flow, { normalisedUrl: true });
        });
      });
    }
  }
});

describe("copy as raw HTTP/1.1, written to a socket", () => {
  for (const [name, method, body] of cases) {
    test(name, async () => {
      await withOrigin(async (port, received) => {
        const flow = flowFor(port, method, body, [["Transfer-Encoding", "chunked"]]);
        const bytes = toRawHttp(flow.request);
        const socket = net.connect(port, "127.0.0.1");
        socket.write(bytes);
        let answer = "";
        socket.on("data", (d) => (answer += d));
        await new Promise((r) => socket.on("close", r));
        assert.match(answer, /^HTTP\/1\.1 200/);
        assertSame(received[0], flow);
      });
    });
  }
});

test("a request whose body streamed through cannot be copied, and says so", () => {
  const flow = makeRequest({ method: "POST", url: "http://x.test/", headers: [] });
  flow.request.bodySize = 10_000_000;
  flow.request.streamed = true;
  for (const f of [toCurl, toFetch, toHttpie, toRawHttp]) {
    assert.throws(
      () => f(flow.request),
      (e) => e instanceof ExportError && /not kept/.test(e.message),
    );
  }
});

test("curl: the shape people expect (GET, no -X, Host left to the URL)", () => {
  const flow = makeRequest({
    method: "GET",
    url: "https://example.test/a?b=1",
    headers: [["Host", "example.test"], ["Accept", "*/*"], ["Connection", "keep-alive"]],
  });
  assert.equal(toCurl(flow.request), "curl 'https://example.test/a?b=1' \\\n  -H 'Accept: */*'");
});
