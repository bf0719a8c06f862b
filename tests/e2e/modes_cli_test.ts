/**
 * --mode on the command line: bad modes are one-line usage errors, several modes each get a
 * listener and a "listening" line, and each listener works.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cliArgv, curl, run, startProxyProcess } from "./helpers.ts";
import { echoOrigin } from "./modes_helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";

async function mitm(args: string[]) {
  // A confdir of our own: a mistake here must not create a CA in ~/.mitm-ts.
  const [cmd, argv] = cliArgv(["--confdir", await testConfdir(), ...args]);
  return await run(cmd, argv, { timeoutMs: 30_000 });
}

test("--mode: unknown modes, bad URLs and two modes on one port are one-line usage errors", {
  timeout: 60_000,
}, async () => {
  const cases: [string[], RegExp][] = [
    [["--mode", "bogus"], /option mode: "bogus" is not a mode; use regular, socks5/],
    [["--mode", "reverse:ftp://x"], /the URL must start with http:\/\/ or https:\/\//],
    [["--mode", "upstream:https://x"], /the URL must start with http:\/\//],
    [["--mode", "reverse"], /reverse needs a URL/],
    [["--set", "proxyauth=nocolon"], /option proxyauth: "nocolon" is not user:password/],
    [
      ["--no-web", "--mode", "regular", "--mode", "socks5", "-p", "0"],
      /modes "regular" and "socks5" both want --listen-port/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const r = await mitm(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("--mode regular, socks5@0 and reverse@0: one listening line each, all three serve", {
  timeout: 60_000,
}, async () => {
  const origin = await echoOrigin();
  const proxy = await startProxyProcess([
    "--no-web",
    "--mode",
    "regular",
    "--mode",
    "socks5@0",
    "--mode",
    `reverse:http://127.0.0.1:${origin.port}@0`,
  ]);
  try {
    const out = proxy.output();
    assert.match(out, /proxy listening at http:\/\/127\.0\.0\.1:\d+\n/);
    const socks = /socks5 proxy listening at socks5:\/\/(127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const reverse = new RegExp(
      `reverse proxy for http://127\\.0\\.0\\.1:${origin.port} listening at (http://\\S+)`,
    ).exec(out)?.[1];
    assert.ok(socks && reverse, out);
    const url = `http://127.0.0.1:${origin.port}`;
    const viaRegular = await curl(["--noproxy", "", "-x", proxy.url, `${url}/regular`]);
    const viaSocks = await curl(["--noproxy", "", "--socks5", socks, `${url}/socks`]);
    const viaReverse = await curl(["--noproxy", "*", `${reverse}/reverse`]);
    assert.equal(viaRegular.stdout, `GET /regular host=127.0.0.1:${origin.port} auth=-`);
    assert.equal(viaSocks.stdout, `GET /socks host=127.0.0.1:${origin.port} auth=-`);
    assert.equal(viaReverse.stdout, `GET /reverse host=127.0.0.1:${origin.port} auth=-`);
  } finally {
    await proxy.stop();
    await origin.close();
  }
});
