import { test } from "node:test";
import assert from "node:assert/strict";
import { RelayedMessage, RelayError, WebSocketRelay } from "../../src/websocket/relay.ts";
import { FrameParser } from "../../src/websocket/frame_parser.ts";
import { MessageAssembler } from "../../src/websocket/message_assembler.ts";
import { encodeFrame, Opcode } from "../../src/websocket/frame.ts";
import { WebSocketMessage } from "../../src/flow/websocket.ts";
import { concat, DEFLATE, hex, RFC, text, utf8 } from "./helpers.ts";

function messagesOf(relay: WebSocketRelay, bytes: Uint8Array): RelayedMessage[] {
  const items = relay.receive(bytes);
  for (const i of items) assert.ok(i instanceof RelayedMessage, String((i as RelayError).reason));
  return items as RelayedMessage[];
}

/** What the receiving peer would read from `bytes`. */
function peerReads(bytes: Uint8Array[], masked: boolean, deflate = false): [number, string][] {
  const parser = new FrameParser({ masked, allowRsv1: deflate });
  const asm = new MessageAssembler({ deflate });
  return bytes.flatMap((b) => parser.push(b)).map((f) => asm.push(f)).filter((m) => m !== null)
    .map((m) => [m.opcode, text(m.payload)]);
}

test("unchanged messages are forwarded as the very frames they came in", () => {
  const relay = new WebSocketRelay({ fromClient: false, now: () => 42 });
  const input = concat(RFC.fragmentedHel, RFC.unmaskedPing, RFC.fragmentedLo);
  const items = messagesOf(relay, input);
  assert.deepEqual(
    items.map((i) => [i.message.type, i.message.text, i.message.fromClient, i.message.timestamp]),
    [
      ["ping", "Hello", false, 42],
      ["text", "Hello", false, 42],
    ],
  );
  assert.deepEqual(
    concat(...items.flatMap((i) => relay.forward(i))),
    concat(RFC.unmaskedPing, RFC.fragmentedHel, RFC.fragmentedLo),
  );
});

test("a changed client message is re-serialised as one frame with a fresh mask", () => {
  const keys = [hex("01020304"), hex("a0b0c0d0")];
  const relay = new WebSocketRelay({ fromClient: true, mask: () => keys.shift()! });
  const [hello] = messagesOf(relay, RFC.maskedHello);
  hello.message.text = "Goodbye";
  assert.ok(hello.changed);
  const out = relay.forward(hello);
  assert.deepEqual(out, [
    encodeFrame({ opcode: Opcode.Text, payload: utf8("Goodbye"), mask: hex("01020304") }),
  ]);
  assert.deepEqual(peerReads(out, true), [[1, "Goodbye"]]);
  // same bytes in a new array is no change: original frames go on
  const [again] = messagesOf(relay, RFC.maskedHello);
  again.message.content = utf8("Hello");
  assert.equal(again.changed, false);
  assert.deepEqual(relay.forward(again), [RFC.maskedHello]);
  // a type change is a change
  const [t] = messagesOf(relay, RFC.maskedHello);
  t.message.type = "binary";
  assert.deepEqual(peerReads(relay.forward(t), true), [[2, "Hello"]]);
});

test("dropped messages send nothing; injected ones are encoded for the direction", () => {
  const toServer = new WebSocketRelay({ fromClient: true });
  const [m] = messagesOf(toServer, RFC.maskedHello);
  m.message.drop();
  assert.deepEqual(toServer.forward(m), []);
  const injected = new WebSocketMessage({
    fromClient: true,
    type: "binary",
    content: hex("0001"),
    timestamp: 0,
    injected: true,
  });
  const bytes = toServer.encode(injected);
  assert.equal(bytes[1] & 0x80, 0x80, "to the server: masked");
  const toClient = new WebSocketRelay({ fromClient: false });
  assert.equal(toClient.encode(injected)[1] & 0x80, 0, "to the client: unmasked");
  // a control message too long for a control frame is cut to 125 bytes
  const ping = new WebSocketMessage({
    fromClient: false,
    type: "ping",
    content: new Uint8Array(300),
    timestamp: 0,
  });
  assert.equal(toClient.encode(ping).length, 2 + 125);
});

test("a protocol error ends the relay with the close code; messages before it still come out", () => {
  const relay = new WebSocketRelay({ fromClient: true });
  const items = relay.receive(concat(RFC.maskedHello, RFC.unmaskedHello, RFC.maskedHello));
  assert.equal(items.length, 2);
  assert.ok(items[0] instanceof RelayedMessage);
  assert.ok(items[1] instanceof RelayError);
  assert.equal(items[1].code, 1002);
  assert.match(items[1].reason, /unmasked frame from the client/);
  assert.deepEqual(relay.receive(RFC.maskedHello), []);
  const text = new WebSocketRelay({ fromClient: false }).receive(hex("81 01 ff"));
  assert.equal((text[0] as RelayError).code, 1007);
});

test("incomplete is true while a frame or fragmented message is unfinished", () => {
  const relay = new WebSocketRelay({ fromClient: false });
  relay.receive(RFC.fragmentedHel);
  assert.ok(relay.incomplete);
  relay.receive(RFC.fragmentedLo.subarray(0, 2));
  assert.ok(relay.incomplete);
  relay.receive(RFC.fragmentedLo.subarray(2));
  assert.ok(!relay.incomplete);
});

test("deflate: unchanged compressed messages go on compressed, the hooks see plain text", () => {
  const relay = new WebSocketRelay({ fromClient: false, deflate: true });
  const items = messagesOf(relay, concat(DEFLATE.hello, DEFLATE.helloAgain));
  assert.deepEqual(items.map((i) => [i.message.text, i.compressed]), [["Hello", true], [
    "Hello",
    true,
  ]]);
  const out = items.flatMap((i) => relay.forward(i));
  assert.deepEqual(out, [DEFLATE.hello, DEFLATE.helloAgain]);
  assert.deepEqual(peerReads(out, false, true), [[1, "Hello"], [1, "Hello"]]);
});

test("deflate: after a compressed message changes, later ones are sent plain so the peer's window stays right", () => {
  const relay = new WebSocketRelay({ fromClient: false, deflate: true });
  const [first] = messagesOf(relay, DEFLATE.hello);
  first.message.text = "Howdy";
  const out = relay.forward(first);
  const [second] = messagesOf(relay, DEFLATE.helloAgain); // refers back to "Hello", which the peer never saw
  out.push(...relay.forward(second));
  assert.equal(out[1][0] & 0x40, 0, "second message sent without RSV1");
  assert.deepEqual(peerReads(out, false, true), [[1, "Howdy"], [1, "Hello"]]);
  // forwarding the original second frame would have been wrong: the peer cannot inflate it
  assert.throws(() => peerReads([out[0], DEFLATE.helloAgain], false, true), /inflate/);
});

test("deflate: a dropped compressed message also switches to plain; injected ones do not", () => {
  const relay = new WebSocketRelay({ fromClient: false, deflate: true });
  const [first] = messagesOf(relay, DEFLATE.hello);
  const injected = relay.encode(
    new WebSocketMessage({ fromClient: false, type: "text", content: utf8("hi"), timestamp: 0 }),
  );
  const out = [injected, ...relay.forward(first)];
  const [second] = messagesOf(relay, DEFLATE.helloAgain);
  out.push(...relay.forward(second));
  assert.deepEqual(
    out.slice(1),
    [DEFLATE.hello, DEFLATE.helloAgain],
    "injection left the stream alone",
  );
  const r2 = new WebSocketRelay({ fromClient: false, deflate: true });
  const [a] = messagesOf(r2, DEFLATE.hello);
  a.message.drop();
  assert.deepEqual(r2.forward(a), []);
  const [b] = messagesOf(r2, DEFLATE.helloAgain);
  assert.deepEqual(peerReads(r2.forward(b), false, true), [[1, "Hello"]]);
});
