/**
 * A WebSocket over HTTP/2 (RFC 8441) through the real CLI with the new core reaches --record like
 * an HTTP/1.1 one: node:http2 opens it with extended CONNECT on an h2c connection to the proxy
 * port; the recording holds the messages and the flow's HTTP/2.0.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import http2 from "node:http2";
import { join } from "node:path";
import { test } from "node:test";
import { encodeFrame, FrameParser, Opcode, randomMask } from "../../src/websocket/mod.ts";
import { startProxyProcess } from "./helpers.ts";
import { eventually, tempDir } from "./https_helpers.ts";
import { wsOrigin } from "./websocket_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

test("--record keeps the messages of a WebSocket over HTTP/2", async () => {
  const { dir, remove } = tempDir("mitm-ws-h2-rec-");
  const recording = join(dir, "flows.jsonl");
  const origin = await wsOrigin();
  const proxy = await startProxyProcess(["-w", recording]);
  const session = http2.connect(proxy.url);
  session.on("error", () => {});
  try {
    await new Promise((r) => session.once("remoteSettings", r));
    const stream = session.request({
      ":method": "CONNECT",
      ":protocol": "websocket",
      ":scheme": "http",
      ":authority": `127.0.0.1:${origin.port}`,
      ":path": "/rec",
      "sec-websocket-version": "13",
    }, { endStream: false });
    const parser = new FrameParser({ masked: false });
    const frames: { opcode: number; text: string }[] = [];
    stream.on("data", (c: Buffer) => {
      for (const f of parser.push(new Uint8Array(c))) {
        frames.push({ opcode: f.opcode, text: dec.decode(f.payload) });
      }
    });
    const status = await new Promise<number>((r) =>
      stream.once("response", (h) => r(Number(h[":status"])))
    );
    assert.equal(status, 200);
    const send = (opcode: number, payload: Uint8Array) =>
      stream.write(encodeFrame({ opcode: opcode as 1, payload, mask: randomMask() }));
    send(Opcode.Text, enc.encode("recorded hello"));
    assert.ok(await eventually(() => frames.length >= 1), "the echo arrived");
    assert.equal(frames[0].text, "echo: recorded hello");
    send(Opcode.Close, new Uint8Array([0x03, 0xe8, 0x62, 0x79, 0x65])); // 1000 "bye"
    assert.ok(await eventually(() => frames.length >= 2), "the close was answered");
    stream.end();
    assert.ok(
      await eventually(() => existsSync(recording) && readFileSync(recording, "utf8").length > 0),
      "the flow was recorded",
    );
    const line = JSON.parse(readFileSync(recording, "utf8").trim());
    assert.equal(line.request.httpVersion, "HTTP/2.0");
    assert.equal(line.response.status, 101);
    assert.deepEqual(
      line.websocket.messages.map((m: { fromClient: boolean; type: string }) => [
        m.fromClient,
        m.type,
      ]),
      [[true, "text"], [false, "text"], [true, "close"], [false, "close"]],
    );
    assert.deepEqual(line.websocket.messages[0].content, { text: "recorded hello" });
    assert.equal(line.websocket.closeCode, 1000);
    assert.equal(line.websocket.closeReason, "bye");
  } finally {
    session.close();
    await proxy.stop();
    await origin.close();
    remove();
  }
});
