/**
 * Ctrl-C in a real terminal (tmux): the terminal signals the command itself; mitm run neither dies
 * nor passes the signal on a second time, waits for the command, and exits with its status.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { cliArgv, run } from "../e2e/helpers.ts";
import { tempDir } from "../e2e/https_helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";
import { works } from "./helpers.ts";

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function waitFor(what: string, check: () => Promise<boolean> | boolean) {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("Ctrl-C at a terminal reaches the command once; mitm exits with its status", async (t) => {
  if (!(await works("tmux", ["-V"]))) return t.skip("tmux is not installed");
  if (!(await works("bash", ["--version"]))) return t.skip("bash is not installed");
  const tmp = tempDir("mitm-run-tty-");
  const socket = `mitm-run-test-${process.pid}`;
  const tmux = (args: string[]) => run("tmux", ["-L", socket, ...args], { timeoutMs: 30_000 });
  try {
    // The command counts the SIGINTs it gets, keeps going for a while, then exits with 40 + count.
    const child = `n=0; trap 'n=$((n+1)); echo "got int $n"' INT; echo ready; i=0; ` +
      `while [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done; exit $((40+n))`;
    const [cmd, argv] = cliArgv([
      "run",
      "--confdir",
      await testConfdir(),
      "-q",
      "--",
      "sh",
      "-c",
      child,
    ]);
    const status = join(tmp.dir, "status");
    // bash, not sh: dash exits on the Ctrl-C itself, closing the pane; bash waits for mitm.
    const script = join(tmp.dir, "run.sh");
    writeFileSync(
      script,
      `${[cmd, ...argv].map(shellQuote).join(" ")}\necho "status=$?" > ${shellQuote(status)}\n` +
        "sleep 60\n",
    );
    const started = await tmux([
      "new-session",
      "-d",
      "-x",
      "200",
      "-y",
      "50",
      `bash ${shellQuote(script)}`,
    ]);
    assert.equal(started.code, 0, started.stderr);
    const pane = async () => (await tmux(["capture-pane", "-p"])).stdout;
    await waitFor("ready", async () => (await pane()).includes("ready"));
    await tmux(["send-keys", "C-c"]);
    await waitFor("the status file", () => {
      try {
        return readFileSync(status, "utf8").includes("status=");
      } catch {
        return false;
      }
    });
    assert.equal(readFileSync(status, "utf8").trim(), "status=41", await pane());
    const text = await pane();
    assert.match(text, /got int 1/);
    assert.doesNotMatch(text, /got int 2/);
  } finally {
    await tmux(["kill-server"]);
    tmp.remove();
  }
});
