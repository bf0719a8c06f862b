/**
 * The walk-through of examples/record-tests end to end: `mitm run -w flows.jsonl -- npm test`
 * with the API up, then `mitm run -S flows.jsonl -- npm test` with the API stopped, passing
 * offline; without mitm the same tests fail then (so the replay is what made them pass).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { ROOT, run } from "../e2e/helpers.ts";
import { tempDir } from "../e2e/https_helpers.ts";
import { mitmRun, recordedRequests, works } from "./helpers.ts";

const EXAMPLE = join(ROOT, "examples", "record-tests");

/** The example's API on a free port; resolves with its URL and a function that stops it. */
function startApi(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn("node", [join(EXAMPLE, "api.mjs")], {
    env: { ...process.env, API_PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`API did not start: ${out}`)),
      30_000,
    );
    child.stdout!.on("data", (d) => {
      out += String(d);
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          stop: () => {
            process.kill(child.pid!, "SIGTERM");
            return exited;
          },
        });
      }
    });
  });
}

test("examples/record-tests: record npm test, then replay it offline", async (t) => {
  if (!(await works("npm", ["--version"]))) return t.skip("npm is not on PATH");
  const tmp = tempDir("mitm-run-example-");
  const api = await startApi();
  let stopped = false;
  try {
    const flows = join(tmp.dir, "flows.jsonl");
    const env = { ...process.env, API_URL: api.url } as Record<string, string>;
    const recorded = await mitmRun(["-w", flows, "--", "npm", "test"], {
      env,
      cwd: EXAMPLE,
    });
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    assert.match(recorded.stdout, /# pass 3/);
    assert.deepEqual(recordedRequests(flows).sort(), [
      `GET ${api.url}/rates?base=EUR`,
      `GET ${api.url}/rates?base=USD`,
      `GET ${api.url}/rates?base=XYZ`,
    ]);

    await api.stop();
    stopped = true;
    const offline = await run("npm", ["test"], {
      env,
      cwd: EXAMPLE,
      timeoutMs: 120_000,
    });
    assert.notEqual(
      offline.code,
      0,
      "the tests should fail with the API down and no replay",
    );

    const replayed = await mitmRun(
      ["-S", flows, "--set", "server_replay_extra=404", "--", "npm", "test"],
      { env, cwd: EXAMPLE },
    );
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    assert.match(replayed.stdout, /# pass 3/);
  } finally {
    if (!stopped) await api.stop();
    tmp.remove();
  }
});
