/**
 * WebSocket messages reach --record and HAR: the real CLI as a child process records a ws://
 * session; the recording is read back (raw JSON and the project's reader), `mitm har` converts it,
 * and --set hardump writes `_webSocketMessages` on shutdown.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readFlows } from "../../src/flow/record_file.ts";
import { cliArgv, run, startProxyProcess } from "./helpers.ts";
import { eventually, tempDir } from "./https_helpers.ts";
import { pattern, RawWsClient, wsOrigin } from "./websocket_helpers.ts";

test("--record keeps every WebSocket message; mitm har and hardump write _webSocketMessages", async () => {
  const { dir, remove } = tempDir("mitm-ws-rec-");
  const recording = join(dir, "flows.jsonl");
  const hardump = join(dir, "dump.har");
  const origin = await wsOrigin();
  const proxy = await startProxyProcess(["-w", recording, "--set", `hardump=${hardump}`]);
  try {
    const ws = await RawWsClient.open({ proxyPort: proxy.port, originPort: origin.port });
    ws.text("recorded hello");
    assert.equal((await ws.next()).text, "echo: recorded hello");
    ws.binary(pattern(1000));
    await ws.next();
    ws.close(1000, "bye");
    await ws.next();
    await ws.closed();
    assert.ok(
      await eventually(() => existsSync(recording) && readFileSync(recording, "utf8").length > 0),
      "the flow was recorded",
    );

    // As written: one JSON line with the messages.
    const line = JSON.parse(readFileSync(recording, "utf8").trim());
    assert.equal(line.response.status, 101);
    const messages = line.websocket.messages;
    assert.deepEqual(
      messages.map((m: { fromClient: boolean; type: string; size: number }) => [
        m.fromClient,
        m.type,
        m.size,
      ]),
      [
        [true, "text", 14],
        [false, "text", 20],
        [true, "binary", 1000],
        [false, "binary", 1000],
        [true, "close", 5],
        [false, "close", 5],
      ],
    );
    assert.deepEqual(messages[0].content, { text: "recorded hello" });
    assert.equal(line.websocket.closeCode, 1000);
    assert.equal(line.websocket.closeReason, "bye");
    assert.equal(line.websocket.closedByClient, true);

    // Read back by the project's reader.
    const { flows } = readFlows(recording);
    assert.equal(flows.length, 1);
    assert.equal(flows[0].websocket!.messages[1].text, "echo: recorded hello");
    assert.deepEqual(flows[0].websocket!.messages[3].content, pattern(1000));

    // mitm har FILE -o OUT
    const out = join(dir, "converted.har");
    const [cmd, args] = cliArgv(["har", recording, "-o", out]);
    const converted = await run(cmd, args, { timeoutMs: 60_000 });
    assert.equal(converted.code, 0, converted.stderr);
    for (const file of [out, hardump]) {
      if (file === hardump) {
        assert.equal(await proxy.stop(), 0);
        assert.ok(existsSync(hardump), "hardump written on shutdown");
      }
      const entry = JSON.parse(readFileSync(file, "utf8")).log.entries[0];
      assert.equal(entry._resourceType, "websocket");
      const har = entry._webSocketMessages;
      assert.equal(har.length, 6);
      assert.deepEqual(
        { type: har[0].type, opcode: har[0].opcode, data: har[0].data },
        { type: "send", opcode: 1, data: "recorded hello" },
      );
      assert.deepEqual(
        { type: har[1].type, opcode: har[1].opcode, data: har[1].data },
        { type: "receive", opcode: 1, data: "echo: recorded hello" },
      );
      assert.equal(har[2].opcode, 2);
      assert.deepEqual(new Uint8Array(Buffer.from(har[2].data, "base64")), pattern(1000));
    }
  } finally {
    await proxy.stop();
    await origin.close();
    remove();
  }
});
