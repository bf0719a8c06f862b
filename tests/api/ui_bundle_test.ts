/**
 * The web UI bundle that the server embeds (src/api/ui/bundle.gen.ts) must be what
 * scripts/build_ui.ts makes from src/webui/ now: a stale bundle would ship an old UI.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../e2e/helpers.ts";

test(
  "the committed web UI bundle is built from the current src/webui",
  { timeout: 120_000 },
  () => {
    const run = spawnSync(
      join(ROOT, "node_modules/.bin/bun"),
      [join(ROOT, "scripts/build_ui.ts"), "--check"],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(run.status, 0, `${run.stderr}${run.stdout}`);
    assert.match(run.stdout, /up to date/);
  },
);
