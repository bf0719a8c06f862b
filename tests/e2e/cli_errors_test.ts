/**
 * Mistakes on the real command line end in one line and an exit status, never a stack trace:
 * unwritable -w and --confdir, files that are not recordings, a closed output pipe, mistyped
 * subcommands, addresses that are not on this machine, and intercept without the web UI.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FlowRecorder } from "../../src/flow/record_file.ts";
import { richFlow, simpleFlow } from "../flow/helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";
import { cliArgv, run, startProxyProcess } from "./helpers.ts";
import { tempDir } from "./https_helpers.ts";

async function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(args);
  return await run(cmd, argv, { timeoutMs: 30_000 });
}

/** The proxy's command line with the shared test CA, on a free port, without the web UI. */
async function mitmProxy(args: string[]) {
  return await mitm(["-p", "0", "--no-web", "--confdir", await testConfdir(), ...args]);
}

function assertOneLine(stderr: string, what: string): void {
  assert.equal(stderr.trimEnd().split("\n").length, 1, `${what}: ${stderr}`);
  assert.match(stderr, /^mitm: /, what);
  assert.doesNotMatch(stderr, /\n\s+at |error: Uncaught|\^/, what);
}

test("-w into a directory that does not exist: one line naming it, exit 2, no proxy", async () => {
  const r = await mitmProxy(["-w", "/nonexistent/dir/f.jsonl"]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assertOneLine(r.stderr, "-w");
  assert.match(r.stderr, /\/nonexistent\/dir\/f\.jsonl/);
  assert.match(r.stderr, /the directory \/nonexistent\/dir does not exist/);
  assert.doesNotMatch(r.stdout, /listening/);
});

test("a --confdir that cannot be created: one mitm: line, exit 1", async () => {
  // Nothing can be created under /proc, not even by root.
  for (const args of [["-p", "0", "--no-web"], ["ca", "path"]]) {
    const r = await mitm([...args, "--confdir", "/proc/mitm-test/conf"]);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assertOneLine(r.stderr, args.join(" "));
    assert.match(r.stderr, /cannot create the configuration directory \/proc\/mitm-test\/conf/);
    assert.match(r.stderr, /no such file or directory/);
  }
});

test("mitm read of a file with no flow in it: one line, exit 1; bad lines in a recording are skipped", async () => {
  const tmp = tempDir("mitm-read-");
  try {
    const text = join(tmp.dir, "notes.txt");
    writeFileSync(text, 'hello\nworld\n{"not": "a flow"}\n');
    for (const args of [["read", text], ["har", text], ["-r", text]]) {
      const r = await mitm(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assertOneLine(r.stderr, args.join(" "));
      assert.match(r.stderr, /notes\.txt is not a recording \(-w\) or HAR file/);
      assert.equal(r.stdout, "");
    }

    const dir = await mitm(["read", tmp.dir]);
    assert.equal(dir.code, 1, dir.stderr);
    assertOneLine(dir.stderr, "read DIR");
    assert.match(dir.stderr, /cannot read .*: it is a directory/);

    // A good recording with a few bad lines: the flows are printed, each bad line reported.
    const rec = join(tmp.dir, "flows.jsonl");
    const recorder = new FlowRecorder(rec);
    recorder.write(simpleFlow());
    recorder.close();
    writeFileSync(rec, "garbage line\n", { flag: "a" });
    const more = new FlowRecorder(rec);
    more.write(richFlow());
    more.close();
    const r = await mitm(["read", rec]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split("\n").length, 2, r.stdout);
    assert.match(r.stderr, /^mitm: .*flows\.jsonl: skipped line 2: not JSON/);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  } finally {
    tmp.remove();
  }
});

test(
  "mitm read into a closed pipe (| head -1) ends quietly with 0",
  { timeout: 60_000 },
  async () => {
    const tmp = tempDir("mitm-pipe-");
    try {
      // Far more output than a pipe holds (64 KiB), so that writes meet the closed pipe.
      const file = join(tmp.dir, "big.jsonl");
      const rec = new FlowRecorder(file);
      for (let i = 0; i < 200; i++) rec.write(simpleFlow(new Uint8Array(20_000).fill(0x41)));
      rec.close();
      const [cmd, argv] = cliArgv(["read", file, "-d", "3"]);
      // Where the write meets the closed pipe varies from run to run: try a few.
      for (let i = 0; i < 3; i++) {
        const r = await run("bash", [
          "-c",
          '"$0" "$@" | head -1; echo "mitm exited with ${PIPESTATUS[0]}" >&2',
          cmd,
          ...argv,
        ], { timeoutMs: 30_000 });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.split("\n").length, 2, r.stdout.slice(0, 500));
        assert.equal(r.stderr, "mitm exited with 0\n");
      }
    } finally {
      tmp.remove();
    }
  },
);

test("a first word within two edits of a subcommand is refused with 'did you mean'", async () => {
  const cases: Array<[string[], string]> = [
    [["raed", "f.jsonl"], "read"],
    [["consle"], "console"],
    [["hra", "f.jsonl"], "har"],
    [["replya", "f.jsonl"], "replay"],
  ];
  for (const [args, meant] of cases) {
    const r = await mitmProxy(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assertOneLine(r.stderr, args.join(" "));
    assert.match(
      r.stderr,
      new RegExp(`"${args[0]}" is not a command; did you mean "mitm ${meant}"`),
    );
    assert.doesNotMatch(r.stdout, /listening/);
  }
});

test("any other FILTER works as before, and the startup lines name it", async () => {
  for (const filter of [["example"], ["~u", "raed"], ["~d", "example.com"]]) {
    const proxy = await startProxyProcess(filter);
    try {
      assert.match(
        proxy.output(),
        new RegExp(`Showing: only flows matching the filter "${filter.join(" ")}"`),
      );
    } finally {
      assert.equal(await proxy.stop(), 0, proxy.output());
    }
  }
});

test("--set intercept with --no-web warns that nothing can resume paused flows", async () => {
  const proxy = await startProxyProcess(["--no-web", "--set", "intercept=~q"]);
  try {
    const warnings = proxy.output().split("\n").filter((l) => /intercept/.test(l));
    assert.equal(warnings.length, 1, proxy.output());
    assert.match(warnings[0], /^warning: --set intercept does nothing with --no-web/);
    assert.match(warnings[0], /nothing could resume paused flows/);
  } finally {
    await proxy.stop();
  }
  const quiet = await startProxyProcess(["--set", "intercept=~q", "--web-port", "0"]);
  try {
    assert.doesNotMatch(quiet.output(), /intercept/);
  } finally {
    await quiet.stop();
  }
});

test("binding an address that is not on this machine says so", async () => {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737): on no interface here. Binding sends no traffic.
  const listen = await mitmProxy(["--listen-host", "192.0.2.1"]);
  assert.equal(listen.code, 1, listen.stdout + listen.stderr);
  assertOneLine(listen.stderr, "--listen-host");
  assert.match(
    listen.stderr,
    /^mitm: cannot listen on 192\.0\.2\.1:0: address not available on this machine\./,
  );
  assert.doesNotMatch(listen.stderr, /unreachable/);

  const web = await mitm([
    "-p",
    "0",
    "--confdir",
    await testConfdir(),
    "--web-port",
    "0",
    "--web-host",
    "192.0.2.1",
  ]);
  assert.equal(web.code, 1, web.stdout + web.stderr);
  assertOneLine(web.stderr, "--web-host");
  assert.match(
    web.stderr,
    /^mitm: cannot serve the web UI on 192\.0\.2\.1:0: address not available on this machine\. Choose an address of this machine with --web-host/,
  );
});
