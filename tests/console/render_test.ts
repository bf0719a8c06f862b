/** The console's frames: every line fits the terminal, and the views show what they should. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConsoleModel } from "../../src/console/model.ts";
import { renderFrame, type RenderSource } from "../../src/console/render.ts";
import { renderLine } from "../../src/console/screen.ts";
import { applyFile, EditError, partToFile } from "../../src/console/edit_part.ts";
import { decodeKeys } from "../../src/console/keys.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { BINARY, errorFlow, richFlow, simpleFlow } from "../flow/helpers.ts";

function setup(flows: Flow[], paused: Record<string, "request" | "response"> = {}) {
  const byId = new Map(flows.map((f) => [f.id, f]));
  const model = new ConsoleModel({
    hasResponse: (id) => byId.get(id)?.response != null,
    pausedAt: (id) => paused[id] ?? null,
  });
  for (const f of flows) model.added(f.id);
  const src: RenderSource = {
    get: (id) => byId.get(id),
    pausedAt: (id) => paused[id] ?? null,
    title: "proxy at http://127.0.0.1:8080",
    events: ["started"],
    options: () => [["intercept", ""]],
    pausedCount: () => Object.keys(paused).length,
  };
  return { model, src };
}

// deno-lint-ignore no-control-regex
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

/** The frame as plain text lines of exactly `width` columns. */
function text(model: ConsoleModel, src: RenderSource, width: number, height: number): string[] {
  return renderFrame(model, src, width, height).map((l) => strip(renderLine(l, width, false)));
}

describe("renderFrame", () => {
  for (const [width, height] of [[80, 24], [100, 30], [200, 50], [40, 10]]) {
    test(`${width}x${height}: exactly ${height} lines, none wider than the terminal`, () => {
      const flows = [simpleFlow("x", { path: "/a/" + "long".repeat(60) }), errorFlow(), richFlow()];
      const { model, src } = setup(flows, { [flows[2].id]: "request" });
      for (const keys of ["", "\r", "\t", "\t", "\x1b?", "qE", "qO"]) {
        for (const k of decodeKeys(keys)) model.press(k);
        const lines = renderFrame(model, src, width, height);
        assert.equal(lines.length, height);
        for (const l of lines) {
          const visible = l.reduce((n, s) => n + s.text.length, 0);
          const shown = strip(renderLine(l, width, false, false));
          assert.ok(shown.length <= width, `${JSON.stringify(shown)} (${visible} before cutting)`);
        }
      }
    });
  }

  test("list rows: time, scheme, method, host, path, status, size, duration; errors and pauses", () => {
    const ok = simpleFlow("hello", { path: "/ok" });
    const bad = errorFlow();
    const paused = simpleFlow("", { path: "/held" });
    paused.response = null;
    const { model, src } = setup([ok, bad, paused], { [paused.id]: "request" });
    const lines = text(model, src, 100, 10);
    assert.match(
      lines[0],
      /mitm\.ts console {2}proxy at http:\/\/127\.0\.0\.1:8080 {2}\[3 flows\]/,
    );
    assert.match(lines[0], /1 paused/);
    assert.match(
      lines[1],
      /\d\d:\d\d:\d\d http\s+GET\s+127\.0\.0\.1:8000\s+\/ok\s+200 text\/plain\s+5b\s+3ms/,
    );
    assert.match(lines[2], /ERR .*connection refused/);
    assert.match(lines[3], /^ ⏸.*\/held\s+\.\.\./);
  });

  test("the flow view shows the request and, with Tab, the response body through the contentview", () => {
    const flow = simpleFlow('{"n":1.10}', { contentType: "application/json" });
    const { model, src } = setup([flow]);
    for (const k of decodeKeys("\r")) model.press(k);
    let lines = text(model, src, 80, 24).join("\n");
    assert.match(lines, /GET http:\/\/127\.0\.0\.1:8000\/ HTTP\/1\.1/);
    assert.match(lines, /Host: 127\.0\.0\.1:8000/);
    for (const k of decodeKeys("\t")) model.press(k);
    lines = text(model, src, 80, 24).join("\n");
    assert.match(lines, /HTTP\/1\.1 200 OK/);
    assert.match(lines, /\[json view, 10b; m: change view\]/);
    assert.match(lines, /"n": 1\.10/);
  });

  test("an empty list says how to get flows; a filter with no match says so", () => {
    const { model, src } = setup([]);
    assert.match(text(model, src, 80, 24).join("\n"), /No flows yet/);
    model.filterText = "~d nothing";
    assert.match(text(model, src, 80, 24).join("\n"), /No flows match "~d nothing"/);
  });
});

describe("editing a part in a file", () => {
  test("headers: Name: value lines, changed in place", () => {
    const flow = simpleFlow();
    const before = partToFile(flow, "request-headers");
    assert.equal(new TextDecoder().decode(before), "Host: 127.0.0.1:8000\n");
    const list = flow.request.headers;
    applyFile(flow, "request-headers", before, new TextEncoder().encode("Host: a\nX-New: 1\n"));
    assert.equal(flow.request.headers, list, "the same list object");
    assert.deepEqual([...flow.request.headers], [["Host", "a"], ["X-New", "1"]]);
    assert.throws(
      () => applyFile(flow, "request-headers", before, new TextEncoder().encode("no colon\n")),
      EditError,
    );
  });

  test("a binary body stays byte for byte when only the status line changes", () => {
    const flow = simpleFlow(BINARY, { contentType: "image/png" });
    const body = flow.response!.body;
    const file = partToFile(flow, "response-body");
    applyFile(flow, "response-body", file, file.slice());
    applyFile(
      flow,
      "response-line",
      partToFile(flow, "response-line"),
      new TextEncoder().encode("404 Gone\n"),
    );
    assert.equal(flow.response!.status, 404);
    assert.equal(flow.response!.reason, "Gone");
    assert.equal(flow.response!.body, body, "the body was not touched");
    assert.equal(flow.response!.bodyChanged, false);
  });

  test("a changed body is set as bytes; the request line takes METHOD URL", () => {
    const flow = simpleFlow(BINARY);
    const edited = BINARY.slice(0, 10);
    applyFile(flow, "response-body", partToFile(flow, "response-body"), edited);
    assert.deepEqual(flow.response!.body, edited);
    applyFile(
      flow,
      "request-line",
      partToFile(flow, "request-line"),
      new TextEncoder().encode("PUT https://example.com:8443/x?y=1\n"),
    );
    assert.equal(flow.request.method, "PUT");
    assert.equal(flow.request.url, "https://example.com:8443/x?y=1");
    assert.throws(
      () => applyFile(flow, "request-line", new Uint8Array(), new TextEncoder().encode("nonsense")),
      EditError,
    );
  });
});
