/** The bench report's arithmetic (scripts/bench/report.ts): median runs and ratios, no sockets. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { medianRun, type Outcome, ratio } from "../../scripts/bench/report.ts";

test("medianRun picks the median run by the primary metric and says the range", () => {
  const runs: Outcome[] = [
    { rps: 900, p99_ms: 9 },
    { rps: 1200, p99_ms: 3 },
    { rps: 1000, p99_ms: 5 },
  ];
  assert.deepEqual(medianRun(runs, "rps"), {
    rps: 1000,
    p99_ms: 5,
    rps_range: "900–1200",
    rounds: 3,
  });
});

test("medianRun takes the lower middle of an even count and counts failed rounds", () => {
  const runs: Outcome[] = [
    { rps: 40 },
    { error: "refused" },
    { rps: 10 },
    { rps: 30 },
    { rps: 20 },
  ];
  assert.deepEqual(medianRun(runs, "rps"), {
    rps: 20,
    rps_range: "10–40",
    rounds: 4,
    failed_rounds: 1,
  });
});

test("medianRun keeps a single outcome as it is, and an error when every round failed", () => {
  assert.deepEqual(medianRun([{ rps: 5 }], "rps"), { rps: 5 });
  assert.deepEqual(medianRun([{ error: "a" }, { error: "b" }], "rps"), { error: "a" });
});

test("ratio says how many times better ours is, whichever way the metric points", () => {
  const sc = (higherIsBetter: boolean) => ({
    title: "t",
    primary: "v",
    higherIsBetter,
    results: { ours: { v: 30 }, peer: { v: 10 }, broken: { error: "x" } },
  });
  assert.equal(ratio(sc(true), "ours", "peer"), 3);
  assert.equal(ratio(sc(false), "ours", "peer"), 1 / 3);
  assert.equal(ratio(sc(true), "ours", "broken"), null);
});
