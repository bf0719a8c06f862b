// The HTTP/2 connection layers inside the HttpLayer, with src/http2 codecs as the h2 client and
// the h2 origin: pseudo-headers to flows, translation to and from HTTP/1.1, multiplexing, resets
// of one stream, GOAWAY, trailers, flow control. No sockets.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CallHook,
  CloseConnection,
  Disarm,
  OpenConnection,
  PauseReading,
  ResumeReading,
  SendData,
} from "../../src/proxy/core/commands.ts";
import { ConnState, Server, tlsState } from "../../src/proxy/core/connection.ts";
import { ConnectionClosed, DataReceived, Start } from "../../src/proxy/core/events.ts";
import { HttpLayer } from "../../src/proxy/layers/http/layer.ts";
import { Http2Server } from "../../src/proxy/layers/http/http2_server.ts";
import { Http2Client } from "../../src/proxy/layers/http/http2_client.ts";
import { Http1Client, Http1Server } from "../../src/proxy/layers/http/http1.ts";
import { RegularMode } from "../../src/proxy/layers/modes.ts";
import { PriorKnowledgeSniffer } from "../../src/proxy/layers/http/prior_knowledge.ts";
import { NextLayer } from "../../src/proxy/layers/next_layer.ts";
import type { Flow } from "../../src/flow/flow.ts";
import { ErrorCode } from "../../src/http2/mod.ts";
import { encodeFrame, FrameParser, Opcode, randomMask } from "../../src/websocket/mod.ts";
import { WebSocketData } from "../../src/flow/websocket.ts";
import type { WebSocketHandshakeData } from "../../src/proxy/layers/http/websocket.ts";
import { Drive, H2Peer } from "./h2_harness.ts";
import { b, context } from "./layer_helpers.ts";

const REGULAR = { kind: "regular" } as const;
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** An HttpLayer with an h2 client (prior knowledge), hooks recorded. */
function h2Client(options = {}, alpn: (s: Server) => string | null = () => "http/1.1") {
  const ctx = context(options);
  const layer = new HttpLayer(ctx, REGULAR, "http", null, true);
  const drive = new Drive(layer, alpn);
  const client = new H2Peer(drive, ctx.client, "client");
  drive.send(new Start());
  client.flush(); // preface and SETTINGS
  client.read();
  client.flush(); // SETTINGS ack
  return { ctx, layer, drive, client };
}

function get(path: string, authority = "example.com", scheme = "https") {
  return [
    [":method", "GET"],
    [":scheme", scheme],
    [":authority", authority],
    [":path", path],
    ["user-agent", "t"],
  ] as [string, string][];
}

function flows(drive: Drive): Flow[] {
  return drive.commands.filter((c) => c.toString() === "CallHook(flow_done)").map((c) =>
    (c as unknown as { data: Flow }).data
  );
}

/** An HTTP/1.1 origin's 101 (its Sec-WebSocket-Accept is checked by the hook, answered below). */
const SWITCHING = b(
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Accept: checked-by-the-hook\r\n\r\n",
);

/** Answers websocket_handshake as the driver's services do for a valid 101 (no deflate). */
function acceptWebSockets(drive: Drive): void {
  drive.onHook = (hook) => {
    if (hook.name !== "websocket_handshake") return;
    const data = hook.data as WebSocketHandshakeData;
    data.flow.websocket = new WebSocketData();
    data.deflate = false;
  };
}

/** An RFC 8441 extended CONNECT for a WebSocket at `path` (not flushed); its stream id. */
function extendedConnect(client: H2Peer, path: string): number {
  return client.h2.request(
    [
      [":method", "CONNECT"],
      [":protocol", "websocket"],
      [":scheme", "http"],
      [":authority", "ws.test"],
      [":path", path],
      ["sec-websocket-version", "13"],
    ],
    false,
  );
}

describe("Http2Server: an h2 client through the HttpLayer", () => {
  test("a GET to an HTTP/1.1 origin: pseudo-headers to the flow, Host from :authority", () => {
    const { ctx, layer, drive, client } = h2Client();
    assert.ok(layer.client instanceof Http2Server);
    const id = client.h2.request(get("/a?b=1"), true);
    const yielded = client.flush();
    assert.deepEqual(
      yielded.filter((c) => !(c instanceof SendData)).map(String),
      [
        "CallHook(requestheaders)",
        "CallHook(request)",
        `OpenConnection(${drive.servers[0].id} example.com:443)`,
        `StartTls(${drive.servers[0].id}, alpn=h2,http/1.1)`,
      ],
    );
    const server = drive.servers[0];
    assert.equal(
      dec(drive.take(server)),
      "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nuser-agent: t\r\n\r\n",
    );
    drive.send(
      new DataReceived(
        server,
        b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi"),
      ),
    );
    client.read();
    assert.deepEqual(client.kinds(id), ["response 200", "data", "end"]);
    const response = client.events.find((e) => e.type === "response")!;
    assert.deepEqual(response.type === "response" && response.headers, [["content-length", "2"]]);
    assert.equal(client.body(id), "hi");
    const [flow] = flows(drive);
    assert.equal(flow.request.httpVersion, "HTTP/2.0");
    assert.equal(flow.request.method, "GET");
    assert.equal(flow.request.url, "https://example.com/a?b=1");
    assert.equal(flow.response?.httpVersion, "HTTP/1.1");
    assert.equal(layer.streams.size, 0);
    assert.equal(ctx.client.open, true);
  });

  test("three streams at once to an HTTP/1.1 origin: three connections; a client reset ends one only", () => {
    const { drive, client } = h2Client();
    const ids = ["/1", "/2", "/3"].map((p) => client.h2.request(get(p), true));
    client.flush();
    assert.equal(drive.servers.length, 3, "HTTP/1.1 carries one stream per connection");
    const [s1, s2, s3] = drive.servers;
    client.h2.reset(ids[1], ErrorCode.CANCEL);
    const yielded = client.flush();
    assert.ok(
      yielded.some((c) => c instanceof CloseConnection && c.conn === s2),
      "its origin connection is dropped",
    );
    for (const [s, body] of [[s1, "one"], [s3, "three"]] as const) {
      drive.send(
        new DataReceived(s, b(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`)),
      );
    }
    client.read();
    assert.equal(client.body(ids[0]), "one");
    assert.equal(client.body(ids[2]), "three");
    assert.deepEqual(client.kinds(ids[1]), [], "nothing more on the reset stream");
    const errors = flows(drive).filter((f) => f.error !== null).map((f) => f.error!.message);
    assert.deepEqual(errors, ["client reset the stream (CANCEL)"]);
  });

  test("a request body with trailers, streamed to an HTTP/1.1 origin as chunked", () => {
    const { drive, client } = h2Client({ holdRequestBodies: false, holdResponseBodies: false });
    const id = client.h2.request(
      [[":method", "POST"], [":scheme", "https"], [":authority", "example.com"], [":path", "/up"]],
      false,
    );
    client.h2.sendData(id, b("abc"));
    client.h2.sendTrailers(id, [["x-sum", "1"]]);
    client.flush();
    const server = drive.servers[0];
    assert.equal(
      dec(drive.take(server)),
      "POST /up HTTP/1.1\r\nHost: example.com\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-sum: 1\r\n\r\n",
    );
    drive.send(
      new DataReceived(
        server,
        b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-done: yes\r\n\r\n"),
      ),
    );
    client.read();
    assert.deepEqual(client.kinds(id), ["response 200", "data", "trailers"]);
    const trailers = client.events.find((e) => e.type === "trailers");
    assert.deepEqual(trailers?.type === "trailers" && trailers.headers, [["x-done", "yes"]]);
  });

  test("an origin that breaks gives that stream a 502 with the reason; the connection goes on", () => {
    const { ctx, drive, client } = h2Client();
    const id = client.h2.request(get("/"), true);
    client.flush();
    drive.send(new DataReceived(drive.servers[0], b("NOT HTTP\r\n\r\n")));
    client.read();
    assert.deepEqual(client.kinds(id), ["response 502", "data", "end"]);
    assert.match(client.body(id), /origin|response|status/i);
    const id2 = client.h2.request(get("/again"), true);
    client.flush();
    assert.equal(drive.servers.length, 2);
    drive.send(new DataReceived(drive.servers[1], b("HTTP/1.1 204 No Content\r\n\r\n")));
    client.read();
    assert.deepEqual(client.kinds(id2), ["response 204"]);
    assert.equal(ctx.client.open, true);
  });

  test("a large upload is acknowledged as it is handed on, so the client never stalls", () => {
    const { drive, client } = h2Client({ holdRequestBodies: false, holdResponseBodies: false });
    const id = client.h2.request(
      [[":method", "PUT"], [":scheme", "https"], [":authority", "example.com"], [":path", "/big"], [
        "content-length",
        String(4 << 20),
      ]],
      false,
    );
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let sent = 0;
    let originGot = 0;
    for (let round = 0; round < 1000 && sent < 4 << 20; round++) {
      while (sent < 4 << 20 && client.h2.sendWindow(id) > 0 && client.h2.queuedBytes(id) === 0) {
        client.h2.sendData(id, chunk, sent + chunk.length === 4 << 20);
        sent += chunk.length;
      }
      client.flush();
      client.read(); // WINDOW_UPDATEs
      originGot += drive.take(drive.servers[0]).length;
    }
    assert.equal(sent, 4 << 20, "the whole body went out");
    assert.ok(originGot >= 4 << 20, "and reached the origin");
  });

  test("h2c gRPC to a plain-HTTP origin: h2c there too (gRPC servers speak only h2c)", () => {
    const { layer, drive, client } = h2Client();
    const id = client.h2.request(
      [...get("/svc/M", "example.com", "http"), ["content-type", "application/grpc+proto"]],
      true,
    );
    client.flush();
    const server = drive.servers[0];
    assert.equal(server.tls, null);
    assert.ok(layer.pool.get(server)?.layer instanceof Http2Client);
    const origin = new H2Peer(drive, server, "server");
    origin.read();
    const req = origin.events.find((e) => e.type === "request");
    assert.ok(req?.type === "request");
    assert.deepEqual(req.pseudo, {
      method: "GET",
      scheme: "http",
      authority: "example.com",
      path: "/svc/M",
    });
    origin.h2.sendHeaders(req.streamId, [[":status", "200"], ["grpc-status", "5"]], true);
    origin.flush();
    client.read();
    // No body: one HEADERS frame with END_STREAM, as gRPC's trailers-only answers need.
    assert.deepEqual(client.kinds(id), ["response 200"]);
    const head = client.events.find((e) => e.type === "response");
    assert.ok(head?.type === "response" && head.endStream);
  });

  test("h2c (not gRPC) to a plain-HTTP origin: HTTP/1.1 there, which every plain origin speaks", () => {
    const { layer, drive, client } = h2Client();
    const id = client.h2.request(get("/plain", "example.com", "http"), true);
    client.flush();
    const server = drive.servers[0];
    assert.equal(server.tls, null);
    assert.ok(layer.pool.get(server)?.layer instanceof Http1Client);
    assert.equal(
      dec(drive.take(server)),
      "GET /plain HTTP/1.1\r\nHost: example.com\r\nuser-agent: t\r\n\r\n",
    );
    drive.send(new DataReceived(server, b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
    client.read();
    assert.deepEqual(client.kinds(id), ["response 200", "data", "end"]);
    assert.equal(client.body(id), "ok");
    // A gRPC call to the same origin does not take the HTTP/1.1 connection.
    client.h2.request(
      [...get("/svc/M", "example.com", "http"), ["content-type", "application/grpc"]],
      true,
    );
    client.flush();
    assert.equal(drive.servers.length, 2);
    assert.ok(layer.pool.get(drive.servers[1])?.layer instanceof Http2Client);
  });

  test("garbage from an h2 client ends its connection with GOAWAY, never with a throw", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const { ctx, drive, client } = h2Client();
      client.h2.request(get("/"), false);
      client.flush();
      const junk = new Uint8Array(1 + Math.floor(random() * 200));
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256);
      // A frame header that is plausible half the time, so the payload checks run too.
      if (round % 2 === 0) junk.set([0, 0, junk.length > 9 ? junk.length - 9 : 0, round % 10], 0);
      drive.send(new DataReceived(ctx.client, junk));
      client.read();
      if (!ctx.client.open) {
        assert.ok(client.events.some((e) => e.type === "goaway"), "GOAWAY before the close");
      }
    }
  });

  test("RFC 8441: SETTINGS_ENABLE_CONNECT_PROTOCOL, and extended CONNECT becomes an HTTP/1.1 Upgrade", () => {
    const { drive, client } = h2Client();
    assert.equal(client.h2.remoteSettings.enableConnectProtocol, true);
    const id = extendedConnect(client, "/chat?x=1");
    client.flush();
    const server = drive.servers[0];
    const head = dec(drive.take(server));
    assert.match(head, /^GET \/chat\?x=1 HTTP\/1\.1\r\n/);
    assert.match(head, /\r\nconnection: Upgrade\r\n/i);
    assert.match(head, /\r\nupgrade: websocket\r\n/i);
    assert.match(head, /\r\nsec-websocket-key: [A-Za-z0-9+\/]{22}==\r\n/i);
    assert.doesNotMatch(head, /transfer-encoding/i);
    // A refusal is an ordinary response on the stream.
    drive.send(
      new DataReceived(server, b("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno")),
    );
    client.read();
    assert.deepEqual(client.kinds(id), ["response 403", "data", "end"]);
  });

  for (const how of ["its connection closes", "it resets the stream"]) {
    test(`RFC 8441: after the closing handshake the client's side is still open; ${how}: the flow is done`, () => {
      const { ctx, drive, client } = h2Client();
      acceptWebSockets(drive);
      const id = extendedConnect(client, "/chat");
      client.flush();
      const server = drive.servers[0];
      assert.match(dec(drive.take(server)), /^GET \/chat HTTP\/1\.1\r\n/);
      drive.send(new DataReceived(server, SWITCHING));
      client.read();
      assert.deepEqual(client.kinds(id), ["response 200"], client.body(id));
      // The client closes (1000); the origin answers with its close and hangs up.
      const code = new Uint8Array([0x03, 0xe8]);
      client.h2.sendData(
        id,
        encodeFrame({ opcode: Opcode.Close, payload: code, mask: randomMask() }),
      );
      client.flush();
      drive.send(
        new DataReceived(server, encodeFrame({ opcode: Opcode.Close, payload: code, mask: null })),
      );
      drive.send(new ConnectionClosed(server));
      client.read();
      assert.deepEqual(client.kinds(id), ["response 200", "data", "end"]);
      assert.deepEqual(flows(drive), [], "the client has not ended its side yet");
      if (how === "its connection closes") drive.send(new ConnectionClosed(ctx.client));
      else {
        client.h2.reset(id, ErrorCode.CANCEL);
        client.flush();
      }
      const done = flows(drive);
      assert.equal(done.length, 1);
      assert.equal(done[0].websocket?.closeCode, 1000);
      assert.equal(done[0].websocket?.closedByClient, true);
      assert.equal(done[0].error, null, "the closing handshake was complete");
    });
  }

  test("RFC 8441: frames the client sent before the handshake's answer go to the origin after it", () => {
    const { drive, client } = h2Client();
    acceptWebSockets(drive);
    const id = extendedConnect(client, "/early");
    const early = new TextEncoder().encode("too soon");
    client.h2.sendData(
      id,
      encodeFrame({ opcode: Opcode.Text, payload: early, mask: randomMask() }),
    );
    client.flush();
    const server = drive.servers[0];
    assert.match(
      dec(drive.take(server)),
      /^GET \/early HTTP\/1\.1\r\n[\s\S]*\r\n\r\n$/,
      "the head only",
    );
    drive.send(new DataReceived(server, SWITCHING));
    client.read();
    assert.deepEqual(client.kinds(id), ["response 200"]);
    const frames = new FrameParser({ masked: true }).push(drive.take(server));
    assert.deepEqual(frames.map((f) => dec(f.payload)), ["too soon"]);
    const flow = drive.all(CallHook).find((c) => c.name === "websocket_message")!.data as Flow;
    assert.equal(flow.websocket!.messages[0]?.text, "too soon");
    assert.equal(flow.request.bodySize, 0, "not counted as a request body");
  });

  test("RFC 8441: more than 64 KiB before the handshake's answer: a 400 saying why", () => {
    const { drive, client } = h2Client();
    const id = extendedConnect(client, "/flood");
    client.flush();
    for (let i = 0; i < 5; i++) {
      client.h2.sendData(id, new Uint8Array(16_000));
      client.flush();
      client.read(); // the proxy's WINDOW_UPDATEs
    }
    assert.deepEqual(client.kinds(id).slice(0, 1), ["response 400"]);
    assert.match(client.body(id), /over 65536 bytes of WebSocket data before its handshake/);
    assert.match(flows(drive)[0]?.error?.message ?? "", /before its handshake was answered/);
  });

  test("an origin connected before the client's handshake (server-first TLS): its early SETTINGS are kept", () => {
    const ctx = context();
    const own = new Server({ host: "example.com", port: 443 });
    own.state = ConnState.Open;
    own.tls = tlsState("example.com", ["h2", "http/1.1"]);
    own.tls.alpn = "h2";
    own.tls.established = true;
    ctx.server = own;
    const layer = new HttpLayer(ctx, { kind: "transparent" }, "https", null, true);
    const drive = new Drive(layer);
    const client = new H2Peer(drive, ctx.client, "client");
    const origin = new H2Peer(drive, own, "server");
    drive.send(new Start());
    // The origin's SETTINGS (a stream limit of 1) arrive before any request.
    origin.h2.updateSettings({ maxConcurrentStreams: 1 });
    origin.flush();
    client.flush();
    client.read();
    client.flush();
    client.h2.request(get("/one"), true);
    client.h2.request(get("/two"), true);
    client.flush();
    origin.read();
    const requests = origin.events.filter((e) => e.type === "request");
    assert.ok(!origin.events.some((e) => e.type === "goaway"), "no connection error");
    assert.equal(requests.length, 1, "the origin's limit of one stream is obeyed");
    // Known from those SETTINGS: the tunnel's connection is full, the second stream dials.
    assert.equal(drive.servers.length, 1);
  });

  test("an h2 client that stops reading: its HTTP/1.1 origin is not read past 1 MiB queued", () => {
    const { drive, client } = h2Client({ holdResponseBodies: false });
    client.autoAck = false; // the client's window stays shut once used up
    const id = client.h2.request(get("/big"), true);
    client.flush();
    const server = drive.servers[0];
    drive.take(server);
    drive.send(
      new DataReceived(server, b(`HTTP/1.1 200 OK\r\nContent-Length: ${8 << 20}\r\n\r\n`)),
    );
    const chunk = new Uint8Array(64 << 10);
    let paused = false;
    for (let sent = 0; sent < 8 << 20 && !paused; sent += chunk.length) {
      const yielded = drive.send(new DataReceived(server, chunk));
      paused = yielded.some((c) => c instanceof PauseReading && c.conn === server);
      client.read();
    }
    assert.ok(paused, "the origin connection is paused");
    // The client reads: once the queue is under 256 KiB, the origin is read again.
    let resumed = false;
    for (let round = 0; round < 200 && !resumed; round++) {
      const got = client.events.filter((e) => e.type === "data" && e.streamId === id);
      for (const e of got.splice(0)) {
        if (e.type === "data") client.h2.acknowledgeData(e.streamId, e.data.length);
      }
      client.events.length = 0;
      resumed = client.flush().some((c) => c instanceof ResumeReading && c.conn === server);
      client.read();
    }
    assert.ok(resumed, "and resumed once the client took the queued bytes");
  });
});

describe("Http2Client: origins that speak h2", () => {
  /** An h1 client (plain) sending absolute https URLs, with origins choosing h2 in ALPN. */
  function h1ToH2() {
    const ctx = context({ holdResponseBodies: false });
    const layer = new HttpLayer(ctx, REGULAR);
    const drive = new Drive(layer, () => "h2");
    drive.send(new Start());
    return { ctx, layer, drive };
  }

  test("an HTTP/1.1 client to an h2-only origin: translated both ways, trailers included", () => {
    const { ctx, layer, drive } = h1ToH2();
    drive.send(
      new DataReceived(
        ctx.client,
        b("GET https://h2.test/x HTTP/1.1\r\nHost: h2.test\r\nAccept: */*\r\n\r\n"),
      ),
    );
    const server = drive.servers[0];
    assert.deepEqual(server.tls?.alpnOffers, ["http/1.1", "h2"]);
    assert.ok(layer.pool.get(server)?.layer instanceof Http2Client);
    const origin = new H2Peer(drive, server, "server");
    origin.read();
    const req = origin.events.find((e) => e.type === "request");
    assert.ok(req?.type === "request");
    assert.deepEqual(req.pseudo, {
      method: "GET",
      scheme: "https",
      authority: "h2.test",
      path: "/x",
    });
    assert.deepEqual(req.headers, [["accept", "*/*"]]);
    origin.h2.sendHeaders(
      req.streamId,
      [[":status", "200"], ["content-type", "text/plain"]],
      false,
    );
    origin.h2.sendData(req.streamId, b("hello"));
    origin.h2.sendTrailers(req.streamId, [["grpc-status", "0"]]);
    origin.flush();
    assert.equal(
      dec(drive.take(ctx.client)),
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ngrpc-status: 0\r\n\r\n",
    );
    const [flow] = flows(drive);
    assert.equal(flow.response?.httpVersion, "HTTP/2.0");
    assert.equal(flow.response?.trailers?.get("grpc-status"), "0");
  });

  test("h2 client and h2 origin: streams share one connection; an origin reset fails one stream only", () => {
    const { drive, client } = h2Client({}, () => "h2");
    const ids = ["/1", "/2", "/3"].map((p) => client.h2.request(get(p, "h2.test", "https"), true));
    client.flush();
    assert.equal(drive.all(OpenConnection).length, 1, "one origin connection for three streams");
    const server = drive.servers[0];
    assert.deepEqual(server.tls?.alpnOffers, ["h2", "http/1.1"]);
    const origin = new H2Peer(drive, server, "server");
    origin.read();
    const reqs = origin.events.filter((e) => e.type === "request");
    assert.equal(reqs.length, 3);
    origin.h2.reset(reqs[1].type === "request" ? reqs[1].streamId : 0, ErrorCode.INTERNAL_ERROR);
    for (const r of [reqs[0], reqs[2]]) {
      if (r.type !== "request") continue;
      origin.h2.sendHeaders(r.streamId, [[":status", "200"]], false);
      origin.h2.sendData(r.streamId, b(r.pseudo.path!), true);
    }
    origin.flush();
    client.read();
    assert.equal(client.body(ids[0]), "/1");
    assert.equal(client.body(ids[2]), "/3");
    assert.equal(client.kinds(ids[1])[0], "response 502");
    assert.match(client.body(ids[1]), /origin reset the stream \(INTERNAL_ERROR\)/);
    assert.equal(server.open, true, "the origin connection stays for the others");
  });

  test("the origin's SETTINGS_MAX_CONCURRENT_STREAMS caps sharing; more streams dial more", () => {
    const { drive, client } = h2Client({}, () => "h2");
    const first = client.h2.request(get("/0", "h2.test", "https"), true);
    client.flush();
    const server = drive.servers[0];
    const origin = new H2Peer(drive, server, "server");
    origin.h2.updateSettings({ maxConcurrentStreams: 1 });
    origin.read();
    origin.flush();
    client.read();
    client.flush();
    const second = client.h2.request(get("/1", "h2.test", "https"), true);
    client.flush();
    assert.equal(drive.servers.length, 2, "the first connection is full");
    origin.read();
    const req = origin.events.find((e) => e.type === "request");
    if (req?.type === "request") origin.h2.sendHeaders(req.streamId, [[":status", "204"]], true);
    origin.flush();
    client.read();
    assert.deepEqual(client.kinds(first), ["response 204"]);
    assert.ok(second > first);
  });

  test("GOAWAY from the origin: the stream it covers finishes, new streams dial anew, then it closes", () => {
    const { drive, client } = h2Client({}, () => "h2");
    const a = client.h2.request(get("/a", "h2.test", "https"), true);
    client.flush();
    const server = drive.servers[0];
    const origin = new H2Peer(drive, server, "server");
    origin.read();
    const req = origin.events.find((e) => e.type === "request");
    assert.ok(req?.type === "request");
    origin.h2.goAway(ErrorCode.NO_ERROR, "", req.streamId);
    origin.flush();
    const b2 = client.h2.request(get("/b", "h2.test", "https"), true);
    client.flush();
    assert.equal(drive.servers.length, 2, "no new stream on a connection that is going away");
    origin.h2.sendHeaders(req.streamId, [[":status", "200"]], false);
    origin.h2.sendData(req.streamId, b("done"), true);
    const yielded = origin.flush();
    client.read();
    assert.equal(client.body(a), "done");
    assert.ok(
      yielded.some((c) => c instanceof CloseConnection && c.conn === server),
      "drained, then closed",
    );
    assert.ok(b2 > a);
  });

  test("per-stream backpressure h2 to h2: an origin that does not read holds back that upload only", () => {
    const { drive, client } = h2Client(
      { holdRequestBodies: false, holdResponseBodies: false },
      () => "h2",
    );
    const up = client.h2.request(
      [[":method", "POST"], [":scheme", "https"], [":authority", "h2.test"], [":path", "/up"]],
      false,
    );
    client.flush();
    const origin = new H2Peer(drive, drive.servers[0], "server");
    origin.autoAck = false; // reads nothing: its windows stay shut
    origin.read();
    origin.flush();
    const chunk = new Uint8Array(16 * 1024).fill(0x62);
    let sent = 0;
    const pump = () => {
      for (let round = 0; round < 200; round++) {
        while (client.h2.sendWindow(up) > 0 && client.h2.queuedBytes(up) === 0) {
          client.h2.sendData(up, chunk);
          sent += chunk.length;
        }
        client.flush();
        client.read();
        origin.read();
        origin.flush();
      }
    };
    pump();
    const received = () =>
      origin.events.reduce((n, e) => n + (e.type === "data" ? e.data.length : 0), 0);
    // What the client may send: its window towards the proxy plus what the origin's window let
    // through; nothing piles up in the proxy.
    const windows = 256 * 1024 + 256 * 1024;
    assert.ok(sent <= windows + chunk.length, `sent ${sent}`);
    assert.ok(received() <= 256 * 1024, "the origin got no more than its window");
    // A sibling stream still gets its response meanwhile.
    const other = client.h2.request(get("/other", "h2.test", "https"), true);
    client.flush();
    origin.read();
    const req = origin.events.filter((e) => e.type === "request").at(-1);
    if (req?.type === "request") origin.h2.sendHeaders(req.streamId, [[":status", "204"]], true);
    origin.flush();
    client.read();
    assert.deepEqual(client.kinds(other), ["response 204"]);
    // The origin reads what it got: the upload moves on.
    const before = sent;
    origin.autoAck = true;
    for (const e of origin.events) {
      if (e.type === "data") origin.h2.acknowledgeData(e.streamId, e.data.length);
    }
    origin.flush();
    pump();
    assert.ok(sent > before + 256 * 1024, `the upload resumed (${before} -> ${sent})`);
  });

  test("a request head over the origin's header list limit fails that stream only (502)", () => {
    const { drive, client } = h2Client({}, () => "h2");
    const first = client.h2.request(get("/small", "h2.test", "https"), true);
    client.flush();
    const origin = new H2Peer(drive, drive.servers[0], "server");
    origin.h2.updateSettings({ maxHeaderListSize: 1024 });
    origin.read();
    origin.flush();
    const big = client.h2.request(
      [...get("/big", "h2.test", "https"), ["x-big", "y".repeat(4000)]],
      true,
    );
    client.flush();
    client.read();
    assert.equal(client.kinds(big)[0], "response 502");
    assert.match(client.body(big), /cannot send the request/);
    const req = origin.events.find((e) => e.type === "request");
    if (req?.type === "request") origin.h2.sendHeaders(req.streamId, [[":status", "204"]], true);
    origin.flush();
    client.read();
    assert.deepEqual(client.kinds(first), ["response 204"]);
  });

  test("option http2 off: only http/1.1 is offered to origins", () => {
    const ctx = context({ http2: false });
    const drive = new Drive(new HttpLayer(ctx, REGULAR), () => "http/1.1");
    drive.send(new Start());
    drive.send(
      new DataReceived(ctx.client, b("GET https://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n")),
    );
    assert.deepEqual(drive.servers[0].tls?.alpnOffers, ["http/1.1"]);
  });
});

describe("NextLayer: h2c with prior knowledge", () => {
  const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

  test("the client preface (even split) leads to an HttpLayer speaking HTTP/2", () => {
    const ctx = context();
    const next = new NextLayer(ctx, { kind: "transparent" });
    const drive = new Drive(next);
    drive.send(new Start());
    drive.send(new DataReceived(ctx.client, b(PREFACE.slice(0, 5))));
    assert.equal(next.decision, "undecided", "PRI alone could still be HTTP/1");
    drive.send(new DataReceived(ctx.client, b(PREFACE.slice(5))));
    assert.equal(next.decision, "http");
    assert.ok((next.child as HttpLayer).client instanceof Http2Server);
  });

  test("with http2 off the preface is HTTP/1 (and refused as such)", () => {
    const ctx = context({ http2: false });
    const next = new NextLayer(ctx, { kind: "transparent" });
    const drive = new Drive(next);
    drive.send(new Start());
    drive.send(new DataReceived(ctx.client, b(PREFACE)));
    assert.equal(next.decision, "http");
    assert.ok(!((next.child as HttpLayer).client instanceof Http2Server));
  });
});

describe("RegularMode: h2c with prior knowledge on the proxy port", () => {
  const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const http = (mode: RegularMode) => (mode.child as PriorKnowledgeSniffer).child as HttpLayer;

  test("the preface (split) swaps in HTTP/2 and disarms the HTTP/1 idle deadline", () => {
    const ctx = context({ idleTimeoutMs: 60_000 });
    const mode = new RegularMode(ctx);
    const drive = new Drive(mode);
    drive.send(new Start());
    assert.ok(http(mode).client instanceof Http1Server);
    const arm = drive.commands.find((c) => c.toString().startsWith("Arm"));
    assert.ok(arm, "HTTP/1 armed its idle deadline");
    drive.send(new DataReceived(ctx.client, b(PREFACE.slice(0, 3))));
    assert.ok(http(mode).client instanceof Http1Server, "PRI could still be HTTP/1");
    drive.send(new DataReceived(ctx.client, b(PREFACE.slice(3))));
    assert.ok(http(mode).client instanceof Http2Server);
    assert.ok(drive.commands.some((c) => c instanceof Disarm && c.timer === arm));
  });

  test("POST and PUT (also starting with P) stay HTTP/1", () => {
    for (const method of ["POST", "PUT", "PATCH"]) {
      const ctx = context();
      const mode = new RegularMode(ctx);
      const drive = new Drive(mode);
      drive.send(new Start());
      drive.send(new DataReceived(ctx.client, b(method.slice(0, 1))));
      drive.send(
        new DataReceived(
          ctx.client,
          b(`${
            method.slice(1)
          } http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n`),
        ),
      );
      assert.ok(http(mode).client instanceof Http1Server);
      assert.equal(
        dec(drive.take(drive.servers[0])),
        `${method} / HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n`,
      );
    }
  });
});
