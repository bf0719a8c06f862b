import { test } from "node:test";
import assert from "node:assert/strict";
import { flowFromJson, flowToJson } from "../../src/flow/serialize.ts";
import { flowsToHar, harToFlows } from "../../src/flow/har.ts";
import { WebSocketData, WebSocketMessage } from "../../src/flow/websocket.ts";
import { Flow } from "../../src/flow/flow.ts";
import { BINARY, simpleFlow, T0 } from "./helpers.ts";
import { validateHar } from "./har_schema.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

function websocketFlow(): Flow {
  const flow = simpleFlow("", { status: 101 });
  const ws = new WebSocketData();
  const add = (init: ConstructorParameters<typeof WebSocketMessage>[0]) =>
    ws.messages.push(new WebSocketMessage(init));
  add({ fromClient: true, type: "text", content: utf8("héllo"), timestamp: T0 + 10 });
  add({ fromClient: false, type: "binary", content: BINARY, timestamp: T0 + 11.5 });
  add({ fromClient: true, type: "ping", content: utf8("p"), timestamp: T0 + 12 });
  add({ fromClient: false, type: "pong", content: utf8("p"), timestamp: T0 + 13 });
  add({
    fromClient: true,
    type: "text",
    content: utf8("secret"),
    timestamp: T0 + 14,
    dropped: true,
  });
  add({
    fromClient: false,
    type: "text",
    content: utf8("from addon"),
    timestamp: T0 + 15,
    injected: true,
  });
  add({
    fromClient: true,
    type: "close",
    content: Uint8Array.of(0x03, 0xe8, 0x62, 0x79, 0x65),
    timestamp: T0 + 16,
  });
  ws.closedByClient = true;
  ws.closeCode = 1000;
  ws.closeReason = "bye";
  ws.timestampEnd = T0 + 17;
  ws.protocol = "chat";
  ws.extensions = "permessage-deflate";
  flow.websocket = ws;
  return flow;
}

function summary(flow: Flow) {
  const ws = flow.websocket!;
  return {
    messages: ws.messages.map((m) => ({ ...m, content: [...m.content] })),
    close: [
      ws.closedByClient,
      ws.closeCode,
      ws.closeReason,
      ws.timestampEnd,
      ws.protocol,
      ws.extensions,
    ],
  };
}

test("message helpers: text, close code and reason, drop", () => {
  const flow = websocketFlow();
  const [hello, , , , , , close] = flow.websocket!.messages;
  assert.equal(hello.text, "héllo");
  hello.text = "changed";
  assert.deepEqual(hello.content, utf8("changed"));
  assert.equal(close.closeCode, 1000);
  assert.equal(close.closeReason, "bye");
  assert.equal(hello.closeCode, null);
  hello.drop();
  assert.ok(hello.dropped);
});

test("inject() queues messages for the proxy and calls its listener", () => {
  const ws = new WebSocketData();
  let calls = 0;
  ws.onInject(() => calls++);
  ws.inject(true, "to client");
  ws.inject(false, BINARY);
  assert.equal(calls, 2);
  const taken = ws.takeInjected();
  assert.deepEqual(
    taken.map((t) => [t.toClient, t.message.type, t.message.fromClient, t.message.injected]),
    [
      [true, "text", false, true],
      [false, "binary", true, true],
    ],
  );
  assert.deepEqual(ws.takeInjected(), []);
});

test("the recording format keeps every message, its flags and how the connection closed", () => {
  const flow = websocketFlow();
  const json = JSON.parse(JSON.stringify(flowToJson(flow)));
  assert.equal(json.websocket.messages.length, 7);
  assert.deepEqual(json.websocket.messages[0], {
    fromClient: true,
    type: "text",
    content: { text: "héllo" },
    size: 6,
    timestamp: T0 + 10,
  });
  assert.ok("base64" in json.websocket.messages[1].content);
  assert.equal(json.websocket.messages[4].dropped, true);
  assert.equal(json.websocket.messages[5].injected, true);
  assert.deepEqual(summary(flowFromJson(json)), summary(flow));
  // a plain HTTP flow has no websocket field at all
  assert.equal("websocket" in flowToJson(simpleFlow()), false);
  assert.equal(flowFromJson(flowToJson(simpleFlow())).websocket, null);
});

test("the recording format leaves out message contents over bodyLimit but keeps their size", () => {
  const json = flowToJson(websocketFlow(), { bodyLimit: 100 });
  assert.equal(json.websocket!.messages[1].content, null);
  assert.equal(json.websocket!.messages[1].size, 256);
  assert.deepEqual(json.websocket!.messages[0].content, { text: "héllo" });
});

test("a bad message in a recording is refused, naming the field", () => {
  const json = JSON.parse(JSON.stringify(flowToJson(websocketFlow())));
  json.websocket.messages[2].type = "continuation";
  assert.throws(() => flowFromJson(json), /websocket\.messages\[2\]\.type: unknown message type/);
});

test("HAR: _webSocketMessages in Chrome's shape, valid HAR, and read back the same", () => {
  const flow = websocketFlow();
  const har = flowsToHar([flow]);
  assert.ok(validateHar(har).valid);
  const entry = har.log.entries[0];
  assert.equal(entry._resourceType, "websocket");
  const msgs = entry._webSocketMessages!;
  assert.deepEqual(msgs[0], { type: "send", time: (T0 + 10) / 1000, opcode: 1, data: "héllo" });
  assert.deepEqual(msgs.map((m) => [m.type, m.opcode]), [
    ["send", 1],
    ["receive", 2],
    ["send", 9],
    ["receive", 10],
    ["send", 1],
    ["receive", 1],
    ["send", 8],
  ]);
  assert.equal(msgs[1].data, btoa(String.fromCharCode(...BINARY)));
  assert.equal(msgs[4]._dropped, true);
  assert.equal(msgs[5]._injected, true);
  const [back] = harToFlows(JSON.parse(JSON.stringify(har)));
  assert.deepEqual(summary(back), summary(flow));
});

test("HAR from Chrome (no _mitm) with _webSocketMessages becomes a WebSocket flow", () => {
  const har = {
    log: {
      version: "1.2",
      creator: { name: "WebInspector", version: "537.36" },
      entries: [{
        startedDateTime: "2025-01-02T03:04:05.678Z",
        time: 1,
        request: {
          method: "GET",
          url: "wss://echo.example/socket",
          httpVersion: "HTTP/1.1",
          headers: [],
          queryString: [],
          cookies: [],
          headersSize: -1,
          bodySize: 0,
        },
        response: {
          status: 101,
          statusText: "Switching Protocols",
          httpVersion: "HTTP/1.1",
          headers: [],
          cookies: [],
          content: { size: 0, mimeType: "x-unknown" },
          redirectURL: "",
          headersSize: -1,
          bodySize: 0,
        },
        cache: {},
        timings: { send: 0, wait: 0, receive: 0 },
        _resourceType: "websocket",
        _webSocketMessages: [
          { type: "send", time: 1735787045.7, opcode: 1, data: "hi" },
          { type: "receive", time: 1735787045.8, opcode: 2, data: "AAEC" },
        ],
      }],
    },
  };
  const [flow] = harToFlows(har);
  assert.equal(flow.request.url, "https://echo.example/socket");
  assert.deepEqual(
    flow.websocket!.messages.map((m) => [m.fromClient, m.type, [...m.content], m.timestamp]),
    [
      [true, "text", [...utf8("hi")], 1735787045700],
      [false, "binary", [0, 1, 2], 1735787045800],
    ],
  );
});

test("an addon that throws in websocket_message leaves the message as it was (snapshot)", () => {
  const flow = websocketFlow();
  const last = flow.websocket!.messages.at(-1)!;
  const before = [...last.content];
  const restore = flow.snapshot();
  last.text = "x";
  last.drop();
  restore();
  assert.deepEqual([...last.content], before);
  assert.equal(last.dropped, false);
});
