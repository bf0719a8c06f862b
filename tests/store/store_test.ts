/**
 * The flow store: its file (schema, WAL, format check), batched writes off the caller's path,
 * the byte budget, flows read back whole, and the temporary file's removal.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FlowStore } from "../../src/api/store.ts";
import { parseFilter } from "../../src/filter/mod.ts";
import { WebSocketData, WebSocketMessage } from "../../src/flow/websocket.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { openSqlite } from "../../src/runtime/mod.ts";
import { FlowDb } from "../../src/store/flow_db.ts";
import { openStoreFile, PAGE_SIZE, STORE_FORMAT, StoreFileError } from "../../src/store/schema.ts";
import { makeFlow, withTempDir } from "./helpers.ts";

const GIB = 1024 ** 3;

function rowCount(file: string): number {
  // A second connection, as another process would see the file.
  const db = openSqlite(file, { readOnly: true });
  try {
    return Number(db.prepare("SELECT count(*) AS n FROM flows").get()!.n);
  } finally {
    db.close();
  }
}

async function waitUntil(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a new store file has the schema, WAL journal and its format mark", async () => {
  await withTempDir((dir) => {
    const file = path.join(dir, "s.db");
    const db = openStoreFile(file);
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .all().map((r) => r.name);
      assert.deepEqual(tables, ["bodies", "flow_docs", "flows", "store_info", "ws_messages"]);
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all()
        .map((r) => String(r.name));
      for (const i of ["flows_host", "flows_status", "flows_marked"]) {
        assert.ok(indexes.includes(i), i);
      }
      assert.equal(db.prepare("PRAGMA journal_mode").get()!.journal_mode, "wal");
      assert.equal(Number(db.prepare("PRAGMA synchronous").get()!.synchronous), 1, "NORMAL");
      // 16 KiB pages: nine flows with 1 KiB bodies to a page instead of two (the budget's count).
      assert.equal(Number(db.prepare("PRAGMA page_size").get()!.page_size), PAGE_SIZE);
      assert.equal(PAGE_SIZE, 16384);
      assert.equal(
        db.prepare("SELECT value FROM store_info WHERE key = 'format'").get()!.value,
        STORE_FORMAT,
      );
    } finally {
      db.close();
    }
  });
});

test("a store that is not durable (the temporary one) is written without fsync", async () => {
  await withTempDir((dir) => {
    const temp = new FlowDb(path.join(dir, "t.db"), { durable: false });
    const kept = new FlowDb(path.join(dir, "kept.db"));
    try {
      assert.equal(Number(temp.db.prepare("PRAGMA synchronous").get()!.synchronous), 0, "OFF");
      assert.equal(Number(kept.db.prepare("PRAGMA synchronous").get()!.synchronous), 1, "NORMAL");
    } finally {
      temp.close();
      kept.close();
    }
  });
});

test("a foreign, damaged or newer file is refused with one line", async () => {
  await withTempDir((dir) => {
    const text = path.join(dir, "notes.txt");
    fs.writeFileSync(text, "hello\n");
    assert.throws(() => openStoreFile(text), (e) => {
      assert.ok(e instanceof StoreFileError);
      assert.match(e.message, /not a mitm\.ts session \(not an SQLite database\)/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });

    const other = path.join(dir, "other.db");
    const db = openSqlite(other);
    db.exec("CREATE TABLE t (x INTEGER)");
    db.close();
    assert.throws(() => openStoreFile(other), /an SQLite database but not a mitm\.ts session/);

    // The SQLite header followed by garbage.
    const damaged = path.join(dir, "damaged.db");
    const bytes = new Uint8Array(8192).fill(0xab);
    bytes.set(new TextEncoder().encode("SQLite format 3\0"));
    fs.writeFileSync(damaged, bytes);
    assert.throws(() => openStoreFile(damaged), (e) => {
      assert.ok(e instanceof StoreFileError, String(e));
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });

    const newer = path.join(dir, "newer.db");
    openStoreFile(newer).close();
    const n = openSqlite(newer);
    n.exec("UPDATE store_info SET value = '99' WHERE key = 'version'");
    n.close();
    assert.throws(() => openStoreFile(newer), /newer mitm\.ts/);
  });
});

test("add() returns without writing; the batch is written by a timer in one go", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "s.db");
    const store = new FlowStore({ file, maxBytes: GIB });
    try {
      for (let i = 0; i < 300; i++) store.add(makeFlow(i));
      assert.equal(rowCount(file), 0, "nothing on disk right after add()");
      assert.equal(store.size, 300, "yet counted");
      await waitUntil("the batch on disk", () => rowCount(file) === 300);

      // Over FLUSH_FLOWS (512) pending: written soon, still not during add().
      for (let i = 300; i < 1000; i++) store.add(makeFlow(i));
      assert.equal(rowCount(file), 300);
      await waitUntil("the second batch", () => rowCount(file) === 1000);
    } finally {
      await store.close();
    }
    assert.ok(fs.existsSync(file), "a named session stays");
  });
});

test("updates rewrite the flow in place; deleted, cleared and dropped flows stay gone", async () => {
  await withTempDir(async (dir) => {
    const store = new FlowStore({ file: path.join(dir, "s.db"), maxBytes: GIB });
    try {
      const a = makeFlow(1);
      const b = makeFlow(2);
      store.add(a);
      store.add(b);
      await store.sync();
      a.marked = true;
      a.response!.status = 500;
      store.update(a);
      await store.sync();
      assert.deepEqual((await store.list()).map((f) => f.id), [a.id, b.id], "order kept");
      assert.equal((await store.get(a.id))!.response!.status, 500);
      assert.deepEqual((await store.list({ filter: parseFilter("~marked") })).map((f) => f.id), [
        a.id,
      ]);

      assert.equal(await store.remove(b.id), true);
      store.update(b);
      await store.sync();
      assert.equal(await store.get(b.id), undefined, "a late update does not bring it back");

      await store.clear();
      store.update(a);
      await store.sync();
      assert.equal(store.size, 0);
    } finally {
      await store.close();
    }
  });
});

test("the budget drops the oldest flows, counts them, and keeps the newest", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "s.db");
    const store = new FlowStore({ file, maxBytes: GIB });
    const flows = Array.from({ length: 50 }, (_, i) => makeFlow(i, { body: "x".repeat(1000) }));
    try {
      for (const f of flows) store.add(f);
      await store.sync();
      const perFlow = store.bytes / 50;
      assert.ok(perFlow > 1000, `${perFlow} bytes per flow`);
      await store.setLimits(Math.floor(perFlow * 20));
      assert.ok(store.size <= 20 && store.size >= 18, `${store.size} kept`);
      assert.equal(store.dropped, 50 - store.size);
      assert.ok(store.bytes <= perFlow * 20);
      const kept = (await store.list()).map((f) => f.id);
      assert.deepEqual(kept, flows.slice(50 - kept.length).map((f) => f.id), "the newest stay");
      assert.equal(await store.get(flows[0].id), undefined);

      // An update of a dropped flow is ignored.
      store.update(flows[0]);
      await store.sync();
      assert.equal(await store.get(flows[0].id), undefined);

      await store.setLimits(1);
      assert.deepEqual((await store.list()).map((f) => f.id), [flows[49].id]);
    } finally {
      await store.close();
    }
    // The count of dropped flows is part of the session.
    const db = new FlowDb(file, { readOnly: true });
    assert.equal(db.dropped, 49);
    assert.equal(db.count, 1);
    db.close();
  });
});

test("bodies in chunks and WebSocket messages come back as they went in", async () => {
  await withTempDir((dir) => {
    const db = new FlowDb(path.join(dir, "s.db"), { chunkSize: 1000 });
    try {
      const big = new Uint8Array(4500).map((_, i) => i % 251);
      const flow = makeFlow(7);
      flow.response!.body = big;
      flow.response!.bodySize = big.length;
      flow.request.body = null;
      flow.request.streamed = true;
      flow.request.bodySize = 1 << 30;
      flow.websocket = new WebSocketData();
      flow.websocket.messages.push(
        new WebSocketMessage({
          fromClient: true,
          type: "text",
          content: new TextEncoder().encode("hi"),
          timestamp: 5,
        }),
        new WebSocketMessage({
          fromClient: false,
          type: "binary",
          content: new Uint8Array([0, 255]),
          timestamp: 6,
          dropped: true,
        }),
      );
      db.write([{ seq: 1, flow, written: false }]);
      // The first chunk is in the flow's row, the next four in `bodies`.
      const chunks = db.db.prepare("SELECT count(*) AS n FROM bodies").get()!.n;
      assert.equal(Number(chunks), 4);
      const back = db.read(1)!;
      assert.deepEqual(back.response!.body, big);
      assert.equal(back.request.body, null);
      assert.equal(back.request.streamed, true);
      assert.equal(back.request.bodySize, 1 << 30);
      assert.deepEqual(back.websocket!.messages.map((m) => [m.type, m.text, m.dropped]), [
        ["text", "hi", false],
        ["binary", "\u0000\ufffd", true],
      ]);
      assert.deepEqual(back.websocket!.messages[1].content, new Uint8Array([0, 255]));
      assert.equal(back.request.headers.get("x-index"), "7");
    } finally {
      db.close();
    }
  });
});

test("headers come back as they were, odd ones included", async () => {
  await withTempDir((dir) => {
    const db = new FlowDb(path.join(dir, "s.db"));
    try {
      const plain = makeFlow(1);
      plain.request.headers.append("X-Colon", "a: b:c");
      plain.request.headers.append("x-empty", "");
      plain.request.headers.append("X-Spaces", "  padded  ");
      // What an addon could set but the wire never carries: kept in the document instead.
      const odd = makeFlow(2);
      odd.response!.headers.append("Weird:Name", "v");
      odd.response!.headers.append("X-Lines", "one\ntwo");
      odd.response!.trailers = HeaderList.from({ "X-Trailer": "t" });
      // A line break alone (no odd name) is found too, in a value or in a name.
      const lines = makeFlow(3);
      lines.request.headers.append("X-Lines", "one\ntwo");
      const cr = makeFlow(4);
      cr.request.headers.append("X-Cr\r", "v");
      db.write([
        { seq: 1, flow: plain, written: false },
        { seq: 2, flow: odd, written: false },
        { seq: 3, flow: lines, written: false },
        { seq: 4, flow: cr, written: false },
      ]);
      assert.deepEqual(db.read(3)!.request.headers.raw, lines.request.headers.raw);
      assert.deepEqual(db.read(4)!.request.headers.raw, cr.request.headers.raw);
      assert.deepEqual(db.read(1)!.request.headers.raw, plain.request.headers.raw);
      assert.deepEqual(db.read(1)!.response!.headers.raw, plain.response!.headers.raw);
      assert.deepEqual(db.read(2)!.response!.headers.raw, odd.response!.headers.raw);
      assert.deepEqual(db.read(2)!.response!.trailers!.raw, ["X-Trailer", "t"]);
    } finally {
      db.close();
    }
  });
});

test("the inline writer (flow_store_writer=inline) stores the same", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "s.db");
    const store = new FlowStore({ file, maxBytes: GIB, inlineWriter: true });
    try {
      assert.equal(store.writerMode, "inline");
      const flows = [makeFlow(1), makeFlow(2), makeFlow(3)];
      for (const f of flows) store.add(f);
      assert.equal(rowCount(file), 0, "not written during add()");
      assert.deepEqual((await store.list()).map((f) => f.id), flows.map((f) => f.id));
      assert.equal(await store.remove(flows[1].id), true);
      assert.equal(store.size, 2);
    } finally {
      await store.close();
    }
  });
});

test("inline, a flow is written as it is at the flush, and again at its next update()", async () => {
  await withTempDir(async (dir) => {
    const store = new FlowStore({
      file: path.join(dir, "s.db"),
      maxBytes: GIB,
      inlineWriter: true,
    });
    try {
      const flow = makeFlow(1);
      store.add(flow);
      await store.sync();
      flow.comment = "changed after the write";
      store.add(makeFlow(2)); // pending: get() of flow 1 must come from the file
      assert.equal((await store.get(flow.id))!.comment, "", "the file has it as it was");
      store.update(flow);
      await store.sync();
      assert.equal((await store.list()).find((f) => f.id === flow.id)!.comment, flow.comment);
      assert.equal(store.size, 2);
    } finally {
      await store.close();
    }
  });
});

test("inline, a finished flow is written at once and committed by the next flush", async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, "s.db");
    const store = new FlowStore({ file, maxBytes: GIB, inlineWriter: true });
    try {
      const flow = makeFlow(1);
      store.add(flow);
      store.finish(flow);
      assert.equal(store.size, 1, "counted before the commit");
      assert.equal(rowCount(file), 0, "written in the open transaction, not committed yet");
      // No longer queued: get() reads it back from the file, not the live object.
      const back = await store.get(flow.id);
      assert.notEqual(back, flow);
      assert.equal(back!.response!.status, flow.response!.status);
      assert.equal(rowCount(file), 1);
      // A later change (a mark from the API) writes it again in place.
      flow.marked = true;
      store.update(flow);
      await store.sync();
      assert.equal(rowCount(file), 1);
      assert.equal((await store.get(flow.id))!.marked, true);
      assert.equal(store.size, 1);
      // A flow written while on its way (a flush came first) is written again when it finishes.
      const early = makeFlow(3);
      early.response = null;
      store.add(early);
      await store.sync();
      early.response = makeFlow(3).response;
      store.finish(early);
      assert.equal((await store.get(early.id))!.response?.status, 200);
      assert.equal(store.size, 2);
      // Finishing a flow that was deleted does not bring it back.
      const gone = makeFlow(2);
      store.add(gone);
      await store.sync();
      assert.equal(await store.remove(gone.id), true);
      store.finish(gone);
      await store.sync();
      assert.equal(await store.get(gone.id), undefined);
      assert.equal(store.size, 2);
    } finally {
      await store.close();
    }
  });
});

test("peers come back whole: null fields are left out of the document, set ones kept", async () => {
  await withTempDir((dir) => {
    const db = new FlowDb(path.join(dir, "s.db"));
    try {
      const flow = makeFlow(1);
      flow.client = {
        address: "::1",
        port: 50001,
        tls: { sni: "a.example", alpn: null, version: "TLSv1.3" },
      };
      flow.server = {
        address: "127.0.0.1",
        port: 8443,
        tls: null,
        timestampTcpStart: 1_700_000_000.5,
        timestampTcpEnd: 1_700_000_000.75,
      };
      const bare = makeFlow(2); // no server at all
      db.write([{ seq: 1, flow, written: false }, { seq: 2, flow: bare, written: false }]);
      const back = db.read(1)!;
      assert.deepEqual(back.client, flow.client);
      assert.deepEqual(back.server, flow.server);
      assert.equal(db.read(2)!.server, null);
      assert.deepEqual(db.read(2)!.client, bare.client);
      const doc = String(db.db.prepare("SELECT doc FROM flow_docs WHERE seq = 1").get()!.doc);
      assert.ok(!doc.includes("timestampTlsStart") && !doc.includes('"tls":null'), doc);
    } finally {
      db.close();
    }
  });
});

test("a page's total is right whether or not the first page holds every match", async () => {
  await withTempDir(async (dir) => {
    const store = new FlowStore({ file: path.join(dir, "s.db"), maxBytes: GIB });
    try {
      for (let i = 0; i < 40; i++) {
        store.add(makeFlow(i, { body: i % 4 === 0 ? `needle ${i}` : "hay" }));
      }
      // A body's text (SQL reads every body), a regex (the JS matcher decides) and an index.
      for (const text of ["~b needle", '~b "needle [0-9]+"', "~c 404", "~u item/3$"]) {
        const filter = parseFilter(text);
        const all = (await store.list({ filter })).length;
        assert.ok(all > 0, text);
        for (const limit of [1, all - 1, all, all + 5, undefined]) {
          if (limit === 0) continue;
          const page = await store.page({ filter, limit });
          assert.equal(page.total, all, `${text} limit ${limit}`);
          assert.equal(page.more, limit !== undefined && limit < all, `${text} limit ${limit}`);
        }
        const newest = await store.page({ filter, limit: 1 });
        const older = await store.page({ filter, limit: 100, before: newest.summaries[0].id });
        assert.equal(older.total, all, `${text} with a cursor`);
        assert.equal(older.summaries.length, all - 1);
      }
    } finally {
      await store.close();
    }
  });
});

test("a temporary store is deleted when closed", async () => {
  const store = new FlowStore({ maxBytes: GIB });
  store.add(makeFlow(1));
  await store.sync();
  const dir = path.dirname(store.path);
  assert.ok(fs.existsSync(store.path));
  await store.close();
  assert.equal(fs.existsSync(dir), false);
});
