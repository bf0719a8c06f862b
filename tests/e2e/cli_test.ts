/** The command line as a user runs it: flags, errors, startup lines, signals. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { VERSION } from "../../mod.ts";
import { cliArgv, rawServer, ROOT, run, startProxyProcess } from "./helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";

function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return run(cmd, argv, { timeoutMs: 30_000 });
}

test("--help prints usage with every flag and exits 0", async () => {
  const r = await mitm(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  for (
    const flag of ["--listen-host", "--listen-port", "--confdir", "--set", "-q", "-v", "--version"]
  ) {
    assert.ok(r.stdout.includes(flag), `help lacks ${flag}`);
  }
});

test("--version prints the version from package.json", async () => {
  const pkg = JSON.parse(readFileSync(ROOT + "package.json", "utf8"));
  assert.equal(VERSION, pkg.version);
  const r = await mitm(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), `mitm.ts ${VERSION}`);
});

test("deno task start runs the CLI (tasks name the deno from node_modules, not a bare `deno`)", async () => {
  // A bare `deno` in a task resolves to node_modules/.bin/deno, which deno task then tries to run
  // as a script (the npm package's bin is a .cjs file) and fails with a SyntaxError.
  const r = await run(`${ROOT}node_modules/.bin/deno`, ["task", "start", "--version"], {
    cwd: ROOT,
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `mitm.ts ${VERSION}`);
});

test("--options lists every option with its default", async () => {
  const r = await mitm(["--options"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /listen_port \(int, default 8080\)/);
  assert.match(r.stdout, /connect_timeout \(seconds, default 10 s\)/);
});

test("usage errors print one line and exit 2", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--bogus"], /^mitm: unknown option '--bogus'/],
    [["-p", "http"], /^mitm: option listen_port expects a whole number, got "http"/],
    [["-p", "70000"], /^mitm: option listen_port must be at most 65535/],
    [["--set", "nope=1"], /^mitm: unknown option "nope"/],
    [["--set", "connect_timeout"], /^mitm: --set expects name=value/],
    [["--set", "connect_timeout=soon"], /expects a number of seconds/],
    [["~zz"], /^mitm: option view_filter: "~zz" is not a valid filter: filter error at position 0/],
    [["read"], /^mitm: missing required argument .file./],
  ];
  for (const [args, expected] of cases) {
    const r = await mitm(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, expected);
    assert.equal(r.stdout, "");
  }
});

test("startup prints the address and proxy settings; SIGINT and SIGTERM stop it with 0", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const proxy = await startProxyProcess();
    const out = proxy.output();
    assert.match(out, /listening at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, new RegExp(`export HTTP_PROXY=${proxy.url} HTTPS_PROXY=${proxy.url}`));
    assert.equal(await proxy.stop(signal), 0, proxy.output());
    assert.match(proxy.output(), new RegExp(`${signal}: shutting down`));
  }
});

test("a port already in use is a one-line error", async () => {
  const busy = await rawServer(() => {});
  try {
    const r = await mitm(["-p", String(busy.port), "--confdir", await testConfdir()]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`^mitm: cannot listen on 127\\.0\\.0\\.1:${busy.port}: address already in use`),
    );
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  } finally {
    await busy.close();
  }
});

test("listening beyond loopback prints a warning", async () => {
  const proxy = await startProxyProcess(["--listen-host", "0.0.0.0"]);
  try {
    assert.match(proxy.output(), /warning: listening on 0\.0\.0\.0/);
  } finally {
    await proxy.stop();
  }
});
