/**
 * `mitm console` as a person uses it, in a real terminal (tmux): flows appear as curl sends them,
 * Enter shows the request, f narrows the list, i pauses a request, e edits a header through
 * $EDITOR, a resumes it, q then y quits and the terminal is given back.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { cliArgv, curl } from "./helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";

const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const skip = hasTmux ? false : "tmux is not installed (apt-get install tmux)";

/**
 * A tmux server of our own, so the test never touches a user's sessions; a new one for each test
 * group (newServer), because a server just killed may still hold its socket while the next starts.
 */
let socket = `mitm-console-test-${process.pid}`;
let servers = 0;
const newServer = () => (socket = `mitm-console-test-${process.pid}-${++servers}`);
const tmux = (...args: string[]) =>
  execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
const screen = () => tmux("capture-pane", "-p", "-t", "ui");
const keys = (...k: string[]) => tmux("send-keys", "-t", "ui", ...k);

async function waitFor(what: RegExp, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    last = screen();
    if (what.test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the screen never showed ${what}; it shows:\n${last}`);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

describe("mitm console in tmux", { skip }, () => {
  let origin: http.Server;
  let originUrl = "";
  let dir = "";
  let proxyUrl = "";

  before(async () => {
    newServer();
    origin = http.createServer((req, res) => {
      res.setHeader("content-type", "text/plain");
      res.end(`path=${req.url} x-test=${req.headers["x-test"] ?? ""}`);
    });
    await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), "mitm-console-"));
    // The "editor" appends a header to the file it is given, as a person would in vim.
    const editor = join(dir, "editor.sh");
    writeFileSync(editor, '#!/bin/sh\nprintf "X-Test: edited\\n" >> "$1"\n');
    chmodSync(editor, 0o755);
    const [cmd, args] = cliArgv([
      "console",
      "-p",
      "0",
      "--no-web",
      "--confdir",
      await testConfdir(),
    ]);
    const line = [cmd, ...args].map(shellQuote).join(" ");
    tmux(
      "new-session",
      "-d",
      "-s",
      "ui",
      "-x",
      "100",
      "-y",
      "30",
      `EDITOR=${shellQuote(editor)} ${line}; echo "EXITED $?"; sleep 600`,
    );
    const first = await waitFor(/proxy at (http:\/\/127\.0\.0\.1:\d+)/);
    proxyUrl = /proxy at (http:\/\/127\.0\.0\.1:\d+)/.exec(first)![1];
  });

  after(() => {
    try {
      tmux("kill-server");
    } catch { /* already gone */ }
    origin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("flows appear in the list as they happen", async () => {
    const r = await curl(["-x", proxyUrl, `${originUrl}/hello`, "-H", "X-Sent: 1"]);
    assert.equal(r.stdout, "path=/hello x-test=");
    await curl(["-x", proxyUrl, `${originUrl}/other`]);
    const s = await waitFor(/\/other .*200/);
    assert.match(s, /GET\s+127\.0\.0\.1:\d+\s+\/hello\s+200/);
    assert.match(s, /\[2 flows\]/);
    assert.match(s, /text\/plain/, "100 columns have room for the type column");
  });

  test("follows resizes: 80 columns drop the type column, 100 bring it back", async () => {
    tmux("resize-window", "-t", "ui", "-x", "80", "-y", "24");
    await waitFor(/\/hello\s+200\s+19b/);
    tmux("resize-window", "-t", "ui", "-x", "100", "-y", "30");
    await waitFor(/\/hello\s+200 text\/plain/);
  });

  test("Enter shows the request headers; q goes back", async () => {
    keys("k", "Enter");
    const s = await waitFor(/X-Sent: 1/);
    assert.match(s, /GET http:\/\/127\.0\.0\.1:\d+\/hello HTTP\/1\.1/);
    keys("Tab");
    await waitFor(/HTTP\/1\.1 200 OK/);
    keys("q");
    await waitFor(/\[2 flows\]/);
  });

  test("f narrows the list; a bad filter is refused with its position", async () => {
    keys("f", "~u other", "Enter");
    let s = await waitFor(/\[1 flows\]\s+filter: ~u other/);
    assert.doesNotMatch(s, /\/hello/);
    keys("f", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
    keys("~c", "Enter");
    s = await waitFor(/filter error at position/);
    assert.match(s, /filter: ~u other/, "the old filter stays in force");
    keys("Escape", "f", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
    keys("BSpace", "Enter");
    await waitFor(/\[2 flows\]/);
  });

  test("i pauses a request, e edits a header in $EDITOR, a resumes it", async () => {
    keys("i", "~q & ~u /paused", "Enter");
    await waitFor(/intercept: ~q & ~u \/paused/);
    const answer = curl(["-x", proxyUrl, `${originUrl}/paused`]);
    await waitFor(/1 paused/);
    keys("G", "e", "h"); // G: to the newest flow, the paused one
    await waitFor(/edited the request headers/);
    keys("a");
    const r = await answer;
    assert.equal(r.stdout, "path=/paused x-test=edited");
    await waitFor(/\/paused .*200/);
  });

  test("q asks, y quits with status 0 and gives the terminal back", async () => {
    keys("q");
    await waitFor(/Quit mitm\.ts\? \(y\/n\)/);
    keys("y");
    const s = await waitFor(/EXITED 0/);
    assert.doesNotMatch(s, /mitm\.ts console/, "the console's screen is gone");
    assert.equal(tmux("display-message", "-p", "-t", "ui", "#{alternate_on}").trim(), "0");
    // The shell has its terminal back in cooked mode: typed text is echoed by the line discipline.
    keys("echo typed-after-exit", "Enter");
    await waitFor(/typed-after-exit/);
  });
});

describe("mitm console and SIGTERM", { skip }, () => {
  test("SIGTERM closes the proxy and gives the terminal back, status 0", async () => {
    const confdir = mkdtempSync(join(tmpdir(), "mitm-console-term-"));
    newServer();
    try {
      // Its own confdir, so that pgrep finds this process and no other.
      const [cmd, args] = cliArgv(["console", "-p", "0", "--no-web", "--confdir", confdir]);
      const line = [cmd, ...args].map(shellQuote).join(" ");
      tmux(
        "new-session",
        "-d",
        "-s",
        "ui",
        "-x",
        "100",
        "-y",
        "30",
        `${line}; echo "EXITED $?"; sleep 600`,
      );
      await waitFor(/proxy at http:\/\/127\.0\.0\.1:\d+/);
      // The runtime's process, not the shell around it (whose command line names it too).
      const pid = execFileSync("pgrep", ["-f", `console .*${confdir}`], { encoding: "utf8" })
        .trim().split("\n")
        .find((p) => !readFileSync(`/proc/${p}/cmdline`, "utf8").includes("EXITED"))!;
      process.kill(Number(pid), "SIGTERM");
      await waitFor(/EXITED 0/);
      assert.equal(tmux("display-message", "-p", "-t", "ui", "#{alternate_on}").trim(), "0");
    } finally {
      try {
        tmux("kill-server");
      } catch { /* already gone */ }
      rmSync(confdir, { recursive: true, force: true });
    }
  });
});
