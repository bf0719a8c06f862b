/**
 * The last-resort guard (src/runtime/last_resort.ts): an error thrown where no caller can catch
 * it does not end the process; one a connection claims goes to that connection alone, and one
 * nobody claims is reported in one line, not swallowed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { run } from "../e2e/helpers.ts";
import { runtime } from "../../src/runtime/mod.ts";

test(
  "uncaught errors: claimed ones go to their claimant, the rest are reported, the process lives",
  {
    timeout: 60_000,
  },
  async () => {
    const child = fileURLToPath(new URL("./last_resort_child.ts", import.meta.url));
    const args = runtime.name === "deno" ? ["run", "-A", child] : [child];
    const r = await run(process.execPath, args, { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const { reported, claimed } = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.deepEqual(claimed, ["belongs to connection 7"]);
    assert.equal(reported.length, 2, JSON.stringify(reported));
    assert.ok(reported.every((l: string) => !l.includes("\n")), "one line each");
    assert.ok(reported.some((l: string) => /uncaught exception.*TypeError: nobody's/.test(l)));
    assert.ok(
      reported.some((l: string) => /unhandled rejection.*a rejection nobody awaits/.test(l)),
    );
  },
);
