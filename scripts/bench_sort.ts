/**
 * Sorted pages of the flow list over a big store: fills a flow store (the API's FlowStore, inline
 * writer) with synthetic flows, then times, for each sortable column and both orders, the first
 * page the web UI asks for (200 flows, with the count of all matching ones) and the page of 1,000
 * after a cursor in the middle of the order; then the same with a filter SQL answers (an indexed
 * host) and one the JavaScript matcher finishes (`~comment`, one round of three columns: it reads
 * every flow). Medians of a few rounds, in ms.
 * A benchmark, not a test.
 *
 *   node_modules/.bin/bun scripts/bench_sort.ts [flows=100000] [rounds=5]
 *   node_modules/.bin/deno run -A scripts/bench_sort.ts [flows=100000] [rounds=5]
 */
import process from "node:process";
import { FlowStore } from "../src/api/store.ts";
import { type Filter, parseFilter } from "../src/filter/mod.ts";
import { Flow, FlowRequest, FlowResponse } from "../src/flow/flow.ts";
import { HeaderList } from "../src/http/headers.ts";
import { runtime } from "../src/runtime/mod.ts";
import { SORT_COLUMNS, type SortCursor, type SortOrder } from "../src/store/sort_sql.ts";

const count = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 5);
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const TYPES = ["application/json", "text/html; charset=utf-8", "image/png", "text/css"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const encoder = new TextEncoder();

/** Varied values in every sortable column: 100 hosts, paths not in arrival order, sizes, times. */
function makeFlow(i: number, t0: number): Flow {
  const host = `host${(i * 7) % 100}.example`;
  const start = t0 + i * 3;
  const request = new FlowRequest({
    method: METHODS[i % METHODS.length],
    scheme: i % 4 === 0 ? "http" : "https",
    host,
    port: i % 4 === 0 ? 80 : 443,
    path: `/api/v1/items/${(i * 7919) % count}?page=${i % 13}`,
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({ Host: host, Accept: "*/*" }),
    timestampStart: start,
  });
  request.body = new Uint8Array(0);
  request.timestampEnd = start;
  const flow = new Flow({ address: "127.0.0.1", port: 40000 + (i % 1000), tls: null }, request);
  const response = new FlowResponse({
    status: [200, 200, 200, 204, 301, 404, 500][i % 7],
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({ "Content-Type": TYPES[i % TYPES.length] }),
    timestampStart: start + 2,
  });
  response.body = encoder.encode("x".repeat(100 + (i * 131) % 1900));
  response.timestampEnd = start + 2 + (i * 17) % 900;
  flow.response = response;
  if (i % 500 === 0) flow.comment = "look";
  return flow;
}

function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  return fn().then(() => performance.now() - t);
}

const store = new FlowStore({ maxBytes: 64 * 2 ** 30, inlineWriter: true });
try {
  const t0 = Date.now();
  const fill = performance.now();
  for (let i = 0; i < count; i++) {
    store.add(makeFlow(i, t0));
    if (i % 5000 === 4999) await store.sync();
  }
  await store.sync();
  console.log(
    `${runtime.name} ${runtime.version}: ${store.size} flows ` +
      `written in ${Math.round((performance.now() - fill) / 1000)} s`,
  );

  const measure = async (sort: SortOrder | null, filter: Filter | null, rounds: number) => {
    const first: number[] = [];
    const middle: number[] = [];
    // Where the middle page starts: the cursor after half of the matching flows (not timed).
    let cursor: SortCursor | undefined;
    if (sort) {
      const half = await store.sortedPage({ sort, filter, limit: Math.floor(count / 2) });
      cursor = half?.last ?? undefined;
    }
    for (let r = 0; r < rounds; r++) {
      if (sort) {
        first.push(await time(() => store.sortedPage({ sort, filter, limit: 200 })));
        middle.push(
          await time(() => store.sortedPage({ sort, filter, limit: 1000, after: cursor })),
        );
      } else {
        first.push(await time(() => store.page({ filter, limit: 200 })));
      }
    }
    return { first: median(first), middle: sort ? median(middle) : NaN };
  };

  // The JS matcher reads every flow (seconds over 100,000): one round, three columns.
  const slow = ["start", "host", "size"];
  const filters: [string, Filter | null][] = [
    ["none", null],
    ["~d host7.example", parseFilter("~d host7.example")],
    ["~comment look", parseFilter("~comment look")],
  ];
  console.log("| sort | filter | first page (200) ms | page of 1,000 mid-way ms |");
  console.log("| ---- | ------ | ------------------: | -----------------------: |");
  for (const [label, filter] of filters) {
    const exact = label !== "~comment look";
    const n = exact ? rounds : 1;
    const base = await measure(null, filter, n);
    console.log(`| (arrival) | ${label} | ${base.first.toFixed(1)} | |`);
    for (const column of SORT_COLUMNS) {
      if (!exact && !slow.includes(column)) continue;
      for (const descending of [false, true]) {
        // Both directions without a filter; with one, ascending shows the cost.
        if (filter && descending) continue;
        const m = await measure({ column, descending }, filter, n);
        console.log(
          `| ${column} ${descending ? "desc" : "asc"} | ${label} | ${m.first.toFixed(1)} | ${
            m.middle.toFixed(1)
          } |`,
        );
      }
    }
  }
} finally {
  await store.close();
}
