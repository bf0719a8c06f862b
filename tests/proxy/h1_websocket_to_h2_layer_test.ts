// An HTTP/1.1 WebSocket client to an origin that speaks only HTTP/2, through the HttpLayer: the
// Upgrade goes to the origin as an RFC 8441 extended CONNECT (once its SETTINGS allow it), the
// origin's 200 comes back as the 101 the client's key expects, and the client's connection past
// the 101 is carried raw as that h2 stream's body, message by message through the relay. A
// src/http2 codec stands in for the origin. No sockets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CloseConnection, SendData } from "../../src/proxy/core/commands.ts";
import { ConnState } from "../../src/proxy/core/connection.ts";
import { ConnectionClosed, DataReceived, Start } from "../../src/proxy/core/events.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import type { WebSocketHandshakeData } from "../../src/proxy/layers/http/websocket.ts";
import { WebSocketData } from "../../src/flow/websocket.ts";
import type { Flow } from "../../src/flow/flow.ts";
import {
  closePayload,
  encodeFrame,
  FrameParser,
  Opcode,
  randomMask,
} from "../../src/websocket/mod.ts";
import { Drive, H2Peer } from "./h2_harness.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const HANDSHAKE = "GET https://h2.test/chat HTTP/1.1\r\nHost: h2.test\r\nUpgrade: websocket\r\n" +
  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
  "Sec-WebSocket-Version: 13\r\n\r\n";

/** An HTTP/1.1 client (plain, absolute https URLs) whose origins choose h2 in ALPN. */
function h1ToH2() {
  const ctx = context({ holdResponseBodies: false });
  const layer = new HttpLayer(ctx, REGULAR);
  const drive = new Drive(layer, () => "h2");
  // The driver's services check the 101 (async SHA-1); here: a valid one, no deflate.
  drive.onHook = (hook) => {
    if (hook.name !== "websocket_handshake") return;
    const data = hook.data as WebSocketHandshakeData;
    data.flow.websocket = new WebSocketData();
    data.deflate = false;
  };
  drive.send(new Start());
  return { ctx, layer, drive };
}

function flows(drive: Drive): Flow[] {
  return drive.commands.filter((c) => c.toString() === "CallHook(flow_done)").map((c) =>
    (c as unknown as { data: Flow }).data
  );
}

const masked = (opcode: number, text: string | Uint8Array) =>
  encodeFrame({
    opcode: opcode as typeof Opcode.Text,
    payload: typeof text === "string" ? b(text) : text,
    mask: randomMask(),
  });
const plain = (opcode: number, text: string | Uint8Array) =>
  encodeFrame({
    opcode: opcode as typeof Opcode.Text,
    payload: typeof text === "string" ? b(text) : text,
    mask: null,
  });

describe("HTTP/1.1 WebSocket client to an h2-only origin", () => {
  test("extended CONNECT to the origin, 101 to the client, messages both ways on the flow", () => {
    const { ctx, layer, drive } = h1ToH2();
    drive.send(new DataReceived(ctx.client, b(HANDSHAKE)));
    const server = drive.servers[0];
    const origin = new H2Peer(drive, server, "server", { enableConnectProtocol: true });
    origin.flush(); // its SETTINGS: extended CONNECT allowed
    origin.read();
    const req = origin.events.find((e) => e.type === "request");
    assert.ok(req?.type === "request", "the handshake went out once the SETTINGS came");
    assert.deepEqual(req.pseudo, {
      method: "CONNECT",
      protocol: "websocket",
      scheme: "https",
      authority: "h2.test",
      path: "/chat",
    });
    assert.equal(req.endStream, false, "the stream stays open for the frames");
    const sid = req.streamId;
    origin.h2.sendHeaders(sid, [[":status", "200"]], false);
    origin.flush();
    const head = dec(drive.take(ctx.client));
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    // RFC 6455's example key and its accept value.
    assert.match(head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);

    // A message from the client: on the origin's stream, masked anew by the relay.
    drive.send(new DataReceived(ctx.client, masked(Opcode.Text, "hello h2")));
    origin.read();
    const bytes = origin.events.flatMap((e) =>
      e.type === "data" && e.streamId === sid ? [...e.data] : []
    );
    const fromClient = new FrameParser({ masked: true }).push(Uint8Array.from(bytes));
    assert.deepEqual(fromClient.map((f) => dec(f.payload)), ["hello h2"]);

    // And one from the origin to the client.
    origin.h2.sendData(sid, plain(Opcode.Text, "h2 echo: hello h2"));
    origin.flush();
    const toClient = new FrameParser({ masked: false }).push(drive.take(ctx.client));
    assert.deepEqual(toClient.map((f) => dec(f.payload)), ["h2 echo: hello h2"]);

    // The client closes; the origin answers the close and ends its stream.
    drive.send(new DataReceived(ctx.client, masked(Opcode.Close, closePayload(1000, "bye"))));
    origin.h2.sendData(sid, plain(Opcode.Close, closePayload(1000, "bye")), true);
    const yielded = origin.flush();
    assert.ok(
      yielded.some((c) => c instanceof CloseConnection && c.conn === ctx.client && c.half),
      "the origin's END_STREAM is a FIN to the client",
    );
    // The client's FIN after ours: the connection is closed both ways (as the driver marks it).
    ctx.client.state = ConnState.Closed;
    const last = drive.send(new ConnectionClosed(ctx.client));
    assert.ok(
      last.some((c) => c instanceof CloseConnection && c.conn === server),
      "both directions over: the origin connection it used closes too",
    );
    origin.read();
    assert.ok(
      origin.events.some((e) => e.type === "data" && e.streamId === sid && e.endStream),
      "the client's FIN is END_STREAM to the origin",
    );

    const [flow] = flows(drive);
    assert.equal(flow.request.httpVersion, "HTTP/1.1");
    assert.equal(flow.response?.status, 101);
    assert.equal(flow.response?.httpVersion, "HTTP/2.0");
    const messages = flow.websocket!.messages.map((m) =>
      `${m.fromClient ? "client" : "origin"} ${m.type} ${m.type === "text" ? m.text : ""}`
    );
    assert.deepEqual(messages, [
      "client text hello h2",
      "origin text h2 echo: hello h2",
      "client close ",
      "origin close ",
    ]);
    assert.equal(flow.websocket!.closeCode, 1000);
    assert.equal(layer.streams.size, 0);
  });

  test("an origin that did not enable extended CONNECT: 502 saying so", () => {
    const { ctx, drive } = h1ToH2();
    drive.send(new DataReceived(ctx.client, b(HANDSHAKE)));
    const origin = new H2Peer(drive, drive.servers[0], "server");
    const yielded = origin.flush(); // SETTINGS without SETTINGS_ENABLE_CONNECT_PROTOCOL
    assert.ok(yielded.some((c) => c instanceof SendData && c.conn === ctx.client));
    const answer = dec(drive.take(ctx.client));
    assert.match(answer, /^HTTP\/1\.1 502 /);
    assert.match(answer, /does not take WebSockets over it \(no RFC 8441\)/);
    const [flow] = flows(drive);
    assert.match(flow.error?.message ?? "", /no RFC 8441/);
  });
});
