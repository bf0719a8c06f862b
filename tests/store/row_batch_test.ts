/**
 * The writer thread's batch encoding (src/store/row_batch.ts): rows come back as they went in
 * (text in any script, bytes, numbers, nulls, chunks and WebSocket messages), buffers are reused,
 * and a database written from an encoded batch reads back the same flows as one written directly.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { WebSocketData, WebSocketMessage } from "../../src/flow/websocket.ts";
import { flowToJson } from "../../src/flow/serialize.ts";
import { FlowDb } from "../../src/store/flow_db.ts";
import { decodeRowBatch, RowBatchEncoder } from "../../src/store/row_batch.ts";
import { type FlowRows, flowToRows } from "../../src/store/rows.ts";
import { makeFlow, withTempDir } from "./helpers.ts";

function oddRows(): FlowRows {
  return {
    flow: [
      "id-1",
      1.5,
      "GET",
      "hôst.example",
      "/ü/😀",
      null,
      "",
      "\ntext/html\n",
      0,
      1,
      0,
      0,
      1,
      2,
      99,
    ],
    doc: [
      JSON.stringify({ note: "日本語 \u0000 \n" }),
      "\nHost: a\n",
      "",
      new Uint8Array([0, 255, 1]),
      null,
    ],
    chunks: [[1, 1, new Uint8Array(70_000).fill(7)], [1, 2, new Uint8Array(0)]],
    ws: [[1, "text", 2.25, 0, 1, new TextEncoder().encode("hi")]],
    bytes: 12345,
  };
}

test("a batch's rows come back as they went in, in order", () => {
  const encoder = new RowBatchEncoder(16); // small: it has to grow
  const rows = oddRows();
  const plain = flowToRows(makeFlow(3), 1024);
  encoder.add(7, true, rows);
  encoder.add(8, false, plain);
  assert.equal(encoder.records, 2);
  const { buffer, length } = encoder.take();
  assert.equal(encoder.records, 0);
  const back = [...decodeRowBatch(new Uint8Array(buffer, 0, length))];
  assert.equal(back.length, 2);
  assert.deepEqual(back[0], { seq: 7, written: true, rows });
  assert.deepEqual(back[1], { seq: 8, written: false, rows: plain });
});

test("an empty batch decodes to no records; values it cannot carry are refused", () => {
  const encoder = new RowBatchEncoder();
  const { buffer, length } = encoder.take();
  assert.deepEqual([...decodeRowBatch(new Uint8Array(buffer, 0, length))], []);
  const rows = oddRows();
  rows.flow[0] = 5n;
  assert.throws(() => encoder.add(1, false, rows), /cannot encode a bigint/);
});

test("a recycled buffer is used for the next batch", () => {
  const encoder = new RowBatchEncoder();
  encoder.add(1, false, oddRows());
  const first = encoder.take();
  encoder.recycle(first.buffer);
  encoder.take(); // the buffer in use when `first` came back
  encoder.add(2, false, oddRows());
  assert.equal(encoder.take().buffer, first.buffer);
});

test("flows written from an encoded batch read back as flows written directly", async () => {
  await withTempDir((dir) => {
    const flows = [makeFlow(1), makeFlow(2, { body: "x".repeat(3000) }), makeFlow(3)];
    const ws = new WebSocketData();
    ws.messages.push(
      new WebSocketMessage({
        fromClient: true,
        type: "text",
        content: new TextEncoder().encode("ping"),
        timestamp: 1_700_000_000_005,
      }),
    );
    flows[2].websocket = ws;
    const direct = new FlowDb(path.join(dir, "direct.db"), { chunkSize: 1024 });
    direct.write(flows.map((flow, i) => ({ seq: i + 1, flow, written: false })));
    const encoded = new FlowDb(path.join(dir, "encoded.db"), { chunkSize: 1024 });
    const encoder = new RowBatchEncoder();
    flows.forEach((flow, i) => encoder.add(i + 1, false, flowToRows(flow, 1024)));
    // Flow 2 again, changed: its old rows go, as a flow written twice does.
    flows[1].marked = true;
    encoder.add(2, true, flowToRows(flows[1], 1024));
    direct.write([{ seq: 2, flow: flows[1], written: true }]);
    const { buffer, length } = encoder.take();
    encoded.writeEncoded(new Uint8Array(buffer, 0, length));
    assert.equal(encoded.count, 3);
    assert.equal(encoded.bytes, direct.bytes);
    for (let seq = 1; seq <= 3; seq++) {
      assert.deepEqual(flowToJson(encoded.read(seq)!), flowToJson(direct.read(seq)!));
    }
    assert.equal(encoded.read(2)!.marked, true);
    assert.equal(encoded.read(2)!.response!.body!.length, 3000);
    direct.close();
    encoded.close();
  });
});
