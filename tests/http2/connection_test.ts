/**
 * A client and a server connection talking to each other in memory: the handshake, requests
 * and responses with bodies and trailers, CONTINUATION, flow control driven by the caller,
 * PING, GOAWAY and resets. Also fed whole, byte by byte and in odd chunks.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ErrorCode,
  HpackEncoder,
  Http2Connection,
  type Http2Event,
  Http2UsageError,
  PREFACE,
} from "../../src/http2/mod.ts";
import { b, byteByByte, concat, framesOut, GET, pump, RawClient } from "./helpers.ts";

function pair(
  clientOpts: ConstructorParameters<typeof Http2Connection>[0] extends infer O ? Partial<O>
    : never = {},
  serverOpts: Partial<ConstructorParameters<typeof Http2Connection>[0]> = {},
) {
  const client = new Http2Connection({ role: "client", ...clientOpts });
  const server = new Http2Connection({ role: "server", ...serverOpts });
  const ce: Http2Event[] = [];
  const se: Http2Event[] = [];
  pump(client, server, ce, se);
  return { client, server, ce, se };
}

/** Event types and stream ids, for compact comparisons. */
function kinds(events: Http2Event[]): string[] {
  return events.map((e) => ("streamId" in e ? `${e.type}:${e.streamId}` : e.type));
}

function text(events: Http2Event[], streamId: number): string {
  return events
    .filter((e): e is Http2Event & { type: "data" } => e.type === "data" && e.streamId === streamId)
    .map((e) => String.fromCharCode(...e.data))
    .join("");
}

describe("handshake", () => {
  test("both sides exchange SETTINGS and acknowledge them", () => {
    const { client, server, ce, se } = pair({}, { settings: { maxConcurrentStreams: 7 } });
    assert.deepEqual(kinds(ce).sort(), ["settings", "settingsAcked"]);
    assert.deepEqual(kinds(se).sort(), ["settings", "settingsAcked"]);
    assert.equal(client.remoteSettings.maxConcurrentStreams, 7);
    assert.equal(client.remoteSettings.enablePush, false); // a server may only send 0
    assert.equal(server.remoteSettings.enablePush, false); // clients here never accept push
  });
  test("the server waits for the whole preface, fed byte by byte", () => {
    const client = new Http2Connection({ role: "client" });
    const server = new Http2Connection({ role: "server" });
    const bytes = client.dataToSend();
    const events: Http2Event[] = [];
    for (const c of byteByByte(bytes)) events.push(...server.receive(c));
    assert.deepEqual(kinds(events), ["settings"]);
  });
});

describe("requests and responses", () => {
  test("GET, response with a body and trailers", () => {
    const { client, server } = pair();
    const id = client.request(GET, true);
    assert.equal(id, 1);
    const se: Http2Event[] = [];
    const ce: Http2Event[] = [];
    pump(client, server, ce, se);
    const req = se.find((e) => e.type === "request");
    assert.deepEqual(req, {
      type: "request",
      streamId: 1,
      pseudo: { method: "GET", scheme: "http", path: "/", authority: "example.test" },
      headers: [],
      endStream: true,
    });
    server.sendHeaders(1, [[":status", "200"], ["content-type", "text/plain"]], false);
    server.sendData(1, b("hello "));
    server.sendData(1, b("world"));
    server.sendTrailers(1, [["grpc-status", "0"]]);
    pump(client, server, ce, se);
    assert.deepEqual(kinds(ce), ["response:1", "data:1", "data:1", "trailers:1"]);
    const res = ce[0] as Http2Event & { type: "response" };
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers, [["content-type", "text/plain"]]);
    assert.equal(text(ce, 1), "hello world");
    assert.deepEqual((ce[3] as { headers: unknown }).headers, [["grpc-status", "0"]]);
    assert.equal(client.activeStreams, 0);
    assert.equal(server.activeStreams, 0);
  });

  test("POST with a body, request trailers, informational response, many streams", () => {
    const { client, server } = pair();
    const se: Http2Event[] = [];
    const ce: Http2Event[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const id = client.request([[":method", "POST"], [":scheme", "https"], [":path", `/u${i}`], [
        ":authority",
        "a",
      ]], false);
      client.sendData(id, b(`body${i}`));
      client.sendTrailers(id, [["x-checksum", String(i)]]);
      ids.push(id);
    }
    assert.deepEqual(ids, [1, 3, 5, 7, 9]);
    pump(client, server, ce, se);
    for (const id of ids) {
      assert.equal(text(se, id), `body${(id - 1) / 2}`);
      assert.ok(se.some((e) => e.type === "trailers" && e.streamId === id));
      server.sendHeaders(id, [[":status", "100"]], false);
      server.sendHeaders(id, [[":status", "204"]], true);
    }
    pump(client, server, ce, se);
    const statuses = ce.filter((e) => e.type === "response").map((e) =>
      (e as { status: number }).status
    );
    assert.deepEqual(statuses, [100, 204, 100, 204, 100, 204, 100, 204, 100, 204]);
  });

  test("a header list larger than a frame goes out as HEADERS + CONTINUATION", () => {
    const { client, server } = pair();
    client.request([...GET, ["x-big", "v".repeat(40000)]], true);
    const frames = framesOut(client);
    assert.deepEqual(frames.map((f) => f.type), ["headers", "continuation", "continuation"]);
    const se = server.receive(concatFrames(frames));
    const req = se.find((e) => e.type === "request") as Http2Event & { type: "request" };
    assert.equal(req.headers[0][1].length, 40000);
  });

  test("the same events come out whole, byte by byte and in odd chunks", () => {
    const run = (split: (b: Uint8Array) => Iterable<Uint8Array>) => {
      const { client, server } = pair();
      const id = client.request([[":method", "POST"], [":scheme", "http"], [":path", "/"], [
        ":authority",
        "a",
      ]], false);
      client.sendData(id, new Uint8Array(40000).fill(7));
      client.sendTrailers(id, [["x-t", "1"]]);
      const out: string[] = [];
      let body = 0;
      for (const chunk of split(client.dataToSend())) {
        for (const e of server.receive(chunk)) {
          if (e.type === "data") body += e.data.length;
          else out.push(e.type);
        }
      }
      return { out, body };
    };
    const whole = run((x) => [x]);
    assert.deepEqual(whole, { out: ["request", "trailers"], body: 40000 });
    assert.deepEqual(run(byteByByte), whole);
    assert.deepEqual(run((x) => [x.subarray(0, 7), x.subarray(7, 1000), x.subarray(1000)]), whole);
  });
});

function concatFrames(frames: import("../../src/http2/mod.ts").Frame[]): Uint8Array {
  const parts = frames.map((f) => serialize(f));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
import { serializeFrame as serialize } from "../../src/http2/mod.ts";

describe("flow control", () => {
  test("WINDOW_UPDATE goes out only once the caller acknowledges the data", () => {
    const { client, server } = pair({
      settings: { initialWindowSize: 100000 },
      connectionWindowSize: 100000,
    });
    const id = client.request(GET, true);
    pump(client, server);
    server.sendHeaders(id, [[":status", "200"]], false);
    server.sendData(id, new Uint8Array(60000));
    const ce = client.receive(server.dataToSend());
    const got = ce.filter((e) => e.type === "data").reduce(
      (n, e) => n + (e as { data: Uint8Array }).data.length,
      0,
    );
    assert.equal(got, 60000);
    assert.deepEqual(
      framesOut(client).filter((f) => f.type === "window_update"),
      [],
      "nothing before acknowledgement",
    );
    client.acknowledgeData(id, 40000);
    assert.deepEqual(framesOut(client), [], "less than half a window owed: nothing yet");
    client.acknowledgeData(id, 20000);
    const updates = framesOut(client).filter((f) => f.type === "window_update");
    assert.deepEqual(updates.map((f) => (f as { streamId: number }).streamId).sort(), [0, id]);
  });

  test("a slow reader holds back its stream only; the sender queues and reports the stall", () => {
    const { client, server } = pair();
    const slow = client.request([...GET.slice(0, 2), [":path", "/slow"], GET[3]], true);
    const fast = client.request([...GET.slice(0, 2), [":path", "/fast"], GET[3]], true);
    pump(client, server);
    const size = 1024 * 1024;
    for (const id of [slow, fast]) {
      server.sendHeaders(id, [[":status", "200"]], false);
      assert.ok(server.sendData(id, new Uint8Array(size), true) > 0, "queued beyond the window");
    }
    const received = new Map<number, number>([[slow, 0], [fast, 0]]);
    let drainedFast = false;
    for (let round = 0; round < 100; round++) {
      const bytes = server.dataToSend();
      if (bytes.length === 0) break;
      for (const e of client.receive(bytes)) {
        if (e.type === "data") {
          received.set(e.streamId, received.get(e.streamId)! + e.data.length);
          if (e.streamId === fast) client.acknowledgeData(fast, e.data.length); // the slow one never
        }
      }
      for (const e of server.receive(client.dataToSend())) {
        if (e.type === "drained" && e.streamId === fast) drainedFast = true;
      }
    }
    assert.equal(received.get(fast), size, "the fast stream got everything");
    assert.ok(drainedFast, "drained reported for the fast stream");
    // The slow stream got exactly its initial window (256 KiB) and is stalled.
    assert.equal(received.get(slow), 256 * 1024);
    assert.deepEqual(server.stalledStreams(), [slow]);
    assert.equal(server.sendWindow(slow), 0);
    assert.equal(server.queuedBytes(slow), size - 256 * 1024);
    // Acknowledging resumes it.
    client.acknowledgeData(slow, 256 * 1024);
    const ce: Http2Event[] = [];
    pump(client, server, ce, [], undefined, (e) => {
      if (e.type === "data") client.acknowledgeData(e.streamId, e.data.length);
    });
    assert.equal(text(ce, slow).length, size - 256 * 1024);
    assert.deepEqual(server.stalledStreams(), []);
  });

  test("data within the windows is never exceeded by a sender even when the peer lowers them", () => {
    const { client, server } = pair();
    const id = client.request(GET, true);
    pump(client, server);
    client.updateSettings({ initialWindowSize: 0 });
    pump(client, server);
    server.sendHeaders(id, [[":status", "200"]], false);
    server.sendData(id, b("blocked"), true);
    assert.equal(framesOut(server).filter((f) => f.type === "data").length, 0);
    assert.deepEqual(server.stalledStreams(), [id]);
  });
});

describe("PING, GOAWAY, RST_STREAM", () => {
  test("PING is answered; the answer arrives as pingAck", () => {
    const { client, server } = pair();
    client.ping(b("abcdefgh"));
    const ce: Http2Event[] = [];
    pump(client, server, ce);
    assert.deepEqual(ce, [{ type: "pingAck", data: b("abcdefgh") }]);
  });

  test("graceful GOAWAY: open streams finish, newer ones are not processed", () => {
    const { client, server } = pair();
    const first = client.request(GET, true);
    const se: Http2Event[] = [];
    pump(client, server, [], se);
    server.goAway(ErrorCode.NO_ERROR);
    // A request the client sent before it saw the GOAWAY is ignored by the server.
    client.request(GET, true);
    const late = server.receive(client.dataToSend());
    assert.deepEqual(kinds(late), []);
    const ce: Http2Event[] = [];
    pump(client, server, ce, se);
    assert.ok(ce.some((e) => e.type === "goaway" && e.lastStreamId === first));
    assert.ok(
      ce.some((e) => e.type === "reset" && e.streamId === 3 && e.code === ErrorCode.REFUSED_STREAM),
    );
    assert.throws(() => client.request(GET, true), Http2UsageError);
    assert.equal(server.closed, false, "stream 1 still open");
    server.sendHeaders(first, [[":status", "200"]], true);
    pump(client, server, ce, se);
    assert.ok(ce.some((e) => e.type === "response" && e.streamId === first));
    assert.equal(server.closed, true, "drained");
  });

  test("two-step graceful shutdown: 2^31-1 first keeps accepting, the second GOAWAY drains", () => {
    const { client, server } = pair();
    server.goAway(ErrorCode.NO_ERROR, "", 0x7fffffff);
    const id = client.request(GET, true); // in flight when the first GOAWAY left
    const se: Http2Event[] = [];
    const ce: Http2Event[] = [];
    pump(client, server, ce, se);
    assert.ok(se.some((e) => e.type === "request" && e.streamId === id), "still accepted");
    assert.equal(server.closed, false);
    server.goAway(); // now the real last stream id
    pump(client, server, ce, se);
    const goaways = ce.filter((e) => e.type === "goaway").map((e) =>
      (e as { lastStreamId: number }).lastStreamId
    );
    assert.deepEqual(goaways, [0x7fffffff, id]);
    server.sendHeaders(id, [[":status", "204"]], true);
    pump(client, server, ce, se);
    assert.equal(server.closed, true);
  });

  test("a reset stream reports to the other side and refuses further sends", () => {
    const { client, server } = pair();
    const id = client.request(GET, false);
    pump(client, server);
    client.reset(id, ErrorCode.CANCEL);
    const se: Http2Event[] = [];
    pump(client, server, [], se);
    assert.deepEqual(se, [{ type: "reset", streamId: id, code: ErrorCode.CANCEL, remote: true }]);
    assert.throws(() => server.sendHeaders(id, [[":status", "200"]], true), Http2UsageError);
  });

  test("frames in flight after our reset are ignored, and their bytes still count", () => {
    const { client, server } = pair();
    const id = client.request([[":method", "POST"], [":scheme", "http"], [":path", "/"], [
      ":authority",
      "a",
    ]], false);
    pump(client, server);
    server.reset(id, ErrorCode.CANCEL);
    client.sendData(id, new Uint8Array(1000)); // sent before the client saw the reset
    const se = server.receive(client.dataToSend());
    assert.deepEqual(se, []);
    assert.deepEqual(framesOut(server).filter((f) => f.type === "goaway"), []);
  });

  test("the client cannot open more streams than the server allows", () => {
    const { client } = pair({}, { settings: { maxConcurrentStreams: 2 } });
    client.request(GET, false);
    client.request(GET, false);
    assert.equal(client.canOpenStream, false);
    assert.throws(() => client.request(GET, false), /allows 2 concurrent streams/);
  });
});

describe("details", () => {
  test("a client refuses streams opened by the server (no push)", () => {
    const { client } = pair();
    const enc = new HpackEncoder();
    const bytes = serialize({
      type: "headers",
      streamId: 2,
      block: enc.encode([[":status", "200"]]),
      endStream: true,
      endHeaders: true,
    });
    const ev = client.receive(bytes);
    assert.equal(ev[0].type, "connectionError");
    assert.equal((ev[0] as { code: number }).code, ErrorCode.PROTOCOL_ERROR);
  });

  test("a client treats SETTINGS_ENABLE_PUSH = 1 from a server as a PROTOCOL_ERROR", () => {
    const { client } = pair();
    const ev = client.receive(serialize({ type: "settings", ack: false, settings: [[2, 1]] }));
    assert.deepEqual(ev.map((e) => e.type), ["connectionError"]);
  });

  test("outgoing names are lowercased; connection-specific fields are refused", () => {
    const { client, server } = pair();
    assert.throws(() => client.request([...GET, ["Connection", "close"]], true), Http2UsageError);
    assert.throws(() => client.request([...GET, ["te", "gzip"]], true), Http2UsageError);
    assert.equal(client.activeStreams, 0, "no stream left behind by a refused request");
    const id = client.request([...GET, ["X-Mixed-Case", "v"], ["te", "trailers"]], true);
    assert.equal(id, 1, "the refused requests used no stream id");
    const se: Http2Event[] = [];
    pump(client, server, [], se);
    const req = se.find((e) => e.type === "request") as Http2Event & { type: "request" };
    assert.deepEqual(req.headers, [["x-mixed-case", "v"], ["te", "trailers"]]);
  });

  test("a reset stream's unread bytes go back to the connection window", () => {
    const { client, server } = pair({}, { connectionWindowSize: 100000 });
    const post = [[":method", "POST"], ...GET.slice(1)] as [string, string][];
    const id = client.request(post, false);
    client.sendData(id, new Uint8Array(60000));
    server.receive(client.dataToSend()); // never acknowledged by the server's caller
    assert.deepEqual(framesOut(server).filter((f) => f.type === "window_update"), []);
    client.reset(id, ErrorCode.CANCEL);
    server.receive(client.dataToSend());
    const updates = framesOut(server).filter((f) => f.type === "window_update");
    assert.deepEqual(updates, [{ type: "window_update", streamId: 0, increment: 60000 }]);
    server.acknowledgeData(id, 60000); // late: ignored, not counted twice
    assert.deepEqual(framesOut(server), []);
  });

  test("sendData keeps views of the caller's bytes; dataToSend copies them out", () => {
    const { client, server } = pair();
    const id = client.request(GET, true);
    pump(client, server);
    server.sendHeaders(id, [[":status", "200"]], false);
    const body = b("abc");
    server.sendData(id, body, true);
    const out = server.dataToSend();
    body[0] = 0x78; // changing it afterwards does not change what was taken
    const ce = client.receive(out);
    assert.equal(text(ce, id), "abc");
  });

  test("takeChunks gives the same bytes as dataToSend, without the copy", () => {
    const run = (take: (c: Http2Connection) => Uint8Array) => {
      const { client, server } = pair();
      const id = client.request(GET, true);
      pump(client, server);
      server.sendHeaders(id, [[":status", "200"]], false);
      server.sendData(id, new Uint8Array(50000).fill(9), true);
      return take(server);
    };
    const whole = run((c) => c.dataToSend());
    const pieces = run((c) => {
      const chunks = c.takeChunks();
      assert.ok(chunks.length > 2, "frame headers and payload views");
      return concat(...chunks);
    });
    assert.deepEqual(pieces, whole);
  });

  test("before the peer acknowledges our larger window, updates follow the window it uses", () => {
    const c = new RawClient({}, false);
    c.sendBytes(PREFACE);
    c.send({ type: "settings", ack: false, settings: [] }); // and never an ACK of ours
    c.send(c.headers(1, [[":method", "POST"], ...GET.slice(1)], false));
    c.read();
    for (let i = 0; i < 4; i++) {
      c.send({ type: "data", streamId: 1, data: new Uint8Array(16383), endStream: false });
    }
    c.server.acknowledgeData(1, 4 * 16383);
    const updates = c.read().filter((f) => f.type === "window_update" && f.streamId === 1);
    assert.equal(updates.length, 1, "the stream's 64 KiB default window reopens");
  });
});
