/**
 * The terminal output of the real command line: one line per flow (client, method, URL, status,
 * size, duration), no colour unless on a terminal, -q, flow_detail 0-3, and the FILTER argument.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { testConfdir } from "../fixtures/ca.ts";
import { cliArgv, connect, rawServer, run, startProxyProcess } from "./helpers.ts";
import { tempDir } from "./https_helpers.ts";
import { curlVia, echoOrigin, eventually, sleep } from "../addons/helpers.ts";

/** The test's environment without `drop`, plus `extra`. */
function envWith(extra: Record<string, string>, drop: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !drop.includes(k)) out[k] = v;
  }
  return { ...out, ...extra };
}

function mitm(args: string[], env?: Record<string, string>) {
  const [cmd, argv] = cliArgv(args);
  return run(cmd, argv, { timeoutMs: 30_000, env: env ? envWith(env) : undefined });
}

/** What every ANSI colour sequence starts with. */
const ESC = "\x1b[";

const flowLines = (out: string) =>
  out.split("\n").filter((l) => /^\S+:\d+: [A-Z]+ \S+:\/\//.test(l));

/** An origin answering `size` bytes of "x" for /size/N, and "hello" otherwise. */
function sizedOrigin() {
  return echoOrigin((req, res) => {
    const m = /^\/size\/(\d+)$/.exec(req.url);
    const body = m ? "x".repeat(Number(m[1])) : "not here";
    res.writeHead(m ? 200 : 404, {
      "Content-Type": "text/plain",
      "Content-Length": String(body.length),
    });
    res.end(body);
  });
}

test("one line per flow: client address, method, URL, status, size, duration; no colour in a pipe", async () => {
  const origin = await sizedOrigin();
  const refused = await rawServer(() => {});
  await refused.close();
  // NO_COLOR emptied (the test runner sets it): only the pipe may turn colour off here.
  const proxy = await startProxyProcess([], { env: { NO_COLOR: "", FORCE_COLOR: "" } });
  try {
    const base = `http://127.0.0.1:${origin.port}`;
    await curlVia(proxy.url, [`${base}/size/100`]);
    await curlVia(proxy.url, ["-X", "PUT", "-d", "x", `${base}/size/1536`]);
    await curlVia(proxy.url, [`${base}/size/300000`]);
    await curlVia(proxy.url, [`${base}/missing`]);
    await curlVia(proxy.url, [`http://127.0.0.1:${refused.port}/down`]);
    assert.ok(await eventually(() => flowLines(proxy.output()).length === 5), proxy.output());
    const lines = flowLines(proxy.output());
    const client = String.raw`127\.0\.0\.1:\d+`;
    const url = (p: string) => `http://127\\.0\\.0\\.1:${origin.port}${p}`;
    const expected = [
      `^${client}: GET ${url("/size/100")} << 200 OK 100b \\d+ms$`,
      `^${client}: PUT ${url("/size/1536")} << 200 OK 1\\.5k \\d+ms$`,
      `^${client}: GET ${url("/size/300000")} << 200 OK 293k \\d+ms$`,
      `^${client}: GET ${url("/missing")} << 404 Not Found 8b \\d+ms$`,
      `^${client}: GET http://127\\.0\\.0\\.1:${refused.port}/down \\d+ms ` +
      `error: could not connect to 127\\.0\\.0\\.1:${refused.port}: .+$`,
    ];
    lines.forEach((l, i) => assert.match(l, new RegExp(expected[i]), l));
    // Each curl run is its own client connection: the client ports differ.
    const ports = new Set(lines.map((l) => l.split(":")[1]));
    assert.equal(ports.size, 5);
    const coloured = proxy.output().split("\n").filter((l) => l.includes(ESC));
    assert.deepEqual(coloured, [], "no ANSI escapes when stdout is a pipe");
  } finally {
    assert.equal(await proxy.stop(), 0, proxy.output());
    await origin.close();
  }
});

test("colour only on a terminal, and not with NO_COLOR", { timeout: 60_000 }, async () => {
  // `mitm read` decides like the live output; `script` gives it a terminal.
  const tmp = tempDir("mitm-output-");
  const origin = await sizedOrigin();
  const rec = join(tmp.dir, "flows.jsonl");
  try {
    const proxy = await startProxyProcess(["-w", rec]);
    try {
      await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/size/5`]);
      await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/missing`]);
      assert.ok(await eventually(() => flowLines(proxy.output()).length === 2));
    } finally {
      await proxy.stop();
    }
    const [cmd, argv] = cliArgv(["read", rec]);
    const line = [cmd, ...argv].map((a) => `'${a}'`).join(" ");
    const env = envWith({}, ["NO_COLOR"]);
    const tty = await run("script", ["-qec", line, "/dev/null"], { env, timeoutMs: 30_000 });
    assert.equal(tty.code, 0, tty.stdout + tty.stderr);
    assert.ok(tty.stdout.includes(`${ESC}32m200 OK${ESC}39m`), JSON.stringify(tty.stdout));
    assert.ok(tty.stdout.includes(`${ESC}33m404 Not Found${ESC}39m`), JSON.stringify(tty.stdout));
    const noColor = await run("script", ["-qec", line, "/dev/null"], {
      env: { ...env, NO_COLOR: "1" },
      timeoutMs: 30_000,
    });
    assert.equal(noColor.code, 0);
    assert.equal(flowLines(noColor.stdout.replaceAll("\r", "")).length, 2, noColor.stdout);
    assert.ok(!noColor.stdout.includes(ESC), noColor.stdout);
    const piped = await mitm(["read", rec], { NO_COLOR: "" });
    assert.ok(!piped.stdout.includes(ESC), piped.stdout);
  } finally {
    await origin.close();
    tmp.remove();
  }
});

/** Starts the proxy with -q, which prints nothing at all: its port is chosen here. */
async function quietProxy(extra: string[]) {
  const probe = await rawServer(() => {});
  const port = probe.port;
  await probe.close();
  const [cmd, args] = cliArgv([
    "-q",
    "-p",
    String(port),
    "--confdir",
    await testConfdir(),
    ...extra,
  ]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      (await connect(port)).destroy();
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`quiet proxy did not start: ${output}`);
      }
      await sleep(50);
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: () => {
      if (child.exitCode === null) process.kill(child.pid!, "SIGTERM");
      return exited;
    },
  };
}

test("-q prints no flow lines (nor anything else)", async () => {
  const origin = await sizedOrigin();
  const proxy = await quietProxy([]);
  try {
    const r = await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/size/3`]);
    assert.equal(r.stdout, "xxx", r.stderr);
    await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/missing`]);
    await sleep(300);
  } finally {
    assert.equal(await proxy.stop(), 0);
    await origin.close();
  }
  assert.equal(proxy.output(), "");
});

test("--set flow_detail: 0 prints no flows, 2 adds headers, 3 adds bodies", async () => {
  const origin = await sizedOrigin();
  const outputs: Record<number, string> = {};
  try {
    for (const detail of [0, 1, 2, 3]) {
      const proxy = await startProxyProcess(["--set", `flow_detail=${detail}`]);
      try {
        await curlVia(proxy.url, [
          "-H",
          "X-Test-Header: here",
          "-d",
          "request-body-text",
          `http://127.0.0.1:${origin.port}/size/12`,
        ]);
        // Then one more flow, so that the first one's output is surely complete.
        await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/size/1`]);
        if (detail === 0) await sleep(300);
        else await eventually(() => flowLines(proxy.output()).length === 2);
      } finally {
        assert.equal(await proxy.stop(), 0);
      }
      outputs[detail] = proxy.output();
    }
  } finally {
    await origin.close();
  }
  assert.equal(flowLines(outputs[0]).length, 0, outputs[0]);
  assert.doesNotMatch(outputs[0], /X-Test-Header|<</);
  assert.equal(flowLines(outputs[1]).length, 2);
  assert.doesNotMatch(outputs[1], /X-Test-Header/);
  for (const detail of [2, 3]) {
    const out = outputs[detail];
    assert.equal(flowLines(out).length, 2);
    assert.match(out, /^ {2}> X-Test-Header: here$/m);
    assert.match(out, /^ {2}> Content-Type: application\/x-www-form-urlencoded$/m);
    assert.match(out, /^ {2}< Content-Type: text\/plain$/m);
    assert.match(out, /^ {2}< Content-Length: 12$/m);
  }
  assert.doesNotMatch(outputs[2], /request-body-text|xxxxxxxxxxxx/);
  // curl -d sends a urlencoded form: the body shows as a form table (name = value).
  assert.match(outputs[3], /^ {2}> request-body-text = $/m);
  assert.match(outputs[3], /^ {2}< xxxxxxxxxxxx$/m);
});

test("a FILTER argument limits the flow lines shown; an invalid one is a usage error", async () => {
  const origin = await sizedOrigin();
  const proxy = await startProxyProcess(["~d localhost | ~c 404"]);
  try {
    await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/size/1`]);
    await curlVia(proxy.url, [`http://localhost:${origin.port}/size/2`]);
    await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/missing`]);
    await curlVia(proxy.url, [`http://127.0.0.1:${origin.port}/size/3`]);
    // The shown lines come in order; after the last one all four flows are done.
    assert.ok(await eventually(() => flowLines(proxy.output()).length === 2), proxy.output());
    await curlVia(proxy.url, [`http://localhost:${origin.port}/size/4`]);
    assert.ok(await eventually(() => flowLines(proxy.output()).length === 3), proxy.output());
    const shown = flowLines(proxy.output()).map((l) => l.split(" ").slice(1, 3).join(" "));
    assert.deepEqual(shown, [
      `GET http://localhost:${origin.port}/size/2`,
      `GET http://127.0.0.1:${origin.port}/missing`,
      `GET http://localhost:${origin.port}/size/4`,
    ]);
    assert.equal(origin.received.length, 5, "hidden flows were proxied all the same");
  } finally {
    assert.equal(await proxy.stop(), 0);
    await origin.close();
  }

  const cases: Array<[string[], RegExp]> = [
    [["~c 200 &"], /filter error at position 8: expected an expression after &/],
    [["~d"], /filter error at position 2: expected an argument after ~d/],
    [["(~c 200"], /filter error at position 0: unmatched \(/],
    [["~bogus x"], /filter error at position 0/],
    [["--record-filter", "~m", "-w", "/dev/null"], /option record_filter: "~m" is not a valid/],
    [["read", "/dev/null", "~c 200 )"], /filter error at position 7/],
  ];
  for (const [args, expected] of cases) {
    const r = await mitm(args);
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}, ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^mitm: /);
    assert.match(r.stderr, expected, r.stderr);
  }
});
