/**
 * Every timeout option is settable with `--set name=value` on the command line and takes effect in
 * the proxy process: `--options` shows the value given, and each timeout, set short, is seen to
 * fire (its default would not within these tests' waits).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cliArgv, run, startProxyProcess } from "../e2e/helpers.ts";
import { completeResponse, eventually, exchange, rawServer, recordingOrigin } from "./helpers.ts";

const TIMEOUTS: Array<[name: string, defaultSeconds: number, value: string]> = [
  ["header_timeout", 30, "0.3"],
  ["idle_timeout", 60, "0.5"],
  ["origin_idle_timeout", 30, "0.3"],
  ["connect_timeout", 10, "0.25"],
  ["tls_handshake_timeout", 10, "0.3"],
  ["read_timeout", 60, "0.3"],
  ["body_timeout", 60, "1"],
];
const SET_ARGS = TIMEOUTS.flatMap(([name, , value]) => ["--set", `${name}=${value}`]);

const get = (url: string) => `GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`;

test("--set name=value is parsed for every timeout option (shown by --options)", async () => {
  const [cmd, argv] = cliArgv([...SET_ARGS, "--options"]);
  const r = await run(cmd, argv, { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  for (const [name, seconds, value] of TIMEOUTS) {
    const line = `  ${name} (seconds, default ${seconds} s, set to ${Number(value)} s)`;
    assert.ok(r.stdout.includes(line + "\n"), `${line} in:\n${r.stdout}`);
  }
  const bad = await run(...cliArgv(["--set", "read_timeout=-1", "--options"]), {
    timeoutMs: 30_000,
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^mitm: option read_timeout must be at least 0, got -1\b/);
});

test("each timeout set with --set takes effect in the command-line proxy", {
  timeout: 60_000,
}, async () => {
  const silent = await rawServer((s) => s.resume()); // takes anything, never answers
  const origin = await recordingOrigin(); // keep-alive, answers 200 "ok"
  const proxy = await startProxyProcess(["--no-web", "--set", "flow_detail=0", ...SET_ARGS]);
  try {
    const port = proxy.port;

    // header_timeout: half a head, then nothing.
    const half = await exchange(port, `GET http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHo`);
    assert.match(half.text, /^HTTP\/1\.1 408 Request Timeout\r\n/, JSON.stringify(half.text));
    assert.match(half.text, /request head not complete after 0\.3 s/);
    assert.ok(half.closed);

    // idle_timeout: a connection that sends nothing is closed without an answer.
    const idle = await exchange(port, "");
    assert.deepEqual(idle, { text: "", closed: true });

    // origin_idle_timeout: the pooled origin connection is closed once it has idled that long.
    const ok = await exchange(port, get(`http://127.0.0.1:${origin.port}/`), completeResponse);
    assert.match(ok.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(
      await eventually(() => origin.connections.length === 1 && origin.connections[0].ended),
      "the idle origin connection was closed by the proxy",
    );

    // tls_handshake_timeout: an https origin that never answers the ClientHello.
    const tls = await exchange(
      port,
      get(`https://127.0.0.1:${silent.port}/`),
      completeResponse,
    );
    assert.match(tls.text, /^HTTP\/1\.1 502 Bad Gateway\r\n/, JSON.stringify(tls.text));
    assert.match(tls.text, /TLS handshake not done after 300 ms/);

    // read_timeout: a plain origin that takes the request and never answers.
    const never = await exchange(port, get(`http://127.0.0.1:${silent.port}/`), completeResponse);
    assert.match(never.text, /^HTTP\/1\.1 504 Gateway Timeout\r\n/, JSON.stringify(never.text));
    assert.match(never.text, /sent no response within 0\.3 s \(read_timeout\)/);

    // body_timeout: an upload that stops half way gets 408.
    const stalled = await exchange(
      port,
      `POST http://127.0.0.1:${origin.port}/ HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc`,
    );
    assert.match(stalled.text, /^HTTP\/1\.1 408 Request Timeout\r\n/, JSON.stringify(stalled.text));
    assert.match(stalled.text, /stopped sending the request body for 1 s \(body_timeout\)/);
    assert.ok(stalled.closed);

    // connect_timeout: a connect to 127.0.0.1 cannot be made to hang here without root, so its
    // effect is covered by the runtime conformance checks; --options above shows it parsed.
  } finally {
    await proxy.stop();
    await silent.close();
    await origin.close();
  }
});
