/** The mitmdump-style output at flow_detail 2 and 3: bodies through the contentviews, WebSocket messages. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatFlow } from "../../src/addons/builtin/dumper.ts";
import { WebSocketData, WebSocketMessage } from "../../src/flow/websocket.ts";
import { BINARY, simpleFlow, T0 } from "../flow/helpers.ts";

const utf8 = new TextEncoder();

test("detail 3 shows a JSON body pretty, numbers as written", () => {
  const out = formatFlow(
    simpleFlow('{"n":12345678901234567890,"f":1.10}', { contentType: "application/json" }),
    3,
    false,
  );
  assert.match(out, /^ {2}< \{$/m);
  assert.match(out, /^ {2}< {3}"n": 12345678901234567890,$/m);
  assert.match(out, /^ {2}< {3}"f": 1\.10$/m);
});

test("detail 3 names a binary body by its size", () => {
  const out = formatFlow(simpleFlow(BINARY, { contentType: "application/octet-stream" }), 3, false);
  assert.match(out, /^ {2}< \[binary body: 256b\]$/m);
});

test("WebSocket messages: one line each at detail 2, whole at 3, and the close", () => {
  const flow = simpleFlow("", { status: 101 });
  const ws = new WebSocketData();
  const long = "x".repeat(100);
  ws.messages.push(
    new WebSocketMessage({
      fromClient: true,
      type: "text",
      content: utf8.encode("hello"),
      timestamp: T0,
    }),
    new WebSocketMessage({ fromClient: false, type: "binary", content: BINARY, timestamp: T0 }),
    new WebSocketMessage({
      fromClient: false,
      type: "text",
      content: utf8.encode(long),
      timestamp: T0,
    }),
  );
  ws.closeCode = 1000;
  ws.closeReason = "bye";
  flow.websocket = ws;
  const two = formatFlow(flow, 2, false);
  assert.match(two, /^ {2}WebSocket: 3 messages$/m);
  assert.match(two, /^ {2}ws > text 5b hello$/m);
  assert.match(two, /^ {2}ws < binary 256b$/m);
  assert.match(two, new RegExp(`^  ws < text 100b ${"x".repeat(80)}…$`, "m"));
  assert.match(two, /^ {2}ws closed 1000 bye$/m);
  assert.match(formatFlow(flow, 3, false), new RegExp(`^  ws < text 100b ${long}$`, "m"));
  assert.doesNotMatch(formatFlow(flow, 1, false), /WebSocket/);
});

test("a CONNECT shows its target as host:port, not as a URL", () => {
  const flow = simpleFlow("");
  flow.request.method = "CONNECT";
  flow.request.port = 443;
  flow.request.path = "";
  flow.response = null;
  flow.error = {
    message: "could not connect to 127.0.0.1:443: DNS lookup failed",
    timestamp: T0 + 3,
  };
  assert.equal(
    formatFlow(flow, 1, false),
    "127.0.0.1:40000: CONNECT 127.0.0.1:443 3ms error: could not connect to 127.0.0.1:443: DNS lookup failed\n",
  );
});
