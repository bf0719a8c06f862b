/**
 * list_flows' paging over the store's pages (newest first, bounded by after/before): the oldest
 * flows after a cursor are found by walking back, and a short oldest page is filled up.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ControlApi, FlowList, FlowSummary, ListQuery } from "../../src/mcp/control_api.ts";
import { flowsAfter, newestFlows } from "../../src/mcp/flow_pages.ts";

/** A ControlApi whose listFlows pages `count` flows (ids "1".."count") as /api/flows does. */
function pagedApi(count: number): { api: ControlApi; calls: ListQuery[] } {
  const ids = Array.from({ length: count }, (_, i) => String(i + 1));
  const calls: ListQuery[] = [];
  const listFlows = (query: ListQuery): Promise<FlowList> => {
    calls.push(query);
    const inRange = ids.filter((id) =>
      (query.after === undefined || Number(id) > Number(query.after)) &&
      (query.before === undefined || Number(id) < Number(query.before))
    );
    const limit = query.limit ?? inRange.length;
    const flows = inRange.slice(Math.max(0, inRange.length - limit));
    return Promise.resolve({
      flows: flows.map((id) => ({ id }) as FlowSummary),
      total: ids.length,
      more: inRange.length > flows.length,
      count: ids.length,
      dropped: 0,
      paused: 0,
      intercept: "",
    });
  };
  return { api: { listFlows } as unknown as ControlApi, calls };
}

const idsOf = (flows: FlowSummary[]) => flows.map((f) => f.id);

test("newestFlows: one page of the newest, counted against all matches", async () => {
  const { api, calls } = pagedApi(7);
  const got = await newestFlows(api, undefined, 3);
  assert.deepEqual(idsOf(got.shown), ["5", "6", "7"]);
  assert.equal(got.matching, 7);
  assert.deepEqual(calls, [{ filter: undefined, limit: 3 }]);
});

test("flowsAfter: the oldest after the cursor, a short oldest page filled from the next", async () => {
  const { api } = pagedApi(12);
  // After 2: 3..12 (10 flows); pages of 4 from the newest: 9-12, 5-8, 3-4.
  const got = await flowsAfter(api, undefined, "2", 4);
  assert.deepEqual(idsOf(got.shown), ["3", "4", "5", "6"]);
  assert.equal(got.matching, 10);
});

test("flowsAfter: pages that divide evenly, and fewer flows than the limit", async () => {
  const even = await flowsAfter(pagedApi(9).api, "~q", "1", 4);
  assert.deepEqual(idsOf(even.shown), ["2", "3", "4", "5"]);
  assert.equal(even.matching, 8);
  const few = pagedApi(5);
  const got = await flowsAfter(few.api, undefined, "3", 10);
  assert.deepEqual(idsOf(got.shown), ["4", "5"]);
  assert.equal(got.matching, 2);
  assert.equal(few.calls.length, 1);
  const none = await flowsAfter(pagedApi(5).api, undefined, "5", 10);
  assert.deepEqual(none.shown, []);
  assert.equal(none.matching, 0);
});
