/**
 * `mitm run`'s contract with the command: its exit status (or 128 + the signal that ended it)
 * becomes ours, signals sent to mitm reach it, and it gets the proxy environment, whose files are
 * removed afterwards.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import { testCa, testConfdir } from "../fixtures/ca.ts";
import { cliArgv } from "../e2e/helpers.ts";
import { mitmRun } from "./helpers.ts";

/** Starts `mitm run -- sh -c SCRIPT`, resolves once it printed "ready", then sends `signal`. */
async function signalled(script: string, signal: NodeJS.Signals) {
  const [cmd, argv] = cliArgv([
    "run",
    "--confdir",
    await testConfdir(),
    "--",
    "sh",
    "-c",
    script,
  ]);
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`never ready: ${out}`)),
      60_000,
    );
    const onData = (d: Uint8Array) => {
      out += String(d);
      if (out.includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
  });
  process.kill(child.pid!, signal);
  const code = await exited;
  return { code, out };
}

describe("mitm run: status, signals, environment", () => {
  test("the command's status; 128 + signal when a signal ended it", async () => {
    assert.equal((await mitmRun(["--", "sh", "-c", "exit 3"])).code, 3);
    assert.equal((await mitmRun(["--", "true"])).code, 0);
    assert.equal(
      (await mitmRun(["--", "sh", "-c", "kill -TERM $$"])).code,
      128 + 15,
    );
  });

  test("a command that does not exist: 127 and one line", async () => {
    const r = await mitmRun(["-q", "--", "no-such-command-for-mitm-run"]);
    assert.equal(r.code, 127);
    assert.equal(
      r.stderr.trim(),
      "mitm: cannot run no-such-command-for-mitm-run: command not found.",
    );
  });

  test("no command, or no -- before it, is a usage error", async () => {
    const r = await mitmRun([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing required argument/);
    // Without --, curl's -s would be taken for mitm's --scripts.
    const noDashes = await mitmRun(["curl", "-s", "http://127.0.0.1:9/"]);
    assert.equal(noDashes.code, 2);
    assert.equal(
      noDashes.stderr,
      'mitm: "run" needs -- before the command, as in: mitm run -w flows.jsonl -- curl -s URL. ' +
        'Run "mitm --help" for usage.\n',
    );
  });

  test("a mode programs cannot use through HTTP_PROXY is a usage error", async () => {
    const r = await mitmRun(["--mode", "socks5", "--", "true"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mitm: this command needs a regular or upstream mode/m);
  });

  test("SIGTERM sent to mitm reaches the command, and its status is ours", async () => {
    const r = await signalled(
      `trap 'echo got-term; exit 5' TERM; echo ready; while :; do sleep 0.1; done`,
      "SIGTERM",
    );
    assert.equal(r.code, 5, r.out);
    assert.match(r.out, /got-term/);
  });

  test("SIGINT sent to mitm alone (no terminal) reaches the command", async () => {
    const r = await signalled(
      `trap 'echo got-int; exit 6' INT; echo ready; while :; do sleep 0.1; done`,
      "SIGINT",
    );
    assert.equal(r.code, 6, r.out);
    assert.match(r.out, /got-int/);
  });

  test("the environment: proxy variables, no NO_PROXY, a bundle of system roots + CA", async () => {
    const script = 'printf "%s\\n" "$HTTP_PROXY" "$https_proxy" "$NO_PROXY$no_proxy" ' +
      '"$SSL_CERT_FILE" "$NODE_EXTRA_CA_CERTS" "$NODE_OPTIONS"';
    const r = await mitmRun(["-q", "--", "sh", "-c", script], {
      env: {
        ...process.env,
        NO_PROXY: "localhost,127.0.0.1",
        no_proxy: "localhost",
      } as Record<
        string,
        string
      >,
    });
    assert.equal(r.code, 0, r.stderr);
    const [httpProxy, httpsProxy, noProxy, bundle, extra, nodeOptions] = r
      .stdout.split("\n");
    assert.match(httpProxy, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(httpsProxy, httpProxy);
    assert.equal(noProxy, "");
    assert.equal(extra, (await testCa()).certPemFile);
    assert.match(nodeOptions, /--require \S+node-preload\.cjs$/);
    // The files were removed when the run ended.
    assert.equal(existsSync(bundle), false);
    // What the bundle holds is checked by a command that reads it while it exists.
    const count = await mitmRun([
      "-q",
      "--",
      "sh",
      "-c",
      'grep -c "BEGIN CERTIFICATE" "$SSL_CERT_FILE"',
    ]);
    const system = readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8")
      .split("BEGIN CERTIFICATE").length - 1;
    assert.equal(Number(count.stdout.trim()), system + 1);
  });
});
