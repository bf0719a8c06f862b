/**
 * The flow store's write cost alone (docs/BENCHMARKS.md, the flow store): N proxy-shaped flows (a
 * GET, a 200 with a 1 KiB body, one host) turned into rows, then written through FlowDb.write in
 * batches of 512 as the proxy's store does; CPU time per flow (the flows are made outside the
 * timing). `SQL="PRAGMA ..."` runs SQL on the connection first, to try settings.
 *
 *   bun --smol scripts/bench/store_write.ts [N]      (or: deno run -A scripts/bench/store_write.ts)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { FlowDb } from "../../src/store/flow_db.ts";
import { flowToRows } from "../../src/store/rows.ts";

const total = Number(process.argv[2] ?? 50_000);
const BATCH = 512;
const filler = "abcdefghijklmnopqrstuvwxyz0123456789 ".repeat(40);
const encoder = new TextEncoder();

function makeFlow(i: number): Flow {
  const now = 1_760_000_000_000 + i;
  const request = new FlowRequest({
    method: "GET",
    scheme: "http",
    host: "127.0.0.1",
    port: 80,
    path: "/1k",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({ Host: "127.0.0.1", "User-Agent": "bench/1.0", Accept: "*/*" }),
    timestampStart: now,
  });
  request.body = new Uint8Array(0);
  request.timestampEnd = now;
  const flow = new Flow({ address: "127.0.0.1", port: 40000 + (i % 20000), tls: null }, request);
  flow.server = { address: "127.0.0.1", port: 80, tls: null };
  const response = new FlowResponse({
    status: 200,
    reason: "OK",
    httpVersion: "HTTP/1.1",
    headers: HeaderList.from({
      Server: "nginx/1.22.1",
      Date: "Mon, 07 Dec 2026 00:00:00 GMT",
      "Content-Type": "text/plain",
      "Content-Length": "1024",
      Connection: "keep-alive",
    }),
    timestampStart: now + 1,
  });
  response.body = encoder.encode(`needle-${i} ${filler}`.slice(0, 1024));
  response.bodySize = response.body.length;
  response.timestampEnd = now + 2;
  flow.response = response;
  return flow;
}

/** This process's CPU time (user + system), ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const sample = Array.from({ length: 2048 }, (_, i) => makeFlow(i));
let start = cpuMs();
for (let i = 0; i < total; i++) flowToRows(sample[i % sample.length], 4 << 20);
const rowsUs = ((cpuMs() - start) * 1000) / total;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-store-write-"));
const db = new FlowDb(path.join(dir, "w.db"), { chunkSize: 4 << 20 });
if (process.env.SQL) db.db.exec(process.env.SQL);
let making = 0;
start = cpuMs();
for (let seq = 1; seq <= total;) {
  const before = cpuMs();
  const batch = [];
  for (let j = 0; j < BATCH && seq <= total; j++, seq++) {
    batch.push({ seq, flow: makeFlow(seq), written: false });
  }
  making += cpuMs() - before;
  db.write(batch);
}
const writeUs = ((cpuMs() - start - making) * 1000) / total;
db.close();
fs.rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  flows: total,
  rows_us_per_flow: Number(rowsUs.toFixed(1)),
  write_us_per_flow: Number(writeUs.toFixed(1)),
}));
