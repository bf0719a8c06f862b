// gRPC decoded with .proto files end to end: a real @grpc/grpc-js client and server (messages
// encoded by protobufjs through @grpc/proto-loader, from the same .proto file) talk through
// `mitm --set protobuf_definitions=DIR`; the recorded flows then show named fields in
// `mitm read -d 3`, and in the web UI in headless Chromium. A broken .proto file is one warning
// line and the proxy keeps running.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { type ProxyProcess, run, startProxyProcess } from "./helpers.ts";
import { cliArgv } from "./helpers.ts";
import { artifact, skipBrowser, withBrowserOn } from "../api/ui_helpers.ts";

const PROTO = `syntax = "proto3";
package shop.v1;

enum Size { SIZE_UNSPECIFIED = 0; SMALL = 1; LARGE = 2; }

message OrderRequest {
  string customer = 1;
  int64 total_cents = 2;
  Size size = 3;
  map<string, int32> extras = 4;
  repeated Line lines = 5;
  message Line { string sku = 1; uint64 qty = 2; }
}

message OrderReply {
  string id = 1;
  fixed64 serial = 2;
  Status status = 3;
  enum Status { PENDING = 0; ACCEPTED = 1; }
}

service Orders {
  rpc Place (OrderRequest) returns (OrderReply);
  rpc Track (OrderRequest) returns (stream OrderReply);
}
`;

// grpc-js types loaded services loosely.
// deno-lint-ignore no-explicit-any
type Any = any;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mitm-grpc-proto-"));
const protoDir = path.join(dir, "protos");
const record = path.join(dir, "flows.jsonl");
let server: grpc.Server;
let serverPort = 0;
let proxy: ProxyProcess;
let webUrl = "";
let Orders: Any;

before(async () => {
  fs.mkdirSync(protoDir);
  fs.writeFileSync(path.join(protoDir, "shop.proto"), PROTO);
  const loaded = protoLoader.loadSync(path.join(protoDir, "shop.proto"), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
  });
  Orders = (grpc.loadPackageDefinition(loaded) as Any).shop.v1.Orders;
  server = new grpc.Server();
  server.addService(Orders.service, {
    Place(call: Any, cb: Any) {
      cb(null, {
        id: `o-${call.request.customer}`,
        serial: "12345678901234567890",
        status: "ACCEPTED",
      });
    },
    Track(call: Any) {
      call.write({ id: "t-1", status: "PENDING" });
      call.write({ id: "t-2", status: "ACCEPTED" });
      call.end();
    },
  });
  serverPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => {
      if (e) reject(e);
      else resolve(port);
    })
  );
  proxy = await startProxyProcess([
    "--set",
    `protobuf_definitions=${protoDir}`,
    "-w",
    record,
    "--web-port",
    "0",
  ]);
  webUrl = /Web UI: +(\S+)/.exec(proxy.output())![1];
});

after(async () => {
  await proxy?.stop();
  await new Promise<void>((r) => server.tryShutdown(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Waits until the recording has `n` flows (each is written when it has finished). */
async function recorded(n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const text = fs.existsSync(record) ? fs.readFileSync(record, "utf8") : "";
    if (text.split("\n").filter(Boolean).length >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the recording did not reach ${n} flows`);
}

describe("gRPC bodies decoded with --set protobuf_definitions", () => {
  test("a grpc-js call through the proxy reads back with field and enum names", async () => {
    // grpc-js tunnels through the proxy given in grpc_proxy (CONNECT, then h2c inside).
    process.env.grpc_proxy = proxy.url;
    const client = new Orders(`127.0.0.1:${serverPort}`, grpc.credentials.createInsecure());
    delete process.env.grpc_proxy;
    try {
      const reply = await new Promise<Any>((res, rej) =>
        client.Place(
          {
            customer: "ada",
            total_cents: "9007199254740993",
            size: "LARGE",
            extras: { gift: 1 },
            lines: [{ sku: "p-1", qty: "18446744073709551615" }],
          },
          (e: Error | null, r: Any) => e ? rej(e) : res(r),
        )
      );
      assert.equal(reply.serial, "12345678901234567890");
      const tracked: string[] = [];
      await new Promise<void>((res, rej) => {
        const call = client.Track({ customer: "bob" });
        call.on("data", (d: Any) => tracked.push(d.id));
        call.on("end", res);
        call.on("error", rej);
      });
      assert.deepEqual(tracked, ["t-1", "t-2"]);
    } finally {
      client.close();
    }
    await recorded(2);

    const [cmd, args] = cliArgv([
      "read",
      record,
      "-d",
      "3",
      "--set",
      `protobuf_definitions=${protoDir}`,
    ]);
    const read = await run(cmd, args, { env: { NO_COLOR: "1" } });
    assert.equal(read.code, 0, read.stderr);
    const out = read.stdout;
    for (
      const expected of [
        "shop.v1.OrderRequest (request of rpc shop.v1.Orders/Place)",
        '  >   customer: "ada"',
        "  >   total_cents: 9007199254740993",
        "  >   size: LARGE",
        '  >   extras["gift"]: 1',
        '  >     sku: "p-1"',
        "  >     qty: 18446744073709551615",
        "shop.v1.OrderReply (response of rpc shop.v1.Orders/Place)",
        '  <   id: "o-ada"',
        "  <   serial: 12345678901234567890",
        "  <   status: ACCEPTED",
        "shop.v1.OrderReply (response of rpc shop.v1.Orders/Track)",
        '  <   id: "t-2"',
      ]
    ) {
      assert.ok(out.split("\n").some((l) => l.includes(expected)), `${expected}\nin:\n${out}`);
    }
    // Without the definitions the same recording shows field numbers only.
    const [cmd2, args2] = cliArgv(["read", record, "-d", "3"]);
    const bare = await run(cmd2, args2, { env: { NO_COLOR: "1" } });
    assert.match(bare.stdout, / {2}> {3}1: "ada"/);
    assert.doesNotMatch(bare.stdout, /customer/);
  });

  test("the web UI shows the response with names", { skip: skipBrowser }, async () => {
    await recorded(2);
    await withBrowserOn({ uiUrl: webUrl }, async (page) => {
      const row = ".row[data-id]:has(.path:text-is('/shop.v1.Orders/Place'))";
      await page.waitForSelector(row, { timeout: 30_000 });
      await page.click(row);
      await page.click("#details [data-tab=response]");
      const view = "#details pre.view.grpc";
      await page.waitForSelector(`${view}:has-text("serial: 12345678901234567890")`, {
        timeout: 30_000,
      });
      const text = await page.$eval(view, (el) => el.textContent!);
      assert.match(text, /shop\.v1\.OrderReply \(response of rpc shop\.v1\.Orders\/Place\)/);
      assert.match(text, /status: ACCEPTED/);
      await page.screenshot({ path: artifact("web-ui-grpc-proto.png") });
    });
  });

  test("a broken .proto file is one warning line; the proxy runs and decodes without a schema", async () => {
    const broken = path.join(dir, "broken.proto");
    fs.writeFileSync(broken, 'syntax = "proto3";\nmessage A {\n  int32 a = 1\n}\n');
    const other = await startProxyProcess(["--set", `protobuf_definitions=${broken}`, "--no-web"]);
    try {
      const warnings = other.output().split("\n").filter((l) => l.includes("protobuf_definitions"));
      assert.deepEqual(warnings, [
        `mitm: warning: protobuf_definitions: ${broken}:4: expected ";" after field "a", got "}"; ` +
        "protobuf bodies are shown without a schema",
      ]);
      assert.doesNotMatch(other.output(), /at .*\.ts:\d+/, "no stack trace");
    } finally {
      assert.equal(await other.stop(), 0);
    }
    const [cmd, args] = cliArgv([
      "read",
      record,
      "-d",
      "3",
      "--set",
      `protobuf_definitions=${broken}`,
    ]);
    const read = await run(cmd, args, { env: { NO_COLOR: "1" } });
    assert.equal(read.code, 0);
    assert.match(read.stderr, /broken\.proto:4: expected ";"/);
    assert.match(read.stdout, / {2}> {3}1: "ada"/);
  });
});
