/**
 * The cases of h2spec (the HTTP/2 conformance tester) that apply to a sans-IO server connection,
 * written from the RFC 9113 sections h2spec covers: a raw client sends frames and the test checks
 * the connection error (GOAWAY) or stream error (RST_STREAM) the server answers with.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, type Frame, HpackEncoder, PREFACE } from "../../src/http2/mod.ts";
import { b, expectGoaway, expectReset, GET, RawClient, unhex } from "./helpers.ts";

const E = ErrorCode;

function goaway(c: RawClient, code: number) {
  return expectGoaway(c.read(), code);
}

/** A raw client with stream 1 open (request sent without END_STREAM). */
function withOpenStream(): RawClient {
  const c = new RawClient();
  c.send(c.headers(1, [[":method", "POST"], ...GET.slice(1)], false));
  c.read();
  return c;
}

const data = (streamId: number, text: string, endStream = false): Frame => ({
  type: "data",
  streamId,
  data: b(text),
  endStream,
});

describe("3.4 connection preface", () => {
  test("an invalid preface is a PROTOCOL_ERROR", () => {
    const c = new RawClient({}, false);
    c.sendBytes(b("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    goaway(c, E.PROTOCOL_ERROR);
    assert.equal(c.events[0].type, "connectionError");
  });
  test("a first frame other than SETTINGS is a PROTOCOL_ERROR", () => {
    const c = new RawClient({}, false);
    c.sendBytes(PREFACE);
    c.send({ type: "ping", ack: false, data: new Uint8Array(8) });
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("after a connection error, input is ignored", () => {
    const c = new RawClient({}, false);
    c.sendBytes(b("garbage garbage garbage!"));
    c.read();
    assert.deepEqual(c.sendBytes(PREFACE), []);
    assert.deepEqual(c.read(), []);
  });
});

describe("4.2 frame size / 4.3 header compression", () => {
  test("DATA larger than SETTINGS_MAX_FRAME_SIZE", () => {
    const c = withOpenStream();
    c.send(data(1, "x".repeat(16385)));
    goaway(c, E.FRAME_SIZE_ERROR);
  });
  test("HEADERS larger than SETTINGS_MAX_FRAME_SIZE", () => {
    const c = new RawClient();
    c.send({
      type: "headers",
      streamId: 1,
      block: new Uint8Array(16385),
      endStream: true,
      endHeaders: true,
    });
    goaway(c, E.FRAME_SIZE_ERROR);
  });
  test("an invalid header block is a COMPRESSION_ERROR", () => {
    const c = new RawClient();
    c.send({ type: "headers", streamId: 1, block: unhex("80"), endStream: true, endHeaders: true });
    goaway(c, E.COMPRESSION_ERROR);
  });
  test("a dynamic table size update above our SETTINGS_HEADER_TABLE_SIZE", () => {
    const c = new RawClient();
    c.send({
      type: "headers",
      streamId: 1,
      block: unhex("3fe21f82"),
      endStream: true,
      endHeaders: true,
    });
    goaway(c, E.COMPRESSION_ERROR);
  });
});

describe("5.1 stream states", () => {
  test("idle: DATA", () => {
    const c = new RawClient();
    c.send(data(1, "x"));
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("idle: RST_STREAM", () => {
    const c = new RawClient();
    c.send({ type: "rst_stream", streamId: 1, code: E.CANCEL });
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("idle: WINDOW_UPDATE", () => {
    const c = new RawClient();
    c.send({ type: "window_update", streamId: 1, increment: 100 });
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("idle: CONTINUATION", () => {
    const c = new RawClient();
    c.send({ type: "continuation", streamId: 1, block: unhex("82"), endHeaders: true });
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("idle: PRIORITY is allowed and opens nothing", () => {
    const c = new RawClient();
    c.send({
      type: "priority",
      streamId: 3,
      priority: { dependency: 0, exclusive: false, weight: 16 },
    });
    c.send(c.headers(1, GET));
    assert.deepEqual(c.read().filter((f) => f.type === "goaway"), []);
    assert.equal(c.events.filter((e) => e.type === "request").length, 1);
  });
  test("half-closed (remote): DATA is STREAM_CLOSED", () => {
    const c = new RawClient();
    c.send(c.headers(1, GET, true));
    c.send(data(1, "x"));
    expectReset(c.read(), 1, E.STREAM_CLOSED);
  });
  test("half-closed (remote): HEADERS is STREAM_CLOSED", () => {
    const c = new RawClient();
    c.send(c.headers(1, GET, true));
    c.send(c.headers(1, [["x-trailer", "1"]], true));
    expectReset(c.read(), 1, E.STREAM_CLOSED);
  });
  test("half-closed (remote): WINDOW_UPDATE and PRIORITY are fine", () => {
    const c = new RawClient();
    c.send(c.headers(1, GET, true));
    c.send({ type: "window_update", streamId: 1, increment: 10 });
    c.send({
      type: "priority",
      streamId: 1,
      priority: { dependency: 0, exclusive: false, weight: 1 },
    });
    assert.deepEqual(c.read().filter((f) => f.type === "goaway" || f.type === "rst_stream"), []);
  });
  test("closed after RST_STREAM: DATA is STREAM_CLOSED", () => {
    const c = withOpenStream();
    c.send({ type: "rst_stream", streamId: 1, code: E.CANCEL });
    c.send(data(1, "x"));
    expectReset(c.read(), 1, E.STREAM_CLOSED);
  });
  test("closed after RST_STREAM: HEADERS is STREAM_CLOSED", () => {
    const c = withOpenStream();
    c.send({ type: "rst_stream", streamId: 1, code: E.CANCEL });
    c.send(c.headers(1, GET));
    goaway(c, E.STREAM_CLOSED);
  });
  test("closed after END_STREAM both ways: DATA is STREAM_CLOSED", () => {
    const c = new RawClient();
    c.send(c.headers(1, GET, true));
    c.server.sendHeaders(1, [[":status", "200"]], true);
    c.read();
    c.send(data(1, "x"));
    expectReset(c.read(), 1, E.STREAM_CLOSED);
  });
  test("closed after END_STREAM both ways: HEADERS is STREAM_CLOSED", () => {
    const c = new RawClient();
    c.send(c.headers(1, GET, true));
    c.server.sendHeaders(1, [[":status", "200"]], true);
    c.read();
    c.send(c.headers(1, GET));
    goaway(c, E.STREAM_CLOSED);
  });
  test("closed: RST_STREAM and WINDOW_UPDATE are ignored", () => {
    const c = new RawClient();
    c.send(c.headers(1, GET, true));
    c.server.sendHeaders(1, [[":status", "200"]], true);
    c.read();
    c.send({ type: "window_update", streamId: 1, increment: 1 }, {
      type: "rst_stream",
      streamId: 1,
      code: 0,
    });
    assert.deepEqual(c.read(), []);
  });
});

describe("5.1.1 stream identifiers / 5.1.2 concurrency", () => {
  test("an even stream id from a client", () => {
    const c = new RawClient();
    c.send(c.headers(2, GET));
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("a stream id lower than one already opened", () => {
    const c = new RawClient();
    c.send(c.headers(5, GET));
    c.send(c.headers(3, GET));
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("more streams than SETTINGS_MAX_CONCURRENT_STREAMS are refused", () => {
    const c = new RawClient({ settings: { maxConcurrentStreams: 2 } });
    c.send(c.headers(1, GET, false), c.headers(3, GET, false), c.headers(5, GET, false));
    expectReset(c.read(), 5, E.REFUSED_STREAM);
    assert.equal(c.events.filter((e) => e.type === "request").length, 2);
    // Once a stream ends, a new one is accepted, and HPACK state stayed in step throughout.
    c.server.reset(1);
    c.send(c.headers(7, GET, false));
    assert.equal(c.events.filter((e) => e.type === "request").length, 3);
  });
});

describe("5.3.1 / 5.4 / 5.5", () => {
  test("HEADERS depending on its own stream is a stream error", () => {
    const c = new RawClient();
    const f = c.headers(1, GET);
    c.send({
      ...(f as Frame & { type: "headers" }),
      priority: { dependency: 1, exclusive: false, weight: 16 },
    });
    expectReset(c.read(), 1, E.PROTOCOL_ERROR);
  });
  test("PRIORITY depending on its own stream is a stream error", () => {
    const c = withOpenStream();
    c.send({
      type: "priority",
      streamId: 1,
      priority: { dependency: 1, exclusive: false, weight: 16 },
    });
    expectReset(c.read(), 1, E.PROTOCOL_ERROR);
  });
  test("a connection error sends GOAWAY with the last stream processed", () => {
    const c = withOpenStream();
    c.send({ type: "window_update", streamId: 0, increment: 0 });
    assert.equal(goaway(c, E.PROTOCOL_ERROR).lastStreamId, 1);
  });
  test("unknown frame types are ignored", () => {
    const c = new RawClient();
    c.send({ type: "unknown", frameType: 0x42, streamId: 0, flags: 0, payload: b("hello") });
    c.send({ type: "ping", ack: false, data: b("pingpong") });
    assert.deepEqual(c.read().map((f) => f.type), ["ping"]);
  });
  test("an unknown frame inside a header block is a PROTOCOL_ERROR", () => {
    const c = new RawClient();
    const block = c.encoder.encode(GET);
    c.send({
      type: "headers",
      streamId: 1,
      block: block.subarray(0, 2),
      endStream: true,
      endHeaders: false,
    });
    c.send({ type: "unknown", frameType: 0x42, streamId: 1, flags: 0, payload: b("x") });
    goaway(c, E.PROTOCOL_ERROR);
  });
});

describe("6.x frame definitions", () => {
  test("6.2 HEADERS then DATA before the header block ends", () => {
    const c = new RawClient();
    const block = c.encoder.encode(GET);
    c.send({
      type: "headers",
      streamId: 1,
      block: block.subarray(0, 2),
      endStream: false,
      endHeaders: false,
    });
    c.send(data(1, "x"));
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("6.2 HEADERS + CONTINUATION assemble one block", () => {
    const c = new RawClient();
    const block = c.encoder.encode(GET);
    c.send(
      {
        type: "headers",
        streamId: 1,
        block: block.subarray(0, 1),
        endStream: true,
        endHeaders: false,
      },
      { type: "continuation", streamId: 1, block: block.subarray(1, 3), endHeaders: false },
      { type: "continuation", streamId: 1, block: block.subarray(3), endHeaders: true },
    );
    assert.equal(c.events.filter((e) => e.type === "request").length, 1);
  });
  test("6.10 CONTINUATION on another stream", () => {
    const c = new RawClient();
    const block = c.encoder.encode(GET);
    c.send({
      type: "headers",
      streamId: 1,
      block: block.subarray(0, 1),
      endStream: true,
      endHeaders: false,
    });
    c.send({ type: "continuation", streamId: 3, block: block.subarray(1), endHeaders: true });
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("6.10 CONTINUATION after END_HEADERS", () => {
    const c = withOpenStream();
    c.send({ type: "continuation", streamId: 1, block: unhex("82"), endHeaders: true });
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("6.4 RST_STREAM on an open stream closes it", () => {
    const c = withOpenStream();
    c.send({ type: "rst_stream", streamId: 1, code: E.CANCEL });
    assert.deepEqual(c.events.at(-1), { type: "reset", streamId: 1, code: E.CANCEL, remote: true });
  });
  test("6.5 SETTINGS is acknowledged; unknown settings are ignored", () => {
    const c = new RawClient();
    c.send({ type: "settings", ack: false, settings: [[0x99, 1234], [3, 10]] });
    const frames = c.read();
    assert.deepEqual(frames, [{ type: "settings", ack: true, settings: [] }]);
    assert.equal(c.server.remoteSettings.maxConcurrentStreams, 10);
  });
  const badSettings: [string, number, number, number][] = [
    ["SETTINGS_ENABLE_PUSH of 2", 2, 2, E.PROTOCOL_ERROR],
    ["SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", 4, 2 ** 31, E.FLOW_CONTROL_ERROR],
    ["SETTINGS_MAX_FRAME_SIZE below 16384", 5, 16383, E.PROTOCOL_ERROR],
    ["SETTINGS_MAX_FRAME_SIZE above 2^24-1", 5, 2 ** 24, E.PROTOCOL_ERROR],
    ["SETTINGS_ENABLE_CONNECT_PROTOCOL of 2", 8, 2, E.PROTOCOL_ERROR],
  ];
  for (const [name, id, value, code] of badSettings) {
    test(`6.5.2 ${name}`, () => {
      const c = new RawClient();
      c.send({ type: "settings", ack: false, settings: [[id, value]] });
      goaway(c, code);
    });
  }
  test("6.7 PING is answered with the same data; a PING ACK is not", () => {
    const c = new RawClient();
    c.send({ type: "ping", ack: false, data: b("12345678") });
    c.send({ type: "ping", ack: true, data: b("abcdefgh") });
    assert.deepEqual(c.read(), [{ type: "ping", ack: true, data: b("12345678") }]);
  });
  test("6.8 GOAWAY from the client is reported", () => {
    const c = new RawClient();
    c.send({ type: "goaway", lastStreamId: 0, code: E.NO_ERROR, debug: b("bye") });
    assert.deepEqual(c.events.at(-1), { type: "goaway", lastStreamId: 0, code: 0, debug: "bye" });
  });
  test("6.9 WINDOW_UPDATE of 0 on a stream is a stream error", () => {
    const c = withOpenStream();
    c.send({ type: "window_update", streamId: 1, increment: 0 });
    expectReset(c.read(), 1, E.PROTOCOL_ERROR);
  });
  test("6.9 WINDOW_UPDATE of 0 on the connection is a connection error", () => {
    const c = new RawClient();
    c.send({ type: "window_update", streamId: 0, increment: 0 });
    goaway(c, E.PROTOCOL_ERROR);
  });
  test("6.9.1 a connection window above 2^31-1", () => {
    const c = new RawClient();
    c.send({ type: "window_update", streamId: 0, increment: 0x7fffffff });
    goaway(c, E.FLOW_CONTROL_ERROR);
  });
  test("6.9.1 a stream window above 2^31-1", () => {
    const c = withOpenStream();
    c.send({ type: "window_update", streamId: 1, increment: 0x7fffffff });
    expectReset(c.read(), 1, E.FLOW_CONTROL_ERROR);
  });
  test("6.9.1 DATA beyond the stream window", () => {
    const c = new RawClient({ settings: { initialWindowSize: 65535, maxFrameSize: 100000 } });
    c.send(c.headers(1, [[":method", "POST"], ...GET.slice(1)], false));
    c.send(data(1, "x".repeat(65536)));
    expectReset(c.read(), 1, E.FLOW_CONTROL_ERROR);
  });
  test("6.9.1 DATA beyond the connection window", () => {
    const c = new RawClient({
      connectionWindowSize: 65535,
      settings: { initialWindowSize: 1 << 20, maxFrameSize: 100000 },
    });
    c.send(c.headers(1, [[":method", "POST"], ...GET.slice(1)], false));
    c.send(data(1, "x".repeat(65536)));
    goaway(c, E.FLOW_CONTROL_ERROR);
  });
  test("6.9.2 SETTINGS_INITIAL_WINDOW_SIZE changes open streams' windows, even below zero", () => {
    const c = withOpenStream();
    c.server.sendHeaders(1, [[":status", "200"]], false);
    c.server.sendData(1, new Uint8Array(1000));
    c.read();
    c.send({ type: "settings", ack: false, settings: [[4, 500]] });
    assert.equal(c.server.sendWindow(1), 0); // 500 - 1000 = -500
    c.server.sendData(1, b("more"));
    assert.deepEqual(c.read().filter((f) => f.type === "data"), []);
    c.send({ type: "window_update", streamId: 1, increment: 504 });
    const sent = c.read().filter((f) => f.type === "data");
    assert.equal(sent.length, 1);
  });
  test("6.9.2 a SETTINGS_INITIAL_WINDOW_SIZE that overflows a stream window", () => {
    const c = withOpenStream();
    c.send({ type: "window_update", streamId: 1, increment: 0x7fffffff - 65535 });
    c.send({ type: "settings", ack: false, settings: [[4, 65536]] });
    goaway(c, E.FLOW_CONTROL_ERROR);
  });
  test("push is refused: PUSH_PROMISE from a client", () => {
    const c = withOpenStream();
    c.send({
      type: "push_promise",
      streamId: 1,
      promisedStreamId: 2,
      block: unhex("82"),
      endHeaders: true,
    });
    goaway(c, E.PROTOCOL_ERROR);
  });
});

describe("8.1-8.3 malformed messages are stream errors", () => {
  const cases: [string, [string, string][], boolean?][] = [
    ["an uppercase header name", [...GET, ["X-Upper", "1"]]],
    ["a pseudo-header after a regular field", [GET[0], GET[1], ["x-a", "1"], GET[2]]],
    ["an unknown pseudo-header", [...GET, [":foo", "bar"]]],
    ["a response pseudo-header in a request", [...GET, [":status", "200"]]],
    ["a duplicated pseudo-header", [...GET, [":path", "/again"]]],
    ["no :method", GET.slice(1)],
    ["no :scheme", [GET[0], GET[2], GET[3]]],
    ["no :path", [GET[0], GET[1], GET[3]]],
    ["an empty :path", [GET[0], GET[1], [":path", ""], GET[3]]],
    ["a connection header", [...GET, ["connection", "keep-alive"]]],
    ["a transfer-encoding header", [...GET, ["transfer-encoding", "chunked"]]],
    ["te other than trailers", [...GET, ["te", "gzip"]]],
    ["a value with a newline", [...GET, ["x-a", "1\n2"]]],
    ["a value with leading space", [...GET, ["x-a", " 1"]]],
    ["CONNECT with :path", [[":method", "CONNECT"], [":authority", "a:443"], [":path", "/"]]],
    ["CONNECT without :authority", [[":method", "CONNECT"]]],
    ["an extended CONNECT when it was not enabled", [
      [":method", "CONNECT"],
      [":protocol", "websocket"],
      GET[1],
      GET[2],
      GET[3],
    ]],
  ];
  for (const [name, fields] of cases) {
    test(name, () => {
      const c = new RawClient();
      c.send(c.headers(1, fields));
      expectReset(c.read(), 1, E.PROTOCOL_ERROR);
      assert.equal(c.events.filter((e) => e.type === "request").length, 0);
    });
  }
  test("content-length larger than the DATA", () => {
    const c = new RawClient();
    c.send(c.headers(1, [[":method", "POST"], ...GET.slice(1), ["content-length", "10"]], false));
    c.send(data(1, "12345", true));
    expectReset(c.read(), 1, E.PROTOCOL_ERROR);
  });
  test("content-length smaller than the DATA", () => {
    const c = new RawClient();
    c.send(c.headers(1, [[":method", "POST"], ...GET.slice(1), ["content-length", "2"]], false));
    c.send(data(1, "12345"));
    expectReset(c.read(), 1, E.PROTOCOL_ERROR);
  });
  test("trailers without END_STREAM", () => {
    const c = withOpenStream();
    c.send(c.headers(1, [["x-t", "1"]], false));
    expectReset(c.read(), 1, E.PROTOCOL_ERROR);
  });
  test("trailers with a pseudo-header", () => {
    const c = withOpenStream();
    c.send(c.headers(1, [[":path", "/"]], true));
    expectReset(c.read(), 1, E.PROTOCOL_ERROR);
  });
  test("plain CONNECT and OPTIONS * are well-formed", () => {
    const c = new RawClient();
    c.send(c.headers(1, [[":method", "CONNECT"], [":authority", "example.test:443"]], false));
    c.send(c.headers(3, [[":method", "OPTIONS"], [":scheme", "https"], [":path", "*"], GET[3]]));
    assert.equal(c.events.filter((e) => e.type === "request").length, 2);
  });
  test("RFC 8441 extended CONNECT once SETTINGS_ENABLE_CONNECT_PROTOCOL was sent", () => {
    const c = new RawClient({ settings: { enableConnectProtocol: true } });
    c.send(
      c.headers(1, [[":method", "CONNECT"], [":protocol", "websocket"], [":scheme", "https"], [
        ":path",
        "/chat",
      ], [":authority", "a"]], false),
    );
    const req = c.events.find((e) => e.type === "request");
    assert.deepEqual((req as { pseudo: unknown }).pseudo, {
      method: "CONNECT",
      protocol: "websocket",
      scheme: "https",
      path: "/chat",
      authority: "a",
    });
  });
  test("a malformed stream leaves the connection and the HPACK state usable", () => {
    const c = new RawClient();
    const enc: HpackEncoder = c.encoder;
    c.send(c.headers(1, [...GET, ["X-Upper", "1"], ["x-indexed", "kept"]]));
    c.send({
      type: "headers",
      streamId: 3,
      block: enc.encode([...GET, ["x-indexed", "kept"]]),
      endStream: true,
      endHeaders: true,
    });
    const req = c.events.find((e) => e.type === "request");
    assert.deepEqual((req as { headers: unknown }).headers, [["x-indexed", "kept"]]);
  });
});
