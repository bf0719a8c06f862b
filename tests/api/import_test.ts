/** POST /api/import: recordings (JSON lines) and HAR files become flows in the store. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importFlows } from "../../src/api/import.ts";
import { viaProxy, waitFor, withApi, withOrigin } from "./helpers.ts";
import { withWeb } from "./web_helpers.ts";

type Summary = { id: string; request: { path: string }; comment: string };

/** A stream that hands out `text` in pieces of `size` bytes (lines split across chunks). */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, at += size));
    },
  });
}

test("JSON lines and HAR are imported, lines split across chunks, bad lines counted", async () => {
  await withOrigin(async (origin) => {
    await withApi({}, async ({ proxy, req }) => {
      for (const p of ["/x", "/y"]) {
        await viaProxy(proxy.address.port, `http://127.0.0.1:${origin.port}${p}`);
      }
      await waitFor("two", async () => (await (await req("/api/flows")).json()).flows.length === 2);
      const ids = (await (await req("/api/flows")).json()).flows.map((f: Summary) => f.id);
      await req(`/api/flows/${ids[0]}`, { method: "PATCH", json: { comment: "kept" } });
      const jsonl = await (await req("/api/flows.jsonl")).text();
      const har = await (await req("/api/flows.har")).text();

      // Pure: chunk sizes that cut lines anywhere.
      for (const size of [1, 7, 4096]) {
        const got: string[] = [];
        const r = await importFlows(chunked(`${jsonl}not json\n\n{"v": 1}\n`, size), (f) => {
          got.push(f.request.path);
        });
        assert.deepEqual(got, ["/x", "/y"]);
        assert.equal(r.format, "jsonl");
        assert.equal(r.skipped, 2);
        assert.deepEqual(r.problems.map((p) => p.line), [3, 5]);
        const h = await importFlows(chunked(har, size), () => {});
        assert.deepEqual([h.format, h.added], ["har", 2]);
      }

      // Through the API: the same file again comes in as copies with new ids.
      await req("/api/clear", { method: "POST" });
      const one = await req("/api/import", {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: jsonl,
      });
      assert.equal(one.status, 201);
      const result = await one.json();
      assert.deepEqual([result.added, result.skipped, result.format], [2, 0, "jsonl"]);
      assert.deepEqual(result.ids, ids);
      const again = await (await req("/api/import", {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: har,
      })).json();
      assert.deepEqual([again.added, again.format], [2, "har"]);
      assert.notDeepEqual(again.ids, ids);
      const listed: Summary[] = (await (await req("/api/flows")).json()).flows;
      assert.deepEqual(listed.map((f) => f.request.path), ["/x", "/y", "/x", "/y"]);
      assert.deepEqual(listed.map((f) => f.comment), ["kept", "", "kept", ""]);

      const form = await req("/api/import", {
        method: "POST",
        headers: { "content-type": "multipart/form-data; boundary=x" },
        body: "--x--",
      });
      assert.equal(form.status, 415, "what an HTML form can send is refused");
      const text = await req("/api/import", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: jsonl,
      });
      assert.equal(text.status, 415);
      const badHar = await req("/api/import?format=har", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"log": {}}',
      });
      assert.equal(badHar.status, 400);
      assert.match((await badHar.json()).error, /not a HAR document/);
      const badFormat = await req("/api/import?format=pcap", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(badFormat.status, 400);
    });
  });
});

test("end to end: curl uploads a recording file to the API", async () => {
  await withOrigin(async (origin) => {
    const dir = mkdtempSync(join(tmpdir(), "mitm-import-"));
    try {
      await withWeb({}, async ({ api, apiJson, via }) => {
        await via([`http://127.0.0.1:${origin.port}/recorded`]);
        await waitFor(
          "the flow",
          async () => ((await apiJson("/api/flows")) as { flows: unknown[] }).flows.length === 1,
        );
        const file = join(dir, "flows.jsonl");
        writeFileSync(file, (await api("/api/flows.jsonl")).stdout);
        await api("/api/clear", ["-X", "POST"]);
        const up = await api("/api/import", [
          "-H",
          "Content-Type: application/x-ndjson",
          "--data-binary",
          `@${file}`,
        ]);
        assert.equal(JSON.parse(up.stdout).added, 1, up.stdout);
        const { flows } = await apiJson("/api/flows") as { flows: Summary[] };
        assert.deepEqual(flows.map((f) => f.request.path), ["/recorded"]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
