/**
 * Server replay with 100,000 recorded flows: written to a real recording file, loaded by the
 * server replay addon's loader, and looked up by match key. Asserts on correctness only; the
 * timings are printed for the record.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { FlowRecorder } from "../../src/flow/record_file.ts";
import { hasReplayableResponse, loadFlows } from "../../src/replay/load.ts";
import { DEFAULT_MATCH_OPTIONS } from "../../src/replay/match_key.ts";
import { ReplayIndex } from "../../src/replay/replay_index.ts";
import { bodyText, recordedFlow, tempDir } from "./helpers.ts";

const N = 100_000;

test("index: 100k recorded flows load and every one is found by its request", () => {
  const { dir, remove } = tempDir();
  try {
    const file = join(dir, "big.jsonl");
    let t = performance.now();
    const rec = new FlowRecorder(file);
    for (let i = 0; i < N; i++) {
      const post = i % 3 === 0;
      rec.write(recordedFlow({
        method: post ? "POST" : "GET",
        url: `http://host${i % 50}.example:${8000 + (i % 7)}/items/${i}?page=${i % 11}`,
        body: post ? `{"id":${i}}` : "",
        responseBody: `answer ${i}`,
      }));
    }
    rec.close();
    const writeMs = performance.now() - t;

    t = performance.now();
    const loaded = loadFlows("server_replay", [file], hasReplayableResponse);
    const index = new ReplayIndex(DEFAULT_MATCH_OPTIONS, false);
    for (const flow of loaded.flows) index.add(flow);
    const loadMs = performance.now() - t;
    assert.equal(loaded.flows.length, N);
    assert.equal(index.keys, N);

    // Look every one up, in reverse order, with fresh requests (as live flows would be).
    t = performance.now();
    for (let i = N - 1; i >= 0; i--) {
      const post = i % 3 === 0;
      const live = recordedFlow({
        method: post ? "POST" : "GET",
        url: `http://host${i % 50}.example:${8000 + (i % 7)}/items/${i}?page=${i % 11}`,
        body: post ? `{"id":${i}}` : "",
      });
      const found = index.take(live);
      if (bodyText(found) !== `answer ${i}`) assert.fail(`flow ${i}: got ${bodyText(found)}`);
    }
    const lookupMs = performance.now() - t;
    assert.equal(index.remaining, 0);
    assert.equal(
      index.take(recordedFlow({ url: "http://host1.example:8001/items/1?page=1" })),
      null,
    );
    console.log(
      `100k flows: write ${Math.round(writeMs)} ms, load+index ${Math.round(loadMs)} ms, ` +
        `${N} lookups ${Math.round(lookupMs)} ms (${((lookupMs * 1000) / N).toFixed(1)} us each, ` +
        `including building each live flow)`,
    );
  } finally {
    remove();
  }
});
