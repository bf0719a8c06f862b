/**
 * Recording with the real command line: -w FILE (one JSON line per flow, docs/flow-format.md),
 * --record-filter, reading back with `mitm read` and -r, torn lines, and kill -9 mid-traffic.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readFlows } from "../../src/flow/record_file.ts";
import { cliArgv, rawServer, run, startProxyProcess } from "./helpers.ts";
import { httpsOrigin, makeOriginCert, tempDir, testCaFile } from "./https_helpers.ts";
import { curlVia, echoOrigin, eventually } from "../addons/helpers.ts";

function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return run(cmd, argv, { timeoutMs: 60_000 });
}

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
};

/** The flow lines of the live output (or of `mitm read`): "addr:port: METHOD URL ...". */
const flowLines = (out: string) =>
  out.split("\n").filter((l) => /^\S+:\d+: [A-Z]+ \S+:\/\//.test(l));

async function refusedPort(): Promise<number> {
  const s = await rawServer(() => {});
  await s.close();
  return s.port;
}

/** 0..255 and back: not UTF-8. */
const BINARY = new Uint8Array(512).map((_, i) => (i < 256 ? i : 511 - i));

/**
 * Records http, intercepted https, a binary POST and a refused connection with -w; returns the
 * file, the live output and the ports.
 */
async function recordSession(dir: string, extra: string[] = []) {
  const file = join(dir, "flows.jsonl");
  const cert = await makeOriginCert(dir, ["localhost"]);
  const secure = await httpsOrigin(cert);
  const origin = await echoOrigin();
  const refused = await refusedPort();
  const binFile = join(dir, "body.bin");
  writeFileSync(binFile, BINARY);
  const proxy = await startProxyProcess([
    "-w",
    file,
    "--set",
    `ssl_verify_upstream_trusted_ca=${cert.caFile}`,
    ...extra,
  ]);
  try {
    const base = `http://127.0.0.1:${origin.port}`;
    const a = await curlVia(proxy.url, [`${base}/get?a=1`]);
    assert.equal(a.code, 0, a.stderr);
    const b = await curlVia(proxy.url, [
      "--cacert",
      await testCaFile(),
      `https://localhost:${secure.port}/secure`,
    ]);
    assert.equal(b.code, 0, b.stderr);
    const c = await curlVia(proxy.url, [
      "-H",
      "Content-Type: application/octet-stream",
      "--data-binary",
      `@${binFile}`,
      `${base}/upload`,
    ]);
    assert.equal(c.code, 0, c.stderr);
    const d = await curlVia(proxy.url, ["-i", `http://127.0.0.1:${refused}/refused`]);
    assert.match(d.stdout, /^HTTP\/1\.1 502 /);
    // flow_done observers run after the response: wait until the live output has all four.
    assert.ok(await eventually(() => flowLines(proxy.output()).length === 4), proxy.output());
  } finally {
    assert.equal(await proxy.stop(), 0, proxy.output());
    await origin.close();
    await secure.close();
  }
  return { file, output: proxy.output(), origin, secure, refused };
}

test(
  "-w FILE: one JSON line per flow with the documented fields",
  { timeout: 60_000 },
  async () => {
    const tmp = tempDir("mitm-record-");
    try {
      const { file, origin, secure, refused } = await recordSession(tmp.dir);
      const raw = readFileSync(file, "utf8");
      assert.ok(raw.endsWith("\n"));
      const records = raw.trimEnd().split("\n").map((l) => JSON.parse(l));
      assert.equal(records.length, 4);
      const top = ["v", "id", "type", "client", "server", "request", "response", "error", "marked"];
      for (const r of records) {
        for (const k of [...top, "isReplay", "metadata"]) assert.ok(k in r, `missing ${k}`);
        assert.equal(r.v, 1);
        assert.match(r.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
        assert.equal(r.type, "http");
        assert.equal(r.client.address, "127.0.0.1");
        assert.equal(typeof r.request.timestampStart, "number");
        assert.ok(Array.isArray(r.request.headers));
        for (const [n, v] of r.request.headers) {
          assert.ok(
            typeof n === "string" && typeof v === "string",
          );
        }
      }
      // ULIDs sort by creation time: the order of the requests.
      assert.deepEqual(records.map((r) => r.id), records.map((r) => r.id).slice().sort());

      const [get, https, post, error] = records;
      assert.equal(get.request.method, "GET");
      assert.equal(get.request.url, `http://127.0.0.1:${origin.port}/get?a=1`);
      assert.equal(get.request.path, "/get?a=1");
      assert.deepEqual(get.request.body, { text: "" });
      assert.equal(get.response.status, 200);
      assert.ok(get.response.headers.some(([n, v]: string[]) => n === "X-Origin" && v === "echo"));
      assert.equal(JSON.parse(get.response.body.text).url, "/get?a=1");
      assert.ok(get.response.timestampStart >= get.request.timestampStart);
      assert.ok(get.response.timestampEnd >= get.response.timestampStart);
      assert.equal(get.error, null);
      assert.equal(get.server.port, origin.port);

      assert.equal(https.request.url, `https://localhost:${secure.port}/secure`);
      assert.equal(https.request.scheme, "https");
      assert.equal(https.client.tls.sni, "localhost");
      assert.equal(https.server.tls.sni, "localhost");
      assert.equal(https.response.status, 200);
      assert.equal(
        https.response.body.text,
        "hello from the origin: GET /secure (Host: localhost:" +
          `${secure.port})`,
      );

      assert.equal(post.request.method, "POST");
      assert.ok("base64" in post.request.body, JSON.stringify(post.request.body));
      assert.deepEqual(new Uint8Array(Buffer.from(post.request.body.base64, "base64")), BINARY);
      assert.equal(post.request.bodySize, BINARY.length);

      assert.equal(error.request.url, `http://127.0.0.1:${refused}/refused`);
      assert.equal(error.response, null);
      assert.equal(error.server, null);
      assert.match(
        error.error.message,
        new RegExp(`could not connect to 127\\.0\\.0\\.1:${refused}`),
      );
      assert.equal(typeof error.error.timestamp, "number");

      // And readFlows gives the same flows back.
      const back = readFlows(file);
      assert.equal(back.skipped.length, 0);
      assert.equal(back.tornTail, false);
      assert.deepEqual(back.flows.map((f) => f.id), records.map((r) => r.id));
      assert.deepEqual(back.flows[2].request.body, BINARY);
    } finally {
      tmp.remove();
    }
  },
);

test("--record-filter records only matching flows; the live output shows them all", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir("mitm-record-");
  try {
    const { file, output } = await recordSession(tmp.dir, ["--record-filter", "~m POST"]);
    const records = lines(file).map((l) => JSON.parse(l));
    assert.deepEqual(records.map((r) => `${r.request.method} ${r.request.path}`), [
      "POST /upload",
    ]);
    assert.equal(flowLines(output).length, 4);
  } finally {
    tmp.remove();
  }
});

test("mitm read / -r print the same lines as the live output; a filter selects", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir("mitm-record-");
  try {
    const { file, output, origin } = await recordSession(tmp.dir);
    const live = flowLines(output);
    assert.equal(live.length, 4, output);

    const read = await mitm(["read", file]);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stderr, "");
    assert.deepEqual(read.stdout.trimEnd().split("\n"), live);

    const r = await mitm(["-r", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, read.stdout);

    const ok = await mitm(["read", file, "~c 200"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout.trimEnd().split("\n"), live.filter((l) => / << 200 OK /.test(l)));
    assert.equal(ok.stdout.trimEnd().split("\n").length, 3);

    const one = await mitm(["-r", file, "~d", "localhost", "&", "~u", "secure"]);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(one.stdout.trimEnd().split("\n"), [live[1]]);

    const none = await mitm(["read", file, `~u /nothing-like-this`]);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");

    // More detail on request.
    const detail = await mitm(["read", "--detail", "3", file, "~m POST"]);
    assert.equal(detail.code, 0, detail.stderr);
    assert.match(detail.stdout, /^\s+> Content-Type: application\/octet-stream$/m);
    assert.match(detail.stdout, /^\s+> \[binary body: 512b\]$/m);
    assert.match(detail.stdout, /"url": ?"\/upload"/);
    assert.ok(origin.received.length === 2);
  } finally {
    tmp.remove();
  }
});

test("a torn last line: read prints the complete flows and warns on stderr", {
  timeout: 60_000,
}, async () => {
  const tmp = tempDir("mitm-record-");
  try {
    const { file, output } = await recordSession(tmp.dir);
    const whole = lines(file);
    appendFileSync(file, whole[0].slice(0, Math.floor(whole[0].length / 2)));
    const r = await mitm(["read", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), flowLines(output));
    assert.equal(
      r.stderr,
      `mitm: ${file}: skipped the last line (5), cut off while it was being written\n`,
    );
    const back = readFlows(file);
    assert.equal(back.flows.length, 4);
    assert.equal(back.tornTail, true);
    assert.deepEqual(back.skipped, []);

    // A line broken in the middle of the file is skipped with its number, and reading goes on.
    const middle = join(tmp.dir, "middle.jsonl");
    writeFileSync(middle, [whole[0], "{not json", whole[1], ""].join("\n"));
    const m = await mitm(["read", middle]);
    assert.equal(m.code, 0);
    assert.equal(m.stdout.trimEnd().split("\n").length, 2);
    assert.match(m.stderr, /^mitm: .*middle\.jsonl: skipped line 2: not JSON/);

    const missing = await mitm(["read", join(tmp.dir, "nope.jsonl")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^mitm: cannot read .*nope\.jsonl: no such file\.\n$/);
  } finally {
    tmp.remove();
  }
});

test("kill -9 while traffic flows: every complete line of the recording parses", {
  timeout: 90_000,
}, async () => {
  const tmp = tempDir("mitm-record-");
  // Bigger responses make bigger lines, so that the kill may well land inside a write.
  const origin = await echoOrigin((req, res) => res.end(`${req.url} `.repeat(2000)));
  const file = join(tmp.dir, "killed.jsonl");
  // With the defaults (the web UI's temporary flow store on): after kill -9 nothing removes that
  // store, so it goes in the test's own directory.
  const proxy = await startProxyProcess(["--set", "flow_detail=0", "-w", file], {
    env: { TMPDIR: tmp.dir },
  });
  try {
    // One curl, many requests in a loop on one connection, until the proxy disappears.
    const traffic = curlVia(proxy.url, [
      "--fail-early",
      "-o",
      "/dev/null",
      `http://127.0.0.1:${origin.port}/[1-100000]`,
    ], 60);
    assert.ok(await eventually(() => lines(file).length >= 200, 30_000), "no traffic recorded");
    assert.equal(await proxy.stop("SIGKILL"), null);
    const r = await traffic;
    assert.notEqual(r.code, 0, "curl was cut off");
    const size = statSync(file).size;
    const text = readFileSync(file, "utf8");
    const parts = text.split("\n");
    const complete = parts.slice(0, -1).filter((l) => l !== "");
    assert.ok(complete.length >= 200, String(complete.length));
    for (const l of complete) JSON.parse(l); // throws on a broken line
    const back = readFlows(file);
    assert.deepEqual(back.skipped, [], "no complete line is skipped");
    assert.equal(back.flows.length, complete.length);
    assert.equal(back.tornTail, parts.at(-1) !== "");
    // In request order, each with its response.
    back.flows.forEach((f, i) => {
      assert.equal(f.request.path, `/${i + 1}`);
      assert.equal(f.response?.status, 200);
    });
    assert.ok(size > 0);
  } finally {
    await origin.close();
    tmp.remove();
  }
});
