/**
 * The web UI's sorted list, as pure code: the header's three states, and where live flows go in
 * a sorted list (by start: in place, ties after the equal ones ascending and before them
 * descending, as the store orders them; past the loaded pages: left to them; any other column:
 * counted for the hint).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { applySorted, nextSort, UNSORTED } from "../../src/webui/sorting.ts";
import { FlowStore } from "../../src/webui/store.ts";
import type { FlowsEvent, Summary } from "../../src/webui/types.ts";

const flow = (id: string, start: number) =>
  ({ id, timestamps: { start }, request: { path: `/${id}` } }) as unknown as Summary;

const event = (upsert: Summary[], remove: string[] = [], clear = false): FlowsEvent => ({
  upsert,
  remove,
  clear,
  stats: { count: 0, dropped: 0, paused: 0, intercept: "" },
});

const ids = (store: FlowStore) => store.flows.map((f) => f.id);

describe("sorting the web UI's list", () => {
  test("a header goes ascending, descending, then back to arrival order", () => {
    const asc = nextSort(UNSORTED, "size");
    assert.deepEqual(asc, { key: "size", descending: false });
    const desc = nextSort(asc, "size");
    assert.deepEqual(desc, { key: "size", descending: true });
    assert.deepEqual(nextSort(desc, "size"), UNSORTED);
    assert.deepEqual(nextSort(desc, "path"), { key: "path", descending: false });
  });

  test("sorted by start, new flows go where the order puts them", () => {
    const store = new FlowStore();
    store.replaceAll([flow("a", 10), flow("b", 20), flow("c", 20), flow("d", 30)]);
    const change = applySorted(store, event([flow("x", 20), flow("y", 5)]), "start", false, true);
    assert.deepEqual(ids(store), ["y", "a", "b", "c", "x", "d"]);
    assert.deepEqual(change, { added: 2, removed: 0, elsewhere: 0, hinted: 0 });

    const down = new FlowStore();
    down.replaceAll([flow("d", 30), flow("c", 20), flow("b", 20), flow("a", 10)]);
    applySorted(down, event([flow("x", 20), flow("z", 40)]), "start", true, true);
    assert.deepEqual(ids(down), ["z", "d", "x", "c", "b", "a"]);
  });

  test("a flow sorting after the loaded pages is left to them; a listed one stays put", () => {
    const store = new FlowStore();
    store.replaceAll([flow("a", 10), flow("b", 20)]);
    const changed = { ...flow("a", 10), marked: true } as Summary;
    const change = applySorted(store, event([flow("late", 99), changed]), "start", false, false);
    assert.deepEqual(ids(store), ["a", "b"]);
    assert.equal(store.get("a")!.marked, true);
    assert.deepEqual(change, { added: 0, removed: 0, elsewhere: 1, hinted: 0 });
    // With every flow loaded it belongs at the end.
    applySorted(store, event([flow("late", 99)]), "start", false, true);
    assert.deepEqual(ids(store), ["a", "b", "late"]);
  });

  test("sorted by another column, new flows are counted for the hint, not put in", () => {
    const store = new FlowStore();
    store.replaceAll([flow("a", 10), flow("b", 20), flow("c", 30)]);
    const change = applySorted(store, event([flow("n", 40)], ["b", "gone"]), "size", false, true);
    assert.deepEqual(ids(store), ["a", "c"]);
    assert.deepEqual(change, { added: 0, removed: 1, elsewhere: 1, hinted: 1 });
    applySorted(store, event([flow("m", 50)], [], true), "size", false, true);
    assert.deepEqual(ids(store), []);
  });
});
