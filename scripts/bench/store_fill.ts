/**
 * One runtime's share of `deno task bench:store`: fills a flow store through its API (FlowStore.add,
 * written in batches as the proxy's store does) and times queries on it. Run by
 * scripts/bench_store.ts on Deno or Bun; prints one JSON object.
 *
 *   <runtime> scripts/bench/store_fill.ts --flows 1000000 --dir DIR [--writer inline|worker]
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { FlowStore } from "../../src/api/store.ts";
import { parseFilter } from "../../src/filter/mod.ts";
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { runtime, sqliteBinding } from "../../src/runtime/mod.ts";

const { values: args } = parseArgs({
  args: process.argv.slice(2),
  options: {
    flows: { type: "string", default: "1000000" },
    dir: { type: "string" },
    "body-bytes": { type: "string", default: "1024" },
    /** Where writes happen: inline (the default of flow_store_writer) or worker. */
    writer: { type: "string", default: "inline" },
  },
});
const total = Number(args.flows);
const bodyBytes = Number(args["body-bytes"]);
const dir = args.dir ?? fs.mkdtempSync("/tmp/mitm-bench-store-");
const file = path.join(dir, "bench.db");
for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });

function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

const filler = "abcdefghijklmnopqrstuvwxyz0123456789 ".repeat(Math.ceil(bodyBytes / 37) + 1);
const encoder = new TextEncoder();

/** A flow shaped like the proxy bench's: a GET through the proxy, a 200 with a text body. */
function makeFlow(i: number): Flow {
  const now = 1_760_000_000_000 + i;
  const host = `host${i % 100}.example`;
  const request = new FlowRequest({
    method: i % 10 === 0 ? "POST" : "GET",
    scheme: "http",
    host,
    port: 80,
    path: `/api/items/${i}?page=${i % 7}`,
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({
      Host: host,
      "User-Agent": "bench/1.0",
      Accept: "*/*",
    }),
    timestampStart: now,
  });
  request.body = new Uint8Array(0);
  request.timestampEnd = now;
  const flow = new Flow({ address: "127.0.0.1", port: 40000 + (i % 20000), tls: null }, request);
  flow.server = { address: "127.0.0.1", port: 80, tls: null };
  const response = new FlowResponse({
    status: i % 50 === 0 ? 404 : 200,
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({
      Server: "nginx/1.22.1",
      Date: "Mon, 07 Dec 2026 00:00:00 GMT",
      "Content-Type": "text/plain",
      "Content-Length": String(bodyBytes),
      Connection: "keep-alive",
    }),
    timestampStart: now + 1,
  });
  // A unique word in each body, for the full-text query.
  const body = `needle-${i} ` + filler;
  response.body = encoder.encode(body.slice(0, Math.max(bodyBytes, 16)));
  response.bodySize = response.body.length;
  response.timestampEnd = now + 2;
  flow.response = response;
  return flow;
}

const store = new FlowStore({
  file,
  maxBytes: 2 * 1024 ** 3,
  inlineWriter: args.writer === "inline",
});
const started = performance.now();
let firstId = "";
const BATCH = 1000;
for (let i = 0; i < total; i += BATCH) {
  for (let j = i; j < Math.min(total, i + BATCH); j++) {
    const flow = makeFlow(j);
    if (j === 0) firstId = flow.id;
    store.add(flow);
  }
  await store.sync(); // hands the batch to the writer and waits until it is written
}
const fillSeconds = (performance.now() - started) / 1000;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: Number((performance.now() - t).toFixed(1)), value };
}

async function query(text: string) {
  const filter = parseFilter(text);
  const page = await timed(() => store.page({ filter, limit: 50 }));
  return {
    filter: text,
    page_ms: page.ms,
    total: page.value.total,
    first_page: page.value.summaries.length,
  };
}

const files = ["", "-wal"].map((s) => fs.statSync(file + s, { throwIfNoEntry: false })?.size ?? 0);
const out = {
  runtime: `${runtime.name} ${runtime.version}`,
  sqlite: sqliteBinding,
  writer: store.writerMode,
  flows_added: total,
  body_bytes: bodyBytes,
  fill_seconds: Number(fillSeconds.toFixed(1)),
  flows_per_second: Math.round(total / fillSeconds),
  stored: store.size,
  dropped: store.dropped,
  budget_bytes_counted: store.bytes,
  file_bytes: files[0] + files[1],
  first_flow_there: (await store.get(firstId)) !== undefined,
  queries: [
    await query("~c 404"),
    await query("~d ^host42\\.example$"),
    await query("~m POST & ~c 404"),
    await query(`~u /api/items/${Math.floor(total / 2)}\\?`),
    await query(`~b needle-${Math.floor(total / 3)} `),
    await query(`~b "needle-${total - 5} [a-z]"`),
  ],
  peak_rss_bytes: peakRss(),
};
await store.close();
if (!process.env.KEEP_BENCH_DB) fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(out));
