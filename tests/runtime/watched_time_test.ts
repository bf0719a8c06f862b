/**
 * watchedTimeout: time the event loop spent stalled does not count, so what became ready during a
 * stall is handled before the timeout fires; otherwise it fires like a timer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { watchedTimeout } from "../../src/runtime/shared/watched_time.ts";

function stallEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* busy */ }
}

test("a stall longer than the timeout does not make it fire before work queued after the stall", async () => {
  const order: string[] = [];
  const plain = new Promise<void>((r) => setTimeout(r, 200));
  const watched = watchedTimeout(200);
  plain.then(() => order.push("plain timer"));
  watched.elapsed.then(() => order.push("watched timeout"));
  stallEventLoop(600);
  // Ready right after the stall, as bytes that arrived during it are.
  await new Promise<void>((r) => setTimeout(r, 0)).then(() => order.push("ready after the stall"));
  await watched.elapsed;
  assert.deepEqual(order, ["plain timer", "ready after the stall", "watched timeout"]);
});

test("without a stall it fires once the time has passed; cancelled, never", async () => {
  const started = Date.now();
  await watchedTimeout(100).elapsed;
  assert.ok(Date.now() - started >= 95, `fired after ${Date.now() - started} ms`);
  const cancelled = watchedTimeout(50);
  let fired = false;
  cancelled.elapsed.then(() => (fired = true));
  cancelled.cancel();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fired, false);
});
