/**
 * Sorting in the flow store: every sortable column, both directions, paged with the keyset cursor
 * and with filters (SQL-exact ones and ones the JS matcher finishes), checked against an
 * in-memory sort of the same flows read back (fast-check makes the flows: equal values, NULLs,
 * case differences, non-ASCII text); and paging that stays right while flows come and go.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import fc from "fast-check";
import { parseFilter } from "../../src/filter/mod.ts";
import { Flow, FlowRequest, FlowResponse } from "../../src/flow/flow.ts";
import { HeaderList } from "../../src/http/headers.ts";
import { FlowDb } from "../../src/store/flow_db.ts";
import {
  keysetSql,
  orderBySql,
  SORT_COLUMNS,
  type SortColumn,
  type SortOrder,
} from "../../src/store/sort_sql.ts";
import { makeFlow, withTempDir } from "./helpers.ts";

interface Shape {
  scheme: "http" | "https";
  method: string;
  host: string;
  path: string;
  start: number;
  /** null: no response (pending, or failed when `error`). */
  status: number | null;
  type: string | null;
  size: number;
  /** Milliseconds to the response's end; null: still arriving. */
  took: number | null;
  error: boolean;
  comment: string;
  marked: boolean;
  port: number;
  version: string;
}

const shape: fc.Arbitrary<Shape> = fc.record({
  scheme: fc.constantFrom("http" as const, "https" as const),
  method: fc.constantFrom("GET", "get", "POST", "Put", "DELETE"),
  host: fc.constantFrom("a.example", "B.example", "b.example", "ä.example", "_x.example", "z"),
  path: fc.oneof(
    fc.string({ maxLength: 6 }).map((s) => "/" + s.replace(/[\s#]/g, "")),
    fc.constantFrom("/A", "/a", "/é", "/a?b=1", "*"),
  ),
  start: fc.integer({ min: 0, max: 6 }),
  status: fc.option(fc.constantFrom(200, 204, 404, 500), { freq: 2 }), // NULL a third of the time
  type: fc.option(fc.constantFrom("text/html", "Text/HTML", "application/json", "image/png")),
  size: fc.integer({ min: 0, max: 3000 }),
  took: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 2 }),
  error: fc.boolean(),
  comment: fc.constantFrom("", "", "note", "Note", "a note", "ü"),
  marked: fc.boolean(),
  port: fc.constantFrom(80, 443, 8080, 8443, 1),
  version: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "http/1.1"),
});

function flowOf(s: Shape): Flow {
  const t0 = 1_700_000_000_000 + s.start * 1.5;
  const request = new FlowRequest({
    method: s.method,
    scheme: s.scheme,
    host: s.host,
    port: s.port,
    path: s.path,
    httpVersion: s.version,
    headers: HeaderList.from({ Host: s.host }),
    timestampStart: t0,
  });
  request.body = new Uint8Array(0);
  request.timestampEnd = t0;
  const flow = new Flow({ address: "127.0.0.1", port: 50000, tls: null }, request);
  if (s.status !== null) {
    const response = new FlowResponse({
      status: s.status,
      reason: "R",
      httpVersion: "HTTP/1.1",
      headers: HeaderList.from(s.type === null ? {} : { "Content-Type": s.type }),
      timestampStart: t0 + 1,
    });
    response.body = new Uint8Array(s.size);
    response.bodySize = s.size;
    if (s.took !== null) response.timestampEnd = t0 + s.took;
    flow.response = response;
  }
  if (s.error) flow.error = { message: "refused", timestamp: t0 + 7 };
  flow.comment = s.comment;
  flow.marked = s.marked;
  return flow;
}

type Value = number | string | null;

/** The value each column sorts by, from the flow as read back (what the list shows). */
function valueOf(flow: Flow, column: SortColumn): Value {
  const req = flow.request;
  const res = flow.response;
  switch (column) {
    case "start":
      return req.timestampStart;
    case "method":
      return req.method;
    case "host":
      return req.host;
    case "path":
      return req.path;
    case "url":
      return req.url;
    case "status":
      return res?.status ?? null;
    case "type": {
      // All Content-Type values as lines; "" for none (no response, or no header).
      const types = res?.headers.getAll("content-type") ?? [];
      return types.length ? `\n${types.join("\n")}\n` : "";
    }
    case "size":
      return res === null ? null : res.bodySize;
    case "duration": {
      const end = res?.timestampEnd ?? flow.error?.timestamp ?? null;
      return end === null ? null : Math.max(0, end - req.timestampStart);
    }
    case "scheme":
      return req.scheme;
    case "port":
      return req.port;
    case "version":
      return req.httpVersion;
    case "comment":
      return flow.comment;
    case "marked":
      return flow.marked ? 1 : 0;
  }
}

const encoder = new TextEncoder();
/** SQLite's NOCASE: ASCII letters folded, then the UTF-8 bytes. */
function nocase(a: string, b: string): number {
  const fold = (s: string) => encoder.encode(s.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  const x = fold(a), y = fold(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function compareValues(a: Value, b: Value): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return nocase(String(a), String(b));
}

/** The expected order: the value (NULL first), then arrival; descending is the exact reverse. */
function expectedIds(db: FlowDb, seqs: number[], order: SortOrder, keep: (f: Flow) => boolean) {
  const rows = seqs.map((seq) => ({ seq, flow: db.read(seq)! })).filter((r) => keep(r.flow));
  rows.sort((a, b) =>
    compareValues(valueOf(a.flow, order.column), valueOf(b.flow, order.column)) || a.seq - b.seq
  );
  if (order.descending) rows.reverse();
  return rows.map((r) => r.flow.id);
}

/** Every page after the first from the cursor of the one before. */
function pageThrough(db: FlowDb, order: SortOrder, limit: number, filter: string | null) {
  const f = filter === null ? null : parseFilter(filter);
  const ids: string[] = [];
  let after: { value: Value; seq: number } | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const { rows, more } = db.sortedPage({ sort: order, limit, filter: f, after });
    assert.ok(rows.length <= limit);
    ids.push(...rows.map((r) => r.id));
    if (!more) return ids;
    assert.equal(rows.length, limit, "a page before the last one is full");
    const last = rows.at(-1)!;
    after = { value: last.value, seq: last.seq };
  }
  throw new Error("did not end");
}

const FILTERS = [
  null,
  "~m get",
  "~c 404",
  "!~s",
  "~d b.example",
  "~comment note",
  "~u [aé]",
  "~marked",
];

test("sorted pages equal an in-memory sort, for every column, both ways, with filters", async () => {
  await withTempDir((dir) => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.array(shape, { minLength: 0, maxLength: 30 }),
        fc.constantFrom(...SORT_COLUMNS),
        fc.boolean(),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom(...FILTERS),
        (shapes, column, descending, limit, filter) => {
          const db = new FlowDb(path.join(dir, `p${run++}.db`));
          try {
            db.write(shapes.map((s, i) => ({ seq: i + 1, flow: flowOf(s), written: false })));
            const order = { column, descending };
            const keep = filter === null ? () => true : parseFilter(filter);
            const seqs = shapes.map((_, i) => i + 1);
            const want = expectedIds(db, seqs, order, keep);
            assert.deepEqual(pageThrough(db, order, limit, filter), want);
            // One page with room for all: the same order, and no `more`.
            const all = db.sortedPage({ sort: order, filter: filter ? parseFilter(filter) : null });
            assert.deepEqual(all.rows.map((r) => r.id), want);
            assert.equal(all.more, false);
          } finally {
            db.close();
          }
        },
      ),
      { numRuns: 250 },
    );
  });
});

test("a sorted cursor neither skips nor repeats flows while others arrive and go", async () => {
  await withTempDir((dir) => {
    const db = new FlowDb(path.join(dir, "s.db"));
    try {
      const flows = Array.from(
        { length: 40 },
        (_, i) => makeFlow(i, { status: [200, 404][i % 2] }),
      );
      db.write(flows.map((flow, i) => ({ seq: i + 1, flow, written: false })));
      const order: SortOrder = { column: "host", descending: true };
      const first = db.sortedPage({ sort: order, limit: 10 });
      assert.equal(first.more, true);
      // Meanwhile: new flows (some sorting before the cursor, some after) and deletions.
      const late = Array.from({ length: 10 }, (_, i) => makeFlow(100 + i));
      db.write(late.map((flow, i) => ({ seq: 41 + i, flow, written: false })));
      const gone = new Set([flows[3].id, flows[17].id, first.rows[9].id]);
      for (const id of gone) assert.ok(db.remove(id));
      const seen = first.rows.map((r) => r.id);
      let after = { value: first.rows[9].value, seq: first.rows[9].seq };
      for (;;) {
        const page = db.sortedPage({ sort: order, limit: 10, after });
        seen.push(...page.rows.map((r) => r.id));
        if (!page.more) break;
        after = { value: page.rows[9].value, seq: page.rows[9].seq };
      }
      assert.equal(new Set(seen).size, seen.length, "no flow twice");
      // Every flow there from start to end is listed, in the order.
      const kept = flows.filter((f) => !gone.has(f.id)).map((f) => f.id);
      for (const id of kept) assert.ok(seen.includes(id), id);
      const all = Array.from({ length: 50 }, (_, i) => i + 1).filter((seq) => db.read(seq));
      const want = expectedIds(db, all, order, () => true);
      const positions = seen.filter((id) => want.includes(id)).map((id) => want.indexOf(id));
      assert.deepEqual(positions, positions.slice().sort((a, b) => a - b), "in sort order");
    } finally {
      db.close();
    }
  });
});

test("the SQL for host and status walks their indexes instead of sorting", async () => {
  await withTempDir((dir) => {
    const db = new FlowDb(path.join(dir, "s.db"));
    try {
      const plan = (order: SortOrder, value: string | number) => {
        const keyset = keysetSql(order, { value, seq: 1 });
        return db.db.prepare(
          `EXPLAIN QUERY PLAN SELECT f.seq FROM flows f WHERE ${keyset.sql} ` +
            `ORDER BY ${orderBySql(order)} LIMIT 5`,
        ).all(...keyset.params).map((r) => String(r.detail)).join("; ");
      };
      for (const descending of [false, true]) {
        const host = plan({ column: "host", descending }, "x");
        assert.match(host, /USING (COVERING )?INDEX flows_host/);
        assert.doesNotMatch(host, /TEMP B-TREE/);
        assert.match(
          plan({ column: "status", descending }, 200),
          /USING (COVERING )?INDEX flows_status/,
        );
      }
    } finally {
      db.close();
    }
  });
});
