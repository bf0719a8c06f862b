/** Which first words are taken as mistyped subcommands, and which stay filters. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { editDistance, mistypedCommand, PENDING_SUBCOMMANDS } from "../../src/cli/typos.ts";
import { buildProgram } from "../../src/cli/program.ts";

const COMMANDS = [...buildProgram({}).commands.map((c) => c.name()), ...PENDING_SUBCOMMANDS];

test("edit distance counts a swapped pair as one edit", () => {
  assert.equal(editDistance("raed", "read"), 1);
  assert.equal(editDistance("consle", "console"), 1);
  assert.equal(editDistance("replya", "replay"), 1);
  assert.equal(editDistance("read", "read"), 0);
  assert.equal(editDistance("", "har"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

test("words within two edits of a command are typos; other words are filters", () => {
  for (const c of ["ca", "har", "read", "replay", "console", "mcp"]) {
    assert.ok(COMMANDS.includes(c), c);
  }
  const typos: Array<[string, string]> = [
    ["raed", "read"],
    ["reed", "read"],
    ["consle", "console"],
    ["CONSOLE", "console"],
    ["replya", "replay"],
    ["hra", "har"],
    ["brwoser", "browser"],
    ["dif", "diff"],
  ];
  for (const [word, meant] of typos) assert.equal(mistypedCommand(word, COMMANDS), meant, word);
  // Filter syntax is never a command, nor is a word sharing nothing with one.
  for (const word of ["example", "example.com", "~u", "/api/", "google", "js", "css", "x"]) {
    assert.equal(mistypedCommand(word, COMMANDS), null, word);
  }
});
