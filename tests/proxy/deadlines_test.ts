/** The one-timer deadline sweeper behind client and origin idle/head timeouts. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Deadlines, type Expiring, tickFor } from "../../src/proxy/driver/deadlines.ts";

function item(): Expiring & { expired: number } {
  return {
    deadline: 0,
    expired: 0,
    expire() {
      this.expired++;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a due deadline expires once, a cleared or future one does not", async () => {
  const d = new Deadlines(10);
  const due = item(), cleared = item(), future = item();
  for (const i of [due, cleared, future]) d.watch(i);
  due.deadline = Date.now() + 20;
  cleared.deadline = Date.now() + 20;
  future.deadline = Date.now() + 60_000;
  cleared.deadline = 0; // what arming then clearing a timeout looks like
  await sleep(80);
  assert.equal(due.expired, 1);
  assert.equal(due.deadline, 0, "reset so that it does not fire again");
  assert.equal(cleared.expired, 0);
  assert.equal(future.expired, 0);
  d.stop();
});

test("an unwatched item never expires, and the sweeper stops with nothing to watch", async () => {
  const d = new Deadlines(10);
  const a = item();
  d.watch(a);
  a.deadline = Date.now() + 10;
  d.unwatch(a);
  await sleep(50);
  assert.equal(a.expired, 0);
  // Watching again restarts the sweeper.
  a.deadline = Date.now() + 10;
  d.watch(a);
  await sleep(60);
  assert.equal(a.expired, 1);
  d.unwatch(a);
});

test("an expiry that unwatches another due item keeps that one from expiring", async () => {
  const d = new Deadlines(10);
  const second = item();
  const first: Expiring & { expired: number } = {
    deadline: 0,
    expired: 0,
    expire() {
      this.expired++;
      d.unwatch(second); // a closing connection clears its other timers
    },
  };
  d.watch(first);
  d.watch(second);
  first.deadline = second.deadline = Date.now() + 10;
  await sleep(60);
  assert.equal(first.expired, 1);
  assert.equal(second.expired, 0);
  d.stop();
});

test("many items watched and unwatched in any order: exactly the watched due ones expire", async () => {
  const d = new Deadlines(10);
  const items = Array.from({ length: 50 }, () => item());
  for (const i of items) d.watch(i);
  d.watch(items[0]); // twice is once
  for (let k = 0; k < 50; k += 3) d.unwatch(items[k]);
  d.unwatch(items[0]); // twice is once
  const due = Date.now() + 10;
  for (const i of items) i.deadline = due;
  await sleep(80);
  items.forEach((i, k) => assert.equal(i.expired, k % 3 === 0 ? 0 : 1, `item ${k}`));
  d.stop();
});

test("tickFor: a quarter of the shortest timeout, between 25 ms and 1 s", () => {
  assert.equal(tickFor(60_000, 30_000), 1000);
  assert.equal(tickFor(60_000, 400), 100);
  assert.equal(tickFor(50), 25);
});
