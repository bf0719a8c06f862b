/** The replay and rewrite flags on the real command line: bad values are one line, exit 2. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { cliArgv, run } from "../e2e/helpers.ts";
import { testConfdir } from "../fixtures/ca.ts";

async function mitm(args: string[]) {
  const [cmd, argv] = cliArgv(["--confdir", await testConfdir(), "-p", "0", "--no-web", ...args]);
  return await run(cmd, argv, { timeoutMs: 60_000 });
}

test("bad rewrite specs and replay files: one line saying what is wrong, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--map-local", "|only"],
      /^mitm: option map_local: "\|only" is not of the form \|filter\|url-regex\|path .*e\.g\. '/,
    ],
    [
      ["-M", "|a(|b"],
      /^mitm: option map_remote: "\|a\(\|b" has an invalid regular expression "a\("/,
    ],
    [
      ["-H", "/~q/bad name/v"],
      /^mitm: option modify_headers: .* has an invalid header name "bad name"/,
    ],
    [["-B", "/~zz/a/b"], /^mitm: option modify_body: .* has an invalid filter "~zz"/],
    [
      ["--block-list", "/~all/99"],
      /^mitm: option block_list: .* "99" where an HTTP status from 200 to 599 belongs/,
    ],
    [
      ["-S", "/no/such.jsonl"],
      /^mitm: option server_replay: cannot read \/no\/such\.jsonl \(no such file\)/,
    ],
    [
      ["-C", "/no/such.jsonl"],
      /^mitm: option client_replay: cannot read \/no\/such\.jsonl \(no such file\)/,
    ],
    [
      ["--set", "server_replay_extra=drop"],
      /^mitm: option server_replay_extra: "drop" is not one of forward, 404, kill/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await mitm(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});
