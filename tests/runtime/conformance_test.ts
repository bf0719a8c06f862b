/**
 * Every Network implementation usable on this runtime passes the same behaviour checks over real
 * loopback sockets (src/runtime/shared/conformance.ts): the default one and node:net.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkNetwork, loadNetwork } from "../../src/runtime/shared/conformance.ts";
import { runtime } from "../../src/runtime/mod.ts";

const implementations = ["default", "node_net", `${runtime.name}_native`];
if (runtime.name === "deno") implementations.push("deno_mixed");

for (const name of implementations) {
  test(`network implementation ${name} passes the conformance checks`, {
    timeout: 120_000,
  }, async () => {
    const results = await checkNetwork(await loadNetwork(name));
    assert.ok(results.length >= 7, `only ${results.length} checks ran`);
    const failures = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
    assert.deepEqual(failures, []);
  });
}
