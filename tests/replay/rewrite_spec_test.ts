import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  parseBlockList,
  parseMapLocal,
  parseMapRemote,
  parseModifyBody,
  parseModifyHeaders,
  replacementText,
  SpecError,
} from "../../src/addons/builtin/rewrite_spec.ts";
import { OptionError, parseOptionValue } from "../../src/options.ts";
import { tempDir } from "./helpers.ts";

test("spec: the first character is the separator; filter optional; last part may hold it", () => {
  const full = parseMapRemote("|~d example|https://a\\.example/|http://b.example/x|y");
  assert.equal(full.filter?.source, "~d example");
  assert.equal(full.regex.source, "https:\\/\\/a\\.example\\/");
  assert.equal(full.to, "http://b.example/x|y");
  const short = parseMapRemote(":example\\.com:localhost");
  assert.equal(short.filter, null);
  assert.equal(short.to, "localhost");
});

test("spec: modify-headers name, empty value, @file read each time", () => {
  const { dir, remove } = tempDir();
  try {
    const del = parseModifyHeaders("/~q/X-Gone/");
    assert.equal(del.subject, "X-Gone");
    assert.equal(del.replacement, "");
    const file = join(dir, "value.txt");
    writeFileSync(file, "one\n");
    const spec = parseModifyHeaders(`|X-From-File|@${file}`);
    assert.equal(replacementText(spec.replacement), "one\n");
    writeFileSync(file, "two");
    assert.equal(replacementText(spec.replacement), "two");
  } finally {
    remove();
  }
});

test("spec: block list status and 444", () => {
  assert.deepEqual(
    { ...parseBlockList("/~d ads\\.example/404"), filter: null },
    { filter: null, status: 404 },
  );
  assert.equal(parseBlockList("|~u /a/b|444").status, 444);
  assert.equal(parseBlockList("|~u /a/b|444").filter?.source, "~u /a/b");
});

test("spec: map local path and modify body", () => {
  const m = parseMapLocal("|example\\.com/static|/srv/www");
  assert.equal(m.path, "/srv/www");
  assert.equal(m.filter, null);
  const b = parseModifyBody("/~s/hello/goodbye");
  assert.equal(b.replacement, "goodbye");
  assert.equal(b.filter?.source, "~s");
});

test("spec: bad syntax is one line saying what is wrong, with an example", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => parseMapRemote("x"), /is not of the form \|filter\|url-regex\|replacement .*e\.g\. '/],
    [() => parseMapRemote("|nothing"), /is not of the form/],
    [() => parseMapLocal("|~zz|a|b"), /has an invalid filter "~zz"/],
    [() => parseMapLocal("|a(|b"), /has an invalid regular expression "a\("/],
    [() => parseMapLocal("||b"), /has an empty regular expression/],
    [() => parseMapLocal("|a|"), /has an empty local path/],
    [() => parseModifyHeaders("/bad name/v"), /has an invalid header name "bad name"/],
    [() => parseModifyBody("|a|@/no/such/file"), /names a file that cannot be read: \/no\/such/],
    [() => parseBlockList("/~all/20"), /"20" where an HTTP status from 200 to 599 belongs/],
    [() => parseBlockList("/~all/abc"), /"abc" where an HTTP status/],
    [() => parseBlockList("404"), /is not of the form \/filter\/status/],
    [() => parseBlockList("//404"), /has an empty filter \(use ~all/],
  ];
  for (const [fn, message] of cases) {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof SpecError, String(e));
      assert.match(e.message, message);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});

test("spec: --set map_local=... is checked by the option registry", () => {
  assert.deepEqual(parseOptionValue("map_local", "|a|/tmp"), ["|a|/tmp"]);
  assert.throws(
    () => parseOptionValue("block_list", "/~all/1000"),
    (e: unknown) =>
      e instanceof OptionError &&
      /^option block_list: "\/~all\/1000" has "1000" where an HTTP status/.test(e.message),
  );
  assert.throws(
    () => parseOptionValue("server_replay_extra", "drop"),
    /option server_replay_extra: "drop" is not one of forward, 404, kill/,
  );
  assert.throws(
    () => parseOptionValue("connection_strategy", "later"),
    /is not one of eager, lazy/,
  );
});
