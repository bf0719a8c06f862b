/**
 * protobuf_definitions while running: reloaded when a file changes, one warning per failed load,
 * and the schema reaching the console's flow view and the API the web UI fetches it from.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { currentProtoSchema, setProtoSchemaProvider } from "../../src/contentviews/mod.ts";
import { useProtoDefinitions } from "../../src/protobuf/definitions.ts";
import { flowLines } from "../../src/console/flow_lines.ts";
import { simpleFlow } from "../flow/helpers.ts";
import { Encoder, grpcFrame } from "./encode.ts";
import { TOKEN, withApi } from "../api/helpers.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-proto-defs-"));
after(() => {
  setProtoSchemaProvider(() => null);
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Rewrites a file with a modification time later than any before: the reload is noticed by size
 * and time, and two versions may have the same size (a random time could repeat one, and did).
 */
let rewrites = 0;
function rewrite(file: string, text: string): void {
  fs.writeFileSync(file, text);
  const later = new Date(Date.now() + 5000 + ++rewrites * 1000);
  fs.utimesSync(file, later, later);
}

describe("useProtoDefinitions", () => {
  test("a changed file is loaded again; a broken one warns once and leaves no schema", () => {
    const file = path.join(dir, "live.proto");
    fs.writeFileSync(file, `syntax = "proto3"; message First { int32 a = 1; }`);
    const warnings: string[] = [];
    const defs = useProtoDefinitions(file, (l) => warnings.push(l), 0);
    assert.deepEqual(Object.keys(defs.current()!.messages), ["First"]);
    assert.equal(currentProtoSchema(), defs.current(), "the contentviews use it");

    rewrite(file, `syntax = "proto3"; message Second { int32 b = 1; }`);
    assert.deepEqual(Object.keys(defs.current()!.messages), ["Second"]);

    rewrite(file, `syntax = "proto3";\nmessage Third {\n  int32 c = 1\n}`);
    assert.equal(defs.current(), null);
    assert.equal(defs.current(), null);
    assert.deepEqual(warnings, [
      `warning: protobuf_definitions: ${file}:4: expected ";" after field "c", got "}"; ` +
      "protobuf bodies are shown without a schema",
    ]);

    rewrite(file, `syntax = "proto3";\nmessage Third {\n  int32 c = 1;\n}`);
    assert.deepEqual(Object.keys(defs.current()!.messages), ["Third"]);
    assert.equal(warnings.length, 1);
  });

  test("a file added to the directory is noticed", () => {
    const sub = fs.mkdtempSync(path.join(dir, "d-"));
    fs.writeFileSync(path.join(sub, "a.proto"), `message A {}`);
    const defs = useProtoDefinitions(sub, () => assert.fail("no warning expected"), 0);
    assert.deepEqual(Object.keys(defs.current()!.messages), ["A"]);
    fs.writeFileSync(path.join(sub, "b.proto"), `message B {}`);
    assert.deepEqual(Object.keys(defs.current()!.messages).sort(), ["A", "B"]);
  });
});

describe("where the schema is used", () => {
  const file = path.join(dir, "svc.proto");
  fs.writeFileSync(
    file,
    `syntax = "proto3"; package p;
     message Req { string q = 1; } message Res { uint64 n = 1; }
     service S { rpc Get (Req) returns (Res); }`,
  );

  test("the console's response view names the fields", () => {
    useProtoDefinitions(file, () => {}, 0);
    const body = grpcFrame(new Encoder().varint(1, 18446744073709551615n).finish());
    const flow = simpleFlow(body, { path: "/p.S/Get", contentType: "application/grpc" });
    const text = flowLines(flow, "response", "auto").map((l) => l.map((s) => s.text).join(""));
    assert.ok(text.includes("p.Res (response of rpc p.S/Get)"), text.join("\n"));
    assert.ok(text.includes("  n: 18446744073709551615"), text.join("\n"));
  });

  test("GET /api/protobuf/schema serves it to the web UI, with the token only", async () => {
    useProtoDefinitions(file, () => {}, 0);
    await withApi({}, async (h) => {
      const res = await h.req("/api/protobuf/schema");
      assert.equal(res.status, 200);
      const { schema } = await res.json();
      assert.deepEqual(schema.services["p.S"].Get.output, "p.Res");
      const anonymous = await h.req("/api/protobuf/schema", {
        headers: { Authorization: `Bearer not-${TOKEN}` },
      });
      assert.equal(anonymous.status, 401);
      setProtoSchemaProvider(() => null);
      assert.deepEqual(await (await h.req("/api/protobuf/schema")).json(), { schema: null });
    });
  });
});
