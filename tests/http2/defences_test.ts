/**
 * Defences against known HTTP/2 attacks, each shown to stop the attack: rapid reset
 * (CVE-2023-44487), CONTINUATION floods (CVE-2024-27316 and kin), HPACK bombs, SETTINGS and
 * PING floods against a peer that does not read, empty DATA floods (CVE-2019-9518), zero-window
 * stalls and more streams than allowed.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, type Frame, HpackEncoder, Http2Connection } from "../../src/http2/mod.ts";
import { b, expectGoaway, GET, pump, RawClient } from "./helpers.ts";

const E = ErrorCode;

describe("rapid reset (CVE-2023-44487)", () => {
  test("opening and resetting streams in a burst ends the connection with ENHANCE_YOUR_CALM", () => {
    const c = new RawClient({ limits: { maxResetsInWindow: 50, resetWindowFrames: 1000 } });
    let id = 1;
    for (let i = 0; i < 100 && c.events.every((e) => e.type !== "connectionError"); i++, id += 2) {
      c.send(c.headers(id, GET, false), { type: "rst_stream", streamId: id, code: E.CANCEL });
    }
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
    const requests = c.events.filter((e) => e.type === "request").length;
    assert.ok(requests <= 51, `stopped after ${requests} streams`);
  });
  test("resets spread over many ordinary frames are fine", () => {
    const c = new RawClient({ limits: { maxResetsInWindow: 50, resetWindowFrames: 1000 } });
    let id = 1;
    for (let i = 0; i < 200; i++, id += 2) {
      c.send(c.headers(id, GET, true));
      c.server.sendHeaders(id, [[":status", "200"]], true);
      if (i % 10 === 0) {
        c.send(c.headers(id + 2, GET, false), {
          type: "rst_stream",
          streamId: id + 2,
          code: E.CANCEL,
        });
        id += 2;
      }
      c.read();
    }
    assert.equal(c.events.filter((e) => e.type === "connectionError").length, 0);
  });
  test("streams refused beyond the concurrency limit count as resets too", () => {
    const c = new RawClient({
      settings: { maxConcurrentStreams: 1 },
      limits: { maxResetsInWindow: 20 },
    });
    c.send(c.headers(1, GET, false));
    for (let id = 3; id < 100; id += 2) c.send(c.headers(id, GET, false));
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
  });
});

describe("CONTINUATION flood", () => {
  test("a header block growing past the byte cap ends the connection before it is decoded", () => {
    const c = new RawClient({ limits: { maxHeaderBlockBytes: 32 * 1024 } });
    c.send({
      type: "headers",
      streamId: 1,
      block: new Uint8Array(0),
      endStream: true,
      endHeaders: false,
    });
    const junk = new Uint8Array(16000).fill(0x41);
    for (let i = 0; i < 10; i++) {
      c.send({ type: "continuation", streamId: 1, block: junk, endHeaders: false });
    }
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
    assert.deepEqual(c.events.map((e) => e.type).slice(-1), ["connectionError"]);
    assert.equal(c.events.filter((e) => e.type === "request").length, 0);
  });
  test("endless empty CONTINUATION frames hit the frame cap", () => {
    const c = new RawClient({ limits: { maxHeaderBlockFrames: 16 } });
    const block = new HpackEncoder().encode(GET);
    c.send({ type: "headers", streamId: 1, block, endStream: true, endHeaders: false });
    const empty: Frame = {
      type: "continuation",
      streamId: 1,
      block: new Uint8Array(0),
      endHeaders: false,
    };
    for (let i = 0; i < 100; i++) c.send(empty);
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
  });
});

describe("HPACK bombs", () => {
  test("a small block decoding to a huge header list ends the connection", () => {
    const c = new RawClient({ settings: { maxHeaderListSize: 16384 } });
    // Index one 4 KB field, then refer to it 1000 times: 1 KB on the wire, 4 MB decoded.
    const enc = new HpackEncoder({ huffman: "never", shouldIndex: () => true });
    const first = enc.encode([...GET, ["x-bomb", "a".repeat(4000)]]);
    c.send({ type: "headers", streamId: 1, block: first, endStream: true, endHeaders: true });
    const refs = new Uint8Array(1000).fill(0xbe); // index 62: the newest entry
    c.send({
      type: "headers",
      streamId: 3,
      block: new Uint8Array([...enc.encode(GET), ...refs]),
      endStream: true,
      endHeaders: true,
    });
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
  });
  test("a dynamic table size update above our setting is a COMPRESSION_ERROR", () => {
    const c = new RawClient({ settings: { headerTableSize: 1024 } });
    const block = new Uint8Array([0x3f, 0xe1, 0x1f, 0x82]); // size update to 4000, then :method GET
    c.send({ type: "headers", streamId: 1, block, endStream: true, endHeaders: true });
    expectGoaway(c.read(), E.COMPRESSION_ERROR);
  });
});

describe("SETTINGS and PING floods", () => {
  test("PINGs from a peer that never reads our answers: ENHANCE_YOUR_CALM", () => {
    const c = new RawClient({ limits: { maxQueuedControlFrames: 100 } });
    const ping: Frame = { type: "ping", ack: false, data: b("flooding") };
    for (let i = 0; i < 200; i++) c.send(ping); // nobody calls dataToSend meanwhile
    assert.equal(c.events.filter((e) => e.type === "connectionError").length, 1);
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
  });
  test("SETTINGS from a peer that never reads our ACKs: ENHANCE_YOUR_CALM", () => {
    const c = new RawClient({ limits: { maxQueuedControlFrames: 100 } });
    for (let i = 0; i < 200; i++) c.send({ type: "settings", ack: false, settings: [[3, 100]] });
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
  });
  test("the same number of PINGs is fine when the answers are taken", () => {
    const c = new RawClient({ limits: { maxQueuedControlFrames: 100 } });
    for (let i = 0; i < 200; i++) {
      c.send({ type: "ping", ack: false, data: b("politely") });
      c.read();
    }
    assert.equal(c.events.filter((e) => e.type === "connectionError").length, 0);
  });
});

describe("empty DATA frames (CVE-2019-9518)", () => {
  test("a stream of empty DATA frames ends the connection", () => {
    const c = new RawClient({ limits: { maxEmptyDataFrames: 50 } });
    c.send(c.headers(1, [[":method", "POST"], ...GET.slice(1)], false));
    const empty: Frame = { type: "data", streamId: 1, data: new Uint8Array(0), endStream: false };
    for (let i = 0; i < 100; i++) c.send(empty);
    expectGoaway(c.read(), E.ENHANCE_YOUR_CALM);
  });
});

describe("zero-window stalls", () => {
  test("nothing is sent beyond the peer's window, and the stall is visible", () => {
    const client = new Http2Connection({
      role: "client",
      settings: { initialWindowSize: 0 },
      connectionWindowSize: 65535,
    });
    const server = new Http2Connection({ role: "server" });
    pump(client, server);
    const id = client.request(GET, true);
    pump(client, server);
    server.sendHeaders(id, [[":status", "200"]], false);
    assert.equal(server.sendWindow(id), 0);
    const queued = server.sendData(id, new Uint8Array(100000), true);
    assert.equal(queued, 100000);
    const ce = client.receive(server.dataToSend());
    assert.deepEqual(ce.map((e) => e.type), ["response"]);
    assert.deepEqual(server.stalledStreams(), [id]);
    // The caller decides what a stall means (a timer in the I/O layer): here, reset it.
    server.reset(id, E.CANCEL);
    assert.deepEqual(server.stalledStreams(), []);
  });
  test("a client that never acknowledges only ever receives one window", () => {
    const client = new Http2Connection({ role: "client" });
    const server = new Http2Connection({ role: "server" });
    pump(client, server);
    const id = client.request(GET, true);
    pump(client, server);
    server.sendHeaders(id, [[":status", "200"]], false);
    server.sendData(id, new Uint8Array(10 * 1024 * 1024), true);
    let got = 0;
    pump(client, server, [], [], undefined, (e) => {
      if (e.type === "data") got += e.data.length;
    });
    assert.equal(got, 256 * 1024, "the client's stream window, nothing more");
    assert.equal(server.queuedBytes(id), 10 * 1024 * 1024 - 256 * 1024);
  });
});
