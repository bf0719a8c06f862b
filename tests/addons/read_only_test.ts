// Read-only addons (Addon.readOnly): a hook only they implement is "observed only" and `notify`
// runs it without waiting or a snapshot; one other addon implementing it makes it a normal hook.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { AddonManager } from "../../src/addons/manager.ts";
import type { Addon } from "../../src/addons/types.ts";
import { Flow } from "../../src/flow/flow.ts";

function quietLog() {
  const errors: string[] = [];
  const log = {
    debug() {},
    info() {},
    warn() {},
    error: (m: string) => void errors.push(m),
  } as unknown as ConstructorParameters<typeof AddonManager>[0];
  return { log, errors };
}

describe("read-only addons", () => {
  test("observedOnly holds while every implementer is read-only; notify runs them in order", async () => {
    const { log, errors } = quietLog();
    const addons = new AddonManager(log);
    const seen: string[] = [];
    const store: Addon = {
      name: "store",
      readOnly: true,
      requestheaders: () => void seen.push("store"),
    };
    const broken: Addon = {
      name: "broken",
      readOnly: true,
      requestheaders: () => {
        throw new Error("boom");
      },
    };
    await addons.add(store, broken);
    assert.equal(addons.observedOnly("requestheaders"), true);
    assert.equal(addons.observedOnly("response"), false, "nobody implements it");
    addons.notify("requestheaders", {} as Flow);
    assert.deepEqual(seen, ["store"]);
    assert.equal(errors.length, 1, "a failing observer is logged, the others still run");
    assert.match(errors[0], /addon broken, hook requestheaders failed: .*boom/);

    const editor: Addon = { name: "editor", requestheaders: () => {} };
    await addons.add(editor);
    assert.equal(addons.observedOnly("requestheaders"), false, "an editing addon makes it wait");
  });

  test("notify returns nothing for hooks done at once, and a promise for those still running", async () => {
    const { log, errors } = quietLog();
    const addons = new AddonManager(log);
    let release = () => {};
    const done: string[] = [];
    await addons.add(
      { name: "sync", readOnly: true, flow_done: () => void done.push("sync") },
      {
        name: "slow",
        readOnly: true,
        flow_done: () =>
          new Promise<void>((resolve) => (release = resolve)).then(() => void done.push("slow")),
      },
      {
        name: "failing",
        readOnly: true,
        flow_done: () => Promise.reject(new Error("late boom")),
      },
    );
    assert.equal(addons.notify("requestheaders", {} as Flow), undefined, "nobody implements it");
    const running = addons.notify("flow_done", {} as Flow);
    assert.ok(running instanceof Promise);
    assert.deepEqual(done, ["sync"]);
    release();
    await running; // does not reject: the failure is logged instead
    assert.deepEqual(done, ["sync", "slow"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /addon failing, hook flow_done failed: .*late boom/);

    const onlySync = new AddonManager(log);
    await onlySync.add({ name: "sync", readOnly: true, flow_done: () => {} });
    assert.equal(onlySync.notify("flow_done", {} as Flow), undefined);
  });
});
