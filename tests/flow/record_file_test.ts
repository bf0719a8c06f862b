import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type FlowLine, FlowRecorder, readFlows, streamFlows } from "../../src/flow/record_file.ts";
import { flowsToHar } from "../../src/flow/har.ts";
import { flowToJson } from "../../src/flow/serialize.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { BINARY, errorFlow, richFlow, simpleFlow, withTempDir } from "./helpers.ts";

function lines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n");
}

async function collect(gen: AsyncGenerator<FlowLine>): Promise<FlowLine[]> {
  const out: FlowLine[] = [];
  for await (const item of gen) out.push(item);
  return out;
}

const ids = (flows: Flow[]) => flows.map((f) => f.id);

test("FlowRecorder appends one line per flow and readFlows reads them back", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "flows.jsonl");
    const flows = [richFlow(), simpleFlow(BINARY), errorFlow()];
    const rec = new FlowRecorder(path);
    for (const f of flows) rec.write(f);
    assert.equal(rec.count, 3);
    rec.close();
    assert.equal(rec.closed, true);
    rec.close(); // a second close does nothing

    const text = readFileSync(path, "utf8");
    assert.ok(text.endsWith("\n"));
    assert.equal(text.split("\n").length, 4, "three lines and the final newline");
    // 0644 less the umask: never executable, never writable by group or others.
    const mode = statSync(path).mode & 0o777;
    assert.equal(mode & 0o133, 0, mode.toString(8));
    assert.equal(mode & 0o600, 0o600, mode.toString(8));

    const result = readFlows(path);
    assert.deepEqual(result.skipped, []);
    assert.equal(result.tornTail, false);
    assert.deepEqual(ids(result.flows), ids(flows));
    for (let i = 0; i < flows.length; i++) {
      assert.deepEqual(flowToJson(result.flows[i]), flowToJson(flows[i]));
    }
  });
});

test("FlowRecorder appends to an existing file and write after close throws", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "flows.jsonl");
    const a = new FlowRecorder(path);
    a.write(simpleFlow("one"));
    a.close();
    assert.throws(() => a.write(simpleFlow()), /closed/);
    assert.throws(() => new FlowRecorder(path, { bodyLimit: -1 }), RangeError);
    const b = new FlowRecorder(path);
    b.write(simpleFlow("two"));
    b.close();
    const { flows } = readFlows(path);
    assert.deepEqual(flows.map((f) => f.response?.text()), ["one", "two"]);
  });
});

test("FlowRecorder bodyLimit records large bodies as truncated", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "flows.jsonl");
    const rec = new FlowRecorder(path, { bodyLimit: 4, fsync: true });
    rec.write(simpleFlow("tiny"));
    rec.write(simpleFlow("too long"));
    rec.close();
    const json = lines(path).slice(0, 2).map((l) => JSON.parse(l));
    assert.deepEqual(json[0].response.body, { text: "tiny" });
    assert.equal(json[1].response.body, null);
    assert.equal(json[1].response.truncated, true);
    assert.equal(json[1].response.bodySize, 8);
    const { flows } = readFlows(path);
    assert.equal(flows[1].response?.body, null);
    assert.equal(flows[1].response?.bodySize, 8);
  });
});

test("a torn last line is skipped with tornTail; a new recorder starts on a fresh line", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "flows.jsonl");
    const rec = new FlowRecorder(path);
    const written = [simpleFlow("a"), simpleFlow("b"), simpleFlow("c")];
    for (const f of written) rec.write(f);
    rec.close();
    // What a kill during a write leaves: the first part of a line, no newline.
    const full = JSON.stringify(flowToJson(richFlow()));
    appendFileSync(path, full.slice(0, Math.floor(full.length / 2)));

    const torn = readFlows(path);
    assert.equal(torn.tornTail, true);
    assert.deepEqual(torn.skipped, []);
    assert.deepEqual(ids(torn.flows), ids(written));

    // Appending again must not glue the next flow onto the torn fragment.
    const more = new FlowRecorder(path);
    const d = simpleFlow("d");
    more.write(d);
    more.close();
    const after = readFlows(path);
    assert.equal(after.tornTail, false);
    assert.deepEqual(ids(after.flows), [...ids(written), d.id]);
    assert.equal(after.skipped.length, 1);
    assert.equal(after.skipped[0].line, 4);
    assert.match(after.skipped[0].reason, /not JSON/);
  });
});

test("a complete last line without its newline still counts", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "flows.jsonl");
    const flow = simpleFlow();
    writeFileSync(path, JSON.stringify(flowToJson(flow)));
    const r = readFlows(path);
    assert.equal(r.tornTail, false);
    assert.deepEqual(ids(r.flows), [flow.id]);
  });
});

test("invalid lines in the middle are skipped with their line numbers and reasons", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "flows.jsonl");
    const a = flowToJson(simpleFlow("a"));
    const b = flowToJson(simpleFlow("b"));
    const c = flowToJson(simpleFlow("c"));
    writeFileSync(
      path,
      [
        JSON.stringify(a),
        "{not json",
        "",
        JSON.stringify({ ...b, v: 7 }),
        JSON.stringify({ ...b, request: null }),
        "   ",
        JSON.stringify(c),
        "",
      ].join("\n"),
    );
    const r = readFlows(path);
    assert.deepEqual(ids(r.flows), [a.id, c.id]);
    assert.equal(r.tornTail, false);
    assert.deepEqual(r.skipped.map((s) => s.line), [2, 4, 5]);
    assert.match(r.skipped[0].reason, /not JSON/);
    assert.match(r.skipped[1].reason, /version 7 is newer/);
    assert.match(r.skipped[2].reason, /request: expected an object/);
  });
});

test("an empty file has no flows", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "empty.jsonl");
    writeFileSync(path, "");
    assert.deepEqual(readFlows(path), { flows: [], skipped: [], tornTail: false });
  });
});

test("streamFlows yields the same as readFlows, across chunk boundaries, torn tail included", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "flows.jsonl");
    const rec = new FlowRecorder(path);
    const written = [richFlow(), simpleFlow(BINARY), errorFlow(), simpleFlow("\u00e9\u2603")];
    for (const f of written) rec.write(f);
    rec.close();
    appendFileSync(path, "not json\n" + '{"v":1,"id":"x","req');
    const whole = readFlows(path);
    for (const chunkSize of [1, 7, 4096, 1 << 20]) {
      const items = await collect(streamFlows(path, chunkSize));
      const flows = items.flatMap((i) => "flow" in i ? [i.flow] : []);
      assert.deepEqual(ids(flows), ids(written), `chunk ${chunkSize}`);
      assert.deepEqual(flows.map((f) => flowToJson(f)), whole.flows.map((f) => flowToJson(f)));
      const bad = items.filter((i) => !("flow" in i));
      assert.deepEqual(
        bad.map((i) => [i.line, "torn" in i && i.torn]),
        [[5, false], [6, true]],
        `chunk ${chunkSize}`,
      );
    }
    assert.equal(whole.tornTail, true);
    assert.deepEqual(whole.skipped.map((s) => s.line), [5]);
  });
});

test("readFlows and streamFlows also read a HAR file, pretty-printed or on one line", async () => {
  await withTempDir(async (dir) => {
    const flows = [richFlow(), simpleFlow(BINARY), errorFlow()];
    const har = flowsToHar(flows);
    for (
      const [name, text] of [
        ["pretty.har", JSON.stringify(har, null, 2)],
        ["one-line.har", JSON.stringify(har) + "\n"],
        ["bom.har", "\uFEFF" + JSON.stringify(har, null, 1)],
      ]
    ) {
      const path = join(dir, name);
      writeFileSync(path, text);
      const r = readFlows(path);
      assert.deepEqual(ids(r.flows), ids(flows), name);
      assert.deepEqual(r.skipped, []);
      assert.equal(r.tornTail, false);
      const streamed = await collect(streamFlows(path, 64));
      assert.deepEqual(ids(streamed.flatMap((i) => "flow" in i ? [i.flow] : [])), ids(flows), name);
    }
  });
});

test("kill -9 while recording: every complete line parses, at most the last is torn", {
  timeout: 60_000,
}, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "killed.jsonl");
    const child = fileURLToPath(new URL("./record_child.ts", import.meta.url));
    const isDeno = "Deno" in globalThis;
    const args = isDeno ? ["run", "-A", child, path] : [child, path];
    const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      proc.on("exit", (code, signal) => resolve({ code, signal }))
    );
    // Wait for the first flow on disk, then let it record for ~300 ms.
    await new Promise<void>((resolve, reject) => {
      let out = "";
      proc.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("started")) resolve();
      });
      exited.then(({ code }) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    proc.kill("SIGKILL");
    const { signal } = await exited;
    assert.equal(signal, "SIGKILL");

    const raw = lines(path);
    // Every line before the last "\n" is complete and parses as JSON.
    const complete = raw.slice(0, -1);
    for (const [i, line] of complete.entries()) {
      assert.doesNotThrow(() => JSON.parse(line), `line ${i + 1}`);
    }
    const r = readFlows(path);
    assert.deepEqual(r.skipped, [], "no invalid line other than a torn last one");
    assert.ok(r.flows.length >= 1, "the child recorded something");
    assert.equal(r.flows.length, complete.length);
    assert.equal(r.tornTail, raw[raw.length - 1] !== "");
    // No flow lost or repeated before the kill: seq runs 0, 1, 2, ... without a gap.
    assert.deepEqual(
      r.flows.map((f) => f.metadata.seq),
      r.flows.map((_, i) => i),
    );
    console.log(
      `kill -9 after ~300 ms: ${r.flows.length} flows intact, ` +
        `last line ${r.tornTail ? "torn" : "complete"}`,
    );
  });
});
